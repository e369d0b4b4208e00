import Foundation
import MTCore
import MTTestSupport
import Testing

/// What the original tool left in a data directory: its CSVs in active_data get the hint to mend them, its
/// 2015 shelve archives are named until their JSON conversion sits beside them.
@Suite struct VerifyOriginalFilesTests {
    @Test func originalCSVsGetTheMendHint() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        let tab = f.layout.active + "/Demographic_29_10_2015.csv"
        let comma = f.layout.active + "/QOL_29_10_2015.csv"
        try FileSystem.writeAtomically(Array(("birthYear\tdate\tid\tparticipantDAO\tsession\n"
            + "1900\tThu, 27 Aug 2015 12:48:16 -0500\t6\t22\tPRE\n"
            + "1900\tThu, 27 Aug 2015 12:48:16 -0500\t7\n").utf8), to: tab, mode: 0o600)
        try FileSystem.writeAtomically(Array(("children,date,id,participantDAO,session\n"
            + "5,Tue, 25 Aug 2015 08:54:35 -0500,1,17,PRE\n"
            + "5,Tue, 25 Aug 2015 11:50:37 -0500,2,1,PRE\n").utf8), to: comma, mode: 0o600)
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        #expect(r.stdout.contains("csv-original: \(tab):3: written by the original tool: it is tab-separated"))
        #expect(r.stdout.contains("1 row(s) beyond mending (line 3)"))
        #expect(r.stdout.contains("csv-original: \(comma): written by the original tool: it has dates split by an unquoted comma, so tools that read RFC 4180 misread it; 2 row(s) mended in reading"))
        #expect(r.stdout.contains("fix: write a clean copy for analysts: mt stats mend \(comma) -o DIR"))
        // Mended rows are not reported as ragged.
        #expect(!r.stdout.contains("csv-columns: \(comma)"))
    }

    @Test func shelveArchiveIsAFindingUntilConverted() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        let shelve = f.layout.raw + "/OA_Aug_25_2015.raw.db"
        try FileSystem.writeAtomically([0x61, 0x15, 0x06, 0x00] + [UInt8](repeating: 0, count: 60), to: shelve, mode: 0o600)
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        #expect(r.stdout.contains("archive-shelve: \(shelve): OA_Aug_25_2015.raw.db is a 2015 raw archive of the original tool (scale OA): a Python 2 shelve file"))
        #expect(r.stdout.contains("mt-recover(1), SHELVE ARCHIVES"))
        #expect(r.stdout.contains("1 finding(s)"))

        // The conversion's JSON beside it (ids 1 and 2, already in the CSV): a note, and verify passes.
        let json = JSONWriter.bytes(.array([LabFixture.oa(1), LabFixture.oa(2)]))
        try FileSystem.writeAtomically(json, to: f.layout.raw + "/OA_Aug_25_2015_00_00_00.json", mode: 0o600)
        let after = try f.mt(["verify", "lab"])
        #expect(after.code == 0, "\(after.stdout)")
        #expect(after.stdout.contains("note: OA_Aug_25_2015.raw.db is a 2015 shelve archive that mt does not read; its JSON conversion OA_Aug_25_2015_….json is read instead"))
    }
}
