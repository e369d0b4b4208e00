import Foundation
import MTCore
@testable import MTWithdraw
import Testing

@Suite struct WithdrawUnitTests {
    /// RFC 4231, test cases 1 and 2.
    @Test func hmacMatchesTheRFCVectors() {
        #expect(HMACSHA256.hex(key: [UInt8](repeating: 0x0B, count: 20), message: Array("Hi There".utf8))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(HMACSHA256.hex(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func theJournalRoundTripsAndRefusesDamage() throws {
        var plan = WithdrawalPlan()
        plan.entries = [.init(participant: String(repeating: "a", count: 64), scale: "OA", id: 7, hash: 0x0123_4567_89AB_CDEF,
                              archive: "2026-12-04T19-00-00.000000Z_OA.json.gz")]
        plan.archives = ["2026-12-04T19-00-00.000000Z_OA.json.gz"]
        plan.csvs = [.init(path: "active_data/OA_Dec_04_2026.csv", scale: "OA", ids: [7])]
        #expect(ArchiveName.parse(plan.archives[0]) != nil)
        #expect(try WithdrawalPlan.parse(plan.json, source: "j") == plan)
        var bad = plan
        bad.csvs[0].path = "../../etc/passwd"
        #expect(throws: MTError.self) { try WithdrawalPlan.parse(bad.json, source: "j") }
        #expect(throws: MTError.self) { try WithdrawalPlan.parse(.object([("format", .string("other"))]), source: "j") }
    }

    @Test func aWrittenSetLosesOnlyTheWithdrawnIDs() {
        var set = WrittenSet()
        for id in Int64(1)...10 { set.insert(id, hash: UInt64(id)) }
        set.insert(3, hash: 99) // released: a second content under id 3
        let smaller = set.removing([3, 4])
        #expect(smaller.count == 8 && !smaller.contains(3) && !smaller.contains(4) && smaller.contains(5))
        #expect(smaller.released.isEmpty && smaller.verdict(id: 5, hash: 5) == .same)
    }
}
