import Foundation
import MTCore
@testable import MTStats
import MTTestSupport
import Testing

/// Small files whose counts were worked out by hand.
enum Fixtures {
    static func catalogue() throws -> ScaleCatalogue {
        try ScaleCatalogue.load(path: Products.packageRoot + "/config/scales.yaml")
    }

    /// 5 entries, 3 participants, 1 duplicate (101 PRE twice, no tag), 555 valid, 7 and 9 out of range.
    static let oa1 = """
        anxious_freq,anxious_sev,avoid,date,id,interfere,interfere_social,participantRSA,session,tag\r
        1,2,555,"Tue, 03 Apr 2018 14:05:09 -0400",1,0,4,101,PRE,\r
        1,,3,"Wed, 04 Apr 2018 10:00:00 -0400",2,0,9,101,PRE,\r
        2,2,2,"Thu, 05 Apr 2018 10:00:00 -0400",3,1,1,102,PRE,\r
        0,0,7,"Mon, 07 May 2018 10:00:00 -0400",4,,1,102,SESSION1,\r
        ,,,"Mon, 07 May 2018 11:00:00 -0400",5,,,103,PRE,x\r

        """

    /// Another study version: columns in another order, the participant column renamed, a short row.
    static let oa2 = """
        participantDAO,session,tag,id,anxious_freq,date\r
        104,POST,,6,3,"Fri, 01 Jun 2018 09:00:00 +0000"\r
        105,POST,,7\r

        """
}

