import Foundation
import MTCore
@testable import MTStats
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
        #expect(text == "participant,session,tag,SUM\r\n101,PRE,,8.75\r\n102,PRE,,8\r\n102,SESSION1,,10\r\n103,PRE,x,\r\n")
        #expect(r.rowsIn == 5 && r.rowsOut == 4)
        #expect(r.warnings.contains { $0.contains("score SUM is empty in 1 row(s): no item answered") })
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
        // NegativeFoil_Ave = mean(NF: 1), PositiveFoil_Ave = mean(PF: 2) (the R34 analysts' RRScore.R).
        #expect(text == "participant,session,Score,Negative_Ave,Positive_Ave,NegativeFoil_Ave,PositiveFoil_Ave\r\n1,PRE,1,2,3,1,2\r\n")
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
        // 103's answer is tagged x: its own column, next to its session's.
        #expect(lines[0] == "participant,OA_anxious_freq_PRE,OA_anxious_freq_PRE_x,OA_anxious_freq_SESSION1,OA_anxious_sev_PRE,OA_anxious_sev_PRE_x,OA_anxious_sev_SESSION1,OA_avoid_PRE,OA_avoid_PRE_x,OA_avoid_SESSION1,OA_interfere_PRE,OA_interfere_PRE_x,OA_interfere_SESSION1,OA_interfere_social_PRE,OA_interfere_social_PRE_x,OA_interfere_social_SESSION1")
        #expect(lines[1] == "101,1,,,2,,,555,,,0,,,4,,")
        #expect(lines[2] == "102,2,,0,2,,0,2,,7,1,,,1,,1")
        #expect(lines[3] == "103,,,,,,,,,,,,,,,")
        #expect(r.rowsOut == 3)
        let (scores, _) = try csv { try StatsTransforms.wide(ScaleFiles(scale: "OA", files: [f]), catalogue: Fixtures.catalogue(), scores: true, write: $0) }
        #expect(scores == "participant,OA_SUM_PRE,OA_SUM_PRE_x,OA_SUM_SESSION1\r\n101,8.75,,\r\n102,8,,10\r\n103,,,\r\n")
    }

    @Test func aTableWithoutParticipantCannotBeDeduplicated() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("OA_2020.csv", "session,avoid\r\nPRE,1\r\n")
        #expect(throws: MTError.self) {
            _ = try csv { try StatsTransforms.dedupe(ScaleFiles(scale: "OA", files: [f]), catalogue: Fixtures.catalogue(), keep: .first, write: $0) }
        }
    }
    /// r34 ELIGIBLE screenings: no participant, told apart by sessionId. One identity rule for dedupe, score
    /// and wide: dedupe keeps them apart; score and wide have no participant to put them under and say so.
    @Test func anonymousScreeningsAreKeptApartAndNeverFoldedIntoOneRow() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("DASS21_AS_2016.csv", """
            id,participant,session,tag,sessionId,dryness,breathing,trembling,worry,panic,heart,scared,over18\r
            1,,ELIGIBLE,,A1,1,1,1,1,1,1,1,true\r
            2,,ELIGIBLE,,B2,3,3,3,3,3,3,3,true\r
            3,9,ELIGIBLE,,C3,2,2,2,-1,2,2,2,false\r
            4,9,PRE,,,0,1,2,3,-2,1,0,N/A\r
            5,10,,,,1,1,1,1,1,1,1,N/A\r

            """)
        let source = ScaleFiles(scale: "DASS21_AS", files: [f])
        let r34 = try Fixtures.catalogue().resolved(for: Study("r34"))
        let (deduped, d) = try csv { try StatsTransforms.dedupe(source, catalogue: r34, keep: .first, write: $0) }
        #expect(d.rowsOut == 5 && deduped.components(separatedBy: "\r\n").count == 7)
        let (text, r) = try csv { try StatsTransforms.scores(source, catalogue: r34, write: $0) }
        // 9 ELIGIBLE: mean(2 × 6) = 2 (-1 is no answer) × 14 = 28, × 7 = 14; 9 PRE: (0+1+2+3+1+0) / 6 = 7/6
        // (-2: r34 counts only answers >= 0) × 14 = 16.333…, × 7 = 8.1666….
        #expect(text == "participant,session,tag,sessionId,eligibilityScore,SUM\r\n9,ELIGIBLE,,C3,28,14\r\n9,PRE,,,\(7.0 * 14 / 6),\(7.0 * 7 / 6)\r\n")
        #expect(r.warnings.contains { $0.contains("3 kept rows with an empty participant or session") })
        let (wide, w) = try csv { try StatsTransforms.wide(source, catalogue: r34, scores: true, write: $0) }
        #expect(wide.hasPrefix("participant,DASS21_AS_eligibilityScore_ELIGIBLE,DASS21_AS_eligibilityScore_PRE,"))
        #expect(!wide.contains("\r\n,") && wide.components(separatedBy: "\r\n").count == 3)
        #expect(w.rowsOut == 1)
    }

    @Test func exactSumsPrintTheShortestDecimal() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        // mean(3, 3, 2, 2, 2, 2, 3) × 7 as MTData computes it is 2.4285714285714284 × 7 = 16.999999999999996;
        // from the exact sum, 17 × 7 / 7 = 17. And 2.4 × 7: 12 × 7 / 5 = 16.8.
        let f = try dir.write("DASS21_AS_2018.csv", """
            participant,session,dryness,breathing,trembling,worry,panic,heart,scared\r
            1,PRE,3,3,2,2,2,2,3\r
            2,PRE,3,3,2,2,2,555,555\r

            """)
        let (text, _) = try csv { try StatsTransforms.scores(ScaleFiles(scale: "DASS21_AS", files: [f]), catalogue: Fixtures.catalogue(), write: $0) }
        #expect(text == "participant,session,eligibilityScore,SUM\r\n1,PRE,34,17\r\n2,PRE,33.6,16.8\r\n")
    }

    @Test func aZeroDenominatorIsAnEmptyCellAndAWarning() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("RR_2020.csv", "participantId,session,job_NS,job_NF,job_PS,job_PF\r\n1,PRE,2,0,0,0\r\n")
        let (text, r) = try csv { try StatsTransforms.scores(ScaleFiles(scale: "RR", files: [f]), catalogue: Fixtures.catalogue(), write: $0) }
        #expect(text == "participant,session,Score,Negative_Ave,Positive_Ave,NegativeFoil_Ave,PositiveFoil_Ave\r\n1,PRE,,2,0,0,0\r\n")
        #expect(r.warnings.contains { $0.contains("score Score is empty in 1 row(s): its denominator's mean is 0") })
    }

    @Test func anyColumnNamedParticipantIsTheParticipant() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("OA_2020.csv", "participant_id,session,anxious_freq,anxious_sev,avoid,interfere,interfere_social\r\n5,PRE,1,1,1,1,1\r\n5,PRE,2,2,2,2,2\r\n")
        let source = ScaleFiles(scale: "OA", files: [f])
        let (text, r) = try csv { try StatsTransforms.scores(source, catalogue: Fixtures.catalogue(), write: $0) }
        #expect(text == "participant,session,SUM\r\n5,PRE,5\r\n")
        #expect(r.warnings.contains { $0.contains("the participant column is participant_id") })
        let s = try StatsSummarizer.summarize(source, catalogue: Fixtures.catalogue())
        #expect(s.participants == 1 && s.duplicates == 1)
        // With no participant column at all the counts are unknown, not 0.
        let g = try dir.write("OA_2021.csv", "session,avoid\r\nPRE,1\r\n")
        let n = try StatsSummarizer.summarize(ScaleFiles(scale: "OA", files: [g]), catalogue: Fixtures.catalogue())
        #expect(n.participants == nil && n.duplicates == nil)
        #expect(n.json["duplicates"] == .null && n.json["participants"] == .null)
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
