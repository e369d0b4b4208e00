import Foundation
import MTCore
import MTTestSupport
import Testing

@Suite struct StatsTransformTests {
    func csv(_ body: (([UInt8]) throws -> Void) throws -> StatsTransforms.Result) throws -> (String, StatsTransforms.Result) {
        var out: [UInt8] = []
        let r = try body { out += $0 }
        return (String(decoding: out, as: UTF8.self), r)
    }

    @Test func scoresExcludeMissingCodesAndTakeOneEntryPerParticipantAndSession() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("OA_Apr_03_2018.csv", Fixtures.oa1)
        let (text, r) = try csv { try StatsTransforms.scores(ScaleFiles(scale: "OA", files: [f]), catalogue: Fixtures.catalogue(), write: $0) }
        // 101 PRE: mean(1,2,0,4) = 1.75 (555 left out) × 5 items; 102 SESSION1: mean(0,0,7,1) = 2 × 5; 103: nothing answered.
        #expect(text == "participant,session,SUM\r\n101,PRE,8.75\r\n102,PRE,8\r\n102,SESSION1,10\r\n103,PRE,\r\n")
        #expect(r.rowsIn == 5 && r.rowsOut == 4)
    }

    @Test func ratioScoresOfRR() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("RR_2020.csv", """
            participantId,session,blood_test_NS,elevator_NS,blood_test_NF,blood_test_PS,blood_test_PF\r
            1,PRE,2,-1,1,3,2\r

            """)
        let (text, _) = try csv { try StatsTransforms.scores(ScaleFiles(scale: "RR", files: [f]), catalogue: Fixtures.catalogue(), write: $0) }
        // Score = mean(NS: 2; -1 excluded) / mean(NF, PF, PS: 1, 2, 3) = 1; Negative_Ave = 2; Positive_Ave = 3.
        #expect(text == "participant,session,Score,Negative_Ave,Positive_Ave\r\n1,PRE,1,2,3\r\n")
    }

    @Test func aScaleWithoutScoresIsAUsageError() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("CC_2020.csv", "participantId,session,related\r\n1,PRE,3\r\n")
        #expect(throws: MTError.self) { _ = try csv { try StatsTransforms.scores(ScaleFiles(scale: "CC", files: [f]), catalogue: Fixtures.catalogue(), write: $0) } }
    }

    @Test func dedupeKeepsFirstExceptEligibleWhereTheLastCounts() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("Phq4_2020.csv", """
            id,participantId,session,tag,nervous\r
            1,7,ELIGIBLE,,1\r
            2,7,ELIGIBLE,,2\r
            3,7,PRE,,3\r
            4,7,PRE,,0\r
            5,8,PRE,,1\r

            """)
        let source = ScaleFiles(scale: "Phq4", files: [f])
        let (first, r) = try csv { try StatsTransforms.dedupe(source, catalogue: Fixtures.catalogue(), keep: .first, write: $0) }
        #expect(first == "id,participantId,session,tag,nervous\r\n2,7,ELIGIBLE,,2\r\n3,7,PRE,,3\r\n5,8,PRE,,1\r\n")
        #expect(r.rowsIn == 5 && r.rowsOut == 3)
        let (last, _) = try csv { try StatsTransforms.dedupe(source, catalogue: Fixtures.catalogue(), keep: .last, write: $0) }
        #expect(last == "id,participantId,session,tag,nervous\r\n2,7,ELIGIBLE,,2\r\n4,7,PRE,,0\r\n5,8,PRE,,1\r\n")
    }

    @Test func wideFormHasOneRowPerParticipant() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("OA_Apr_03_2018.csv", Fixtures.oa1)
        let (text, r) = try csv { try StatsTransforms.wide(ScaleFiles(scale: "OA", files: [f]), catalogue: Fixtures.catalogue(), scores: false, write: $0) }
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines[0] == "participant,OA_anxious_freq_PRE,OA_anxious_freq_SESSION1,OA_anxious_sev_PRE,OA_anxious_sev_SESSION1,OA_avoid_PRE,OA_avoid_SESSION1,OA_interfere_PRE,OA_interfere_SESSION1,OA_interfere_social_PRE,OA_interfere_social_SESSION1")
        #expect(lines[1] == "101,1,,2,,555,,0,,4,")
        #expect(lines[2] == "102,2,0,2,0,2,7,1,,1,1")
        #expect(lines[3] == "103,,,,,,,,,,")
        #expect(r.rowsOut == 3)
        let (scores, _) = try csv { try StatsTransforms.wide(ScaleFiles(scale: "OA", files: [f]), catalogue: Fixtures.catalogue(), scores: true, write: $0) }
        #expect(scores == "participant,OA_SUM_PRE,OA_SUM_SESSION1\r\n101,8.75,\r\n102,8,10\r\n103,,\r\n")
    }

    @Test func aTableWithoutParticipantCannotBeDeduplicated() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("OA_2020.csv", "session,avoid\r\nPRE,1\r\n")
        #expect(throws: MTError.self) {
            _ = try csv { try StatsTransforms.dedupe(ScaleFiles(scale: "OA", files: [f]), catalogue: Fixtures.catalogue(), keep: .first, write: $0) }
        }
    }
}

@Suite struct StatsEncodingTests {
    @Test func bytesThatAreNotUTF8StopTheOutputInsteadOfBeingReplaced() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = dir.file("MH_2020.csv")
        try FileSystem.writeAtomically(Array("participantId,session,text\r\n1,PRE,caf".utf8) + [0xE9] + Array("\r\n".utf8), to: p)
        do {
            _ = try StatsTransforms.dedupe(ScaleFiles(scale: "MH", files: [p]), catalogue: Fixtures.catalogue(), keep: .first) { _ in }
            Issue.record("expected an error")
        } catch let e as MTError {
            #expect(e.exitCode == .dataError && e.message.contains("MH_2020.csv: line 2") && e.message.contains("UTF-8"))
        }
        // The summary only counts: it goes through.
        let s = try StatsSummarizer.summarize(ScaleFiles(scale: "MH", files: [p]), catalogue: Fixtures.catalogue())
        #expect(s.entries == 1)
    }
}