@Suite struct StatsSummaryTests {
    @Test func handComputedCountsOfOneFile() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("OA_Apr_03_2018.csv", Fixtures.oa1)
        let s = try StatsSummarizer.summarize(ScaleFiles(scale: "OA", files: [f]), catalogue: Fixtures.catalogue())
        #expect(s.entries == 5)
        #expect(s.participants == 3)
        #expect(s.duplicates == 1)
        #expect(s.identity == "participantRSA + session + tag")
        let missing = Dictionary(uniqueKeysWithValues: zip(s.columns, s.missing))
        #expect(missing == ["anxious_freq": 1, "anxious_sev": 2, "avoid": 1, "date": 0, "id": 0, "interfere": 2,
                            "interfere_social": 1, "participantRSA": 0, "session": 0, "tag": 4])
        var range: [String: Int] = [:]
        for (c, n) in zip(s.columns, s.outOfRange) { if let n { range[c] = n } }
        #expect(range == ["anxious_freq": 0, "anxious_sev": 0, "avoid": 1, "interfere": 0, "interfere_social": 1])
        #expect(s.sessions.map(\.0) == ["PRE", "SESSION1"])
        #expect(s.sessions.map(\.1) == [4, 1])
        #expect(s.firstDate.map(EntryDate.iso) == "2018-04-03T18:05:09Z")
        #expect(s.lastDate.map(EntryDate.iso) == "2018-05-07T15:00:00Z")
        #expect(s.warnings.isEmpty)
    }

    @Test func filesOfOneScaleAreCombinedByColumnName() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let a = try dir.write("OA_Apr_03_2018.csv", Fixtures.oa1)
        let b = try dir.write("OA_Jun_01_2018.csv", Fixtures.oa2)
        let s = try StatsSummarizer.summarize(ScaleFiles(scale: "OA", files: [a, b]), catalogue: Fixtures.catalogue())
        #expect(s.entries == 7)
        #expect(s.participants == 5) // participantRSA in one file, participantDAO in the other
        #expect(s.duplicates == 1)
        #expect(s.columns.last == "participantDAO")
        let missing = Dictionary(uniqueKeysWithValues: zip(s.columns, s.missing))
        #expect(missing["anxious_freq"] == 2) // one empty, one absent from the short row
        #expect(missing["anxious_sev"] == 4)  // the second file has no such column
        #expect(missing["date"] == 1)
        #expect(missing["participantRSA"] == 2)
        #expect(missing["participantDAO"] == 5)
        #expect(missing["tag"] == 6)
        #expect(s.sessions.map(\.0) == ["PRE", "SESSION1", "POST"])
        #expect(s.lastDate.map(EntryDate.iso) == "2018-06-01T09:00:00Z")
        #expect(s.warnings.contains { $0.contains("participantRSA") && $0.contains("participantDAO") && $0.contains("renamed") })
        #expect(s.warnings.contains { $0.contains("OA_Jun_01_2018.csv") && $0.contains("shorter than the header") && $0.contains("line 3") })
    }

    @Test func jsonHasExactlyTheDocumentedKeys() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("OA_Apr_03_2018.csv", Fixtures.oa1)
        let s = try StatsSummarizer.summarize(ScaleFiles(scale: "OA", files: [f]), catalogue: Fixtures.catalogue())
        #expect(s.json.objectFields?.map(\.0) == ["scale", "entries", "participants", "duplicates", "missing", "outOfRange",
                                                  "sessions", "firstDate", "lastDate"])
        #expect(s.json["sessions"] == .object([("PRE", .number("4")), ("SESSION1", .number("1"))]))
    }

    @Test func identityRuleFollowsTheColumnsPresent() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let cat = try Fixtures.catalogue()
        func rule(_ header: String) throws -> String {
            let f = try dir.write("X_1.csv", header + "\r\n")
            return IdentityRule(table: try StatsTable(ScaleFiles(scale: "X", files: [f]), catalogue: cat)).description
        }
        #expect(try rule("participantId,session,tag,sessionId") == "participantId + session + tag + sessionId")
        #expect(try rule("participantId,session,tag") == "participantId + session + tag")
        #expect(try rule("participantId,session,trial_index") == "participantId + session + trial_index")
        #expect(try rule("participantId,session") == "participantId + session")
        #expect(try rule("participantId,tag") == "participantId")
        #expect(try rule("participant_id,session") == "participant_id + session")
    }

    /// Issue 25: TaskLog's identity is participant, session and task, its dates are `date_completed`; the
    /// participant table is the study design's, not "not in the scale catalogue"; `tag` never counts as missing.
    @Test func theStudyDesignsTablesAndItemOnlyMissingShares() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let cat = try Fixtures.catalogue()
        let design = try StudyDesign.load(catalogue: cat)
        let log = try dir.write("TaskLog_Jan_01_2020.csv", """
            date_completed,id,participantdao_id,session_name,task_name
            "Mon, 06 Jan 2020 10:00:00 +0000",1,7,PRE,OA
            "Mon, 06 Jan 2020 10:05:00 +0000",2,7,PRE,DASS21_AS
            "Tue, 07 Jan 2020 10:00:00 +0000",3,7,SESSION1,OA
            "Tue, 07 Jan 2020 11:00:00 +0000",4,7,SESSION1,OA

            """)
        let t = try StatsSummarizer.summarize(ScaleFiles(scale: "TaskLog", files: [log]), catalogue: cat, design: design)
        #expect(t.identity == "participantdao_id + session_name + task_name")
        #expect(t.duplicates == 1)
        #expect(t.firstDate.map(EntryDate.iso) == "2020-01-06T10:00:00Z")
        #expect(t.sessions.map(\.0) == ["PRE", "SESSION1"])
        #expect(t.role == .taskLog && t.warnings.isEmpty, "\(t.warnings)")
        let people = try dir.write("ParticipantExportDAO_Jan_01_2020.csv", "id,admin,cbmCondition\r\n1,0,POSITIVE\r\n")
        let p = try StatsSummarizer.summarize(ScaleFiles(scale: "ParticipantExportDAO", files: [people]), catalogue: cat, design: design)
        #expect(p.role == .participantTable && p.warnings.isEmpty, "\(p.warnings)")
        #expect(p.participants == 1 && p.duplicates == 0)
        #expect(StudyReport.shares(p).missing == nil)
        #expect(String(decoding: StatsSummaryText.table([p]), as: UTF8.self).hasPrefix("ParticipantExportDAO  (1 file), the study's participant table\n"))
        // Two OA entries, every tag empty, one item missing of ten: 10%, not the 5 tags' share.
        let oa = try dir.write("OA_Jan_01_2020.csv", """
            anxious_freq,anxious_sev,avoid,interfere,interfere_social,participant,session,tag\r
            1,2,3,4,,7,PRE,\r
            1,2,3,4,0,8,PRE,\r

            """)
        let o = try StatsSummarizer.summarize(ScaleFiles(scale: "OA", files: [oa]), catalogue: cat, design: design)
        #expect(StudyReport.shares(o).missing == 0.1)
        #expect(StudyReport.overview([o]).contains("<td>10%</td>"))
    }

    /// The report's timeline spans where the data is, and its caption says what it left out.
    @Test func timelineFollowsTheData() throws {
        var perDay: [Int: Int] = [:]
        for d in 17_600..<17_700 { perDay[d] = 10 }  // 2018: 1,000 entries
        perDay[20_700] = 3                          // 2026: three late arrivals
        let w = StatsReport.window(perDay)!
        #expect(w.lo == 17_600 && w.hi == 17_699 && w.before == 0 && w.after == 3)
        let two = StatsReport.window([5: 1, 900: 1])! // two entries: nothing to leave out
        #expect(two.lo == 5 && two.hi == 900 && two.before + two.after == 0)
        var s = ScaleSummary(scale: "OA", files: [], columns: [], identity: "", isItem: [], missing: [], outOfRange: [])
        s.perDay = perDay
        s.entries = 1003
        let html = StatsReport.section(s, catalogue: try Fixtures.catalogue())
        #expect(html.contains("left out: 3 entries after 2018-06-17 (all entries: 2018-03-10 … 2026-09-04)"), "\(html)")
        #expect(!html.contains("2026-09</text>"))
    }

    @Test func quirksAreWarningsNeverCrashes() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let cipher = String(repeating: "QUJD", count: 86) // 344 base64 characters: a 2048-bit RSA block
        let dd = try dir.write("DD_Jan_01_2020.csv", """
            id,participantRSA,monday_count,q1_noAns,session,date\r
            1,\(cipher),50,\u{01},PRE,"Mon, 06 Jan 2020 10:00:00 +0000"\r
            2,7,555,true,PRE,not a date\r
            3,8,101,false,PRE,,surplus\r
            4,9,-1,\u{01},POST,"Tue, 07 Jan 2020 10:00:00 +0000"\r

            """)
        let s = try StatsSummarizer.summarize(ScaleFiles(scale: "DD", files: [dd]), catalogue: Fixtures.catalogue())
        #expect(s.entries == 4)
        var range: [String: Int] = [:]
        for (c, n) in zip(s.columns, s.outOfRange) { if let n { range[c] = n } }
        #expect(range["monday_count"] == 2) // 101 and -1 are outside 0–100 (DD's code is 555 only)
        #expect(range["q1_noAns"] == 0)  // \001 is read as true
        let text = s.warnings.joined(separator: "\n")
        #expect(text.contains("participantRSA holds RSA ciphertext left undecrypted"))
        #expect(text.contains("q1_noAns: 2 cells hold the byte \\001"))
        #expect(text.contains("rows longer than the header"))
        #expect(text.contains("dates that are not"))
        #expect(s.firstDate.map(EntryDate.iso) == "2020-01-06T10:00:00Z")

        // -1 is r34 DASS's "prefer not to answer" code: valid for range checks.
        let dass = try dir.write("DASS21_AS_Jan_01_2020.csv", "participantId,session,breathing,worry\r\n1,PRE,-1,3\r\n2,PRE,4,-2\r\n")
        let d = try StatsSummarizer.summarize(ScaleFiles(scale: "DASS21_AS", files: [dass]),
                                              catalogue: Fixtures.catalogue().resolved(for: Study("r34")))
        #expect(d.outOfRange == [nil, nil, 1, 1])
        // r01 and kaiser: 555 instead, and over18 (metadata) is never range-checked.
        let r01 = try dir.write("DASS21_AS_Jan_02_2020.csv", "participant,session,over18,breathing,worry\r\n1,ELIGIBLE,true,555,3\r\n2,PRE,N/A,-1,2\r\n")
        let e = try StatsSummarizer.summarize(ScaleFiles(scale: "DASS21_AS", files: [r01]), catalogue: Fixtures.catalogue())
        #expect(e.outOfRange == [nil, nil, nil, 1, 0])
    }

    @Test func blankLinesAreNotEntriesAndAnUnknownScaleIsNotRangeChecked() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("Mystery_2020.csv", "participant,session,x\n1,PRE,9\n\n2,PRE,\n")
        let s = try StatsSummarizer.summarize(ScaleFiles(scale: "Mystery", files: [f]), catalogue: Fixtures.catalogue())
        #expect(s.entries == 2)
        #expect(s.outOfRange == [nil, nil, nil])
        #expect(s.missing == [0, 0, 1])
        #expect(s.warnings.contains { $0.contains("not in the scale catalogue") })
    }

    @Test func datesParseInBothFormats() {
        #expect(EntryDate.parse("Tue, 03 Apr 2018 14:05:09 -0400").map(EntryDate.iso) == "2018-04-03T18:05:09Z")
        #expect(EntryDate.parse("03 Apr 2018 14:05:09 GMT").map(EntryDate.iso) == "2018-04-03T14:05:09Z")
        #expect(EntryDate.parse("2018-04-03T14:05:09Z").map(EntryDate.iso) == "2018-04-03T14:05:09Z")
        #expect(EntryDate.parse("2018-04-03 14:05:09+02:00").map(EntryDate.iso) == "2018-04-03T12:05:09Z")
        #expect(EntryDate.parse("Sat, 29 Feb 2020 23:59:59 +0000").map(EntryDate.iso) == "2020-02-29T23:59:59Z")
        #expect(EntryDate.parse("Thu, 01 Jan 1970 00:00:00 +0000") == 0)
        #expect(EntryDate.parse("yesterday") == nil)
        #expect(EntryDate.parse("Tue, 03 Foo 2018 14:05:09 -0400") == nil)
    }

    @Test func rawRowsAgreeWithStringRowsOnTrickyInput() throws {
        let rows = [["a", "b", "c"], ["\"q\"", "x,y", "line\r\nbreak"], ["", "", ""], ["é中🙂", "a\"b", "end"], ["solo"]]
        var bytes: [UInt8] = []
        for r in rows { CSVWriter.appendRow(r, to: &bytes) }
        bytes += Array("lit\"eral,\"a\"b\n".utf8) // a stray quote is text; text after a closing quote is kept
        for chunk in [1, 2, 3, 5, 64] {
            let dir = try TempDir()
            defer { dir.remove() }
            let p = dir.file("t.csv")
            try FileSystem.writeAtomically(bytes, to: p)
            var reader = try CSVReader(path: p, chunkSize: chunk)
            defer { reader.close() }
            var raw = CSVRawRow()
            var back: [[String]] = []
            while try reader.next(raw: &raw) { back.append((0..<raw.count).map { raw.string($0)! }) }
            #expect(back == rows + [["lit\"eral", "ab"]], "chunk size \(chunk)")
        }
    }
}
