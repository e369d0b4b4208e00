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
        let r = try Run.mt(["scales", "check", "--json", file])
        #expect(r.code == 0, "\(r.stdout)\(r.stderr)")
        let v = try JSONParser.parse(Array(r.stdout.utf8)).arrayValues?.first
        #expect(v?["participant"] == .string("participantDAO"))
        #expect(v?["missing"] == .array([]) && v?["unknown"] == .array([]))
    }
}
