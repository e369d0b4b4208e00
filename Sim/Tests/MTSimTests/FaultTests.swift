import Foundation
import MTCore
import MTSim
import MTTestSupport
import Testing

@Suite("mt-sim faults change the answer as documented")
struct FaultTests {
    @Test func failStatusOnListFetchAndDeleteDeletesNothing() throws {
        let sim = try SimServer(["--generate", "--participants", "3", "--fail-list", "503", "--fail-fetch", "500",
                                 "--fail-delete", "502"])
        let client = try sim.client()
        #expect(try client.get(sim.url + "/export").status == 503)
        #expect(try client.get(sim.url + "/export/OA").status == 500)
        #expect(try client.delete(sim.url + "/export/OA/1").status == 502)
        try sim.clearFaults()
        let oa = try sim.entries("OA")
        let r = try client.delete(sim.url + "/export/OA/\(oa[0].id)")
        #expect(r.status == 200)
        #expect(try sim.ledger().count == 1)
        #expect(try sim.counter("statuses", "5xx") == 3)
        #expect(try sim.counter("faults", "status") == 3)
    }

    @Test func failureRateIsSeededAndTheLedgerHoldsExactlyTheSuccesses() throws {
        let sim = try SimServer(["--generate", "--participants", "6", "--seed", "11", "--fail-delete", "500@0.5"])
        let client = try sim.client()
        var ok: [(String, Int64)] = [], failed = 0
        for e in try sim.entries("CC").prefix(30) {
            let s = try client.delete(sim.url + "/export/CC/\(e.id)").status
            if s == 200 { ok.append(("CC", e.id)) } else if s == 500 { failed += 1 }
        }
        #expect(ok.count > 0 && failed > 0)
        #expect(ok.count + failed == min(30, ok.count + failed))
        let ledger = try sim.ledger()
        #expect(ledger.map(\.id) == ok.map(\.1))
        #expect(try sim.counter("deletes") == ok.count)
    }

    @Test func faultsSwitchAtRunTime() throws {
        let sim = try SimServer(["--generate", "--participants", "2"])
        let client = try sim.client()
        #expect(try client.get(sim.url + "/export").status == 200)
        let set = try sim.setFaults("fail-list=418&latency-ms=5")
        #expect(set["fail-list"]?.stringValue == "418")
        #expect(try client.get(sim.url + "/export").status == 418)
        #expect(try client.get(sim.root + "/__sim/faults").status == 200)
        try sim.setFaults("")
        #expect(try client.get(sim.url + "/export").status == 200)
        #expect(try client.request("POST", sim.root + "/__sim/faults?fail-list=abc").status == 400)
        #expect(try client.request("POST", sim.root + "/__sim/faults?nonsense=1").status == 400)
    }

    @Test func truncatedBodyIsATransportError() throws {
        let sim = try SimServer(["--generate", "--participants", "3", "--truncate", "fetch"])
        let client = try sim.client()
        #expect(throws: HTTPTransportError.self) { try client.get(sim.url + "/export/BBSIQ") }
        #expect(try client.get(sim.url + "/export").status == 200)
    }

    @Test func invalidJSONIsA200ThatDoesNotParse() throws {
        let sim = try SimServer(["--generate", "--participants", "3", "--invalid-json", "list,fetch"])
        for path in ["/export", "/export/BBSIQ"] {
            let r = try sim.client().get(sim.url + path)
            #expect(r.status == 200)
            #expect(r.contentType?.hasPrefix("application/json") == true)
            #expect(throws: JSONParseError.self) { try JSONParser.parse(r.body) }
        }
    }

    @Test func htmlIsA200LoginPage() throws {
        let sim = try SimServer(["--generate", "--participants", "2", "--html", "all"])
        let r = try sim.client().get(sim.url + "/export")
        #expect(r.status == 200)
        #expect(r.contentType?.hasPrefix("text/html") == true)
        #expect(String(decoding: r.body, as: UTF8.self).hasPrefix("<!DOCTYPE html>"))
        #expect(try sim.client().delete(sim.url + "/export/OA/1").status == 200)
        #expect(try sim.ledger().isEmpty)
    }

    @Test func hangingRequestTimesOutInTheClient() throws {
        let sim = try SimServer(["--generate", "--participants", "2", "--hang", "delete"])
        let client = try sim.client(timeout: 1)
        do {
            _ = try client.delete(sim.url + "/export/OA/1")
            Issue.record("a hanging request answered")
        } catch let e as HTTPTransportError {
            #expect(e.isTimeout)
        }
        #expect(try sim.client().get(sim.url + "/export").status == 200)
        #expect(try sim.counter("faults", "hang") == 1)
    }

    @Test func latencyDelaysAnswers() throws {
        let sim = try SimServer(["--generate", "--participants", "2", "--latency-ms", "4000"])
        #expect(throws: HTTPTransportError.self) { try sim.client(timeout: 1).get(sim.url + "/export") }
        try sim.setFaults("latency-ms=0")
        #expect(try sim.client(timeout: 1).get(sim.url + "/export").status == 200)
    }

    @Test func resetClosesTheConnectionWithoutAnAnswer() throws {
        let sim = try SimServer(["--generate", "--participants", "2", "--reset", "list"])
        do {
            _ = try sim.client().get(sim.url + "/export")
            Issue.record("a reset request answered")
        } catch let e as HTTPTransportError {
            #expect(!e.isTimeout)
        }
        #expect(try sim.client().get(sim.url + "/export/OA").status == 200)
    }

    @Test func slowBodyTricklesButArrivesIntact() throws {
        let sim = try SimServer(["--generate", "--participants", "3"])
        let normal = try sim.client().get(sim.url + "/export/BBSIQ").body
        let list = try sim.client().get(sim.url + "/export").body
        try sim.setFaults("slow-body=all&slow-rate=4000")
        let slowList = try sim.client().get(sim.url + "/export")
        #expect(slowList.status == 200 && slowList.body == list)
        try sim.setFaults("slow-body=fetch&slow-rate=20")
        // At 20 bytes a second the body cannot arrive within the client's 2 s limit.
        #expect(normal.count > 1_000)
        #expect(throws: HTTPTransportError.self) { try sim.client(timeout: 2).get(sim.url + "/export/BBSIQ") }
        #expect(try sim.counter("faults", "slow-body") == 2)
    }

    @Test func faultSettingsParseTheirFlagSyntax() throws {
        var f = FaultSettings()
        try f.set("fail-delete", "500@0.2")
        try f.set("hang", "list,fetch@0.5")
        #expect(f.fail[.delete] == FaultSettings.StatusFault(status: 500, rate: 0.2))
        #expect(f.hang == FaultTrigger(kinds: [.list, .fetch], rate: 0.5))
        #expect(throws: MTError.self) { try f.set("fail-delete", "500@2") }
        #expect(throws: MTError.self) { try f.set("hang", "sometimes") }
        #expect(throws: MTError.self) { try f.set("latency-ms", "-1") }
        var a = SimRandom(seed: 5, stream: "faults"), b = SimRandom(seed: 5, stream: "faults")
        let x = (0..<50).map { _ in f.decide(.delete, random: &a) }, y = (0..<50).map { _ in f.decide(.delete, random: &b) }
        #expect(x == y)
        #expect(x.contains(.none) && x.contains(.status(500)))
    }
}
