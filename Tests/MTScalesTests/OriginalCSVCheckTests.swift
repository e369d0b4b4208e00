import Foundation
import MTCore
import MTTestSupport
import Testing

/// `mt scales check` reads the original tool's tab-separated files with the tolerant reader: their header is
/// columns, not one long name.
@Suite struct OriginalCSVCheckTests {
    @Test func tabSeparatedHeaderIsSplitOnTabs() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let file = try dir.write("Demographic_29_10_2015.csv", [
            "birthYear\tcountry\tdate\teducation\temploymentStat\tethnicity\tgender\tid\tincome\tmaritalStat\tparticipantDAO\tsession",
            "1900\tÅland Islands\tThu, 27 Aug 2015 12:48:16 -0500\tElementary School\tWorking full-time\tHispanic or Latino\tFemale\t6\tLess than $5,000\tSingle\t22\tPRE",
        ].joined(separator: "\n") + "\n")
        let r = try Run.mt(["scales", "check", "--json", "--study", "r34", file])
        let v = try JSONParser.parse(Array(r.stdout.utf8)).arrayValues?.first
        #expect(v?["participant"] == .string("participantDAO"), "\(r.stdout)\(r.stderr)")
        // Split on tabs: the 2015 form's columns are checked one by one. Those the catalogue's (later) r34 class
        // names differently (country, employmentStat, maritalStat) are unknown; none is a tab-joined header.
        let unknown = (v?["unknown"]?.arrayValues ?? []).compactMap(\.stringValue)
        #expect(Set(unknown) == ["country", "employmentStat", "maritalStat"], "\(r.stdout)")
        #expect(r.code == 1)
    }
}
