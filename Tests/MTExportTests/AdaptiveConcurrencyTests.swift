import Foundation
import Logging
@testable import MTCore
@testable import MTExport
import MTTestSupport
import Testing

/// Feeds `n` answers of `latency` seconds (nil: a request that opened its connection).
private func answer(_ c: inout AdaptiveConcurrency, _ n: Int, _ latency: Double?) {
    for _ in 0..<n { c.record(.answered(latency: latency)) }
}

/// Feeds one full window (as many answers as the limit) of `latency`.
private func window(_ c: inout AdaptiveConcurrency, _ latency: Double) {
    answer(&c, c.limit, latency)
}

@Suite struct AdaptiveConcurrencyTests {
    @Test func healthyServerSlowStartsToTheMaximumAndStays() {
        var c = AdaptiveConcurrency(initial: 4, maximum: 16)
        #expect(c.limit == 4)
        window(&c, 0.005)
        #expect(c.limit == 8)
        window(&c, 0.005)
        #expect(c.limit == 16)
        for _ in 0..<10 { window(&c, 0.0055) }
        #expect(c.limit == 16 && c.peak == 16 && c.backoffs == 0)
    }

    @Test func aPartWindowChangesNothing() {
        var c = AdaptiveConcurrency(initial: 4, maximum: 16)
        answer(&c, 3, 0.005)
        #expect(c.limit == 4)
        answer(&c, 1, 0.005)
        #expect(c.limit == 8)
    }

    @Test func handshakesAreNoSamples() {
        var c = AdaptiveConcurrency(initial: 4, maximum: 16)
        // Four fresh connections: no fair sample, so no judgement yet.
        answer(&c, 4, nil)
        #expect(c.limit == 4 && c.baseline == nil)
        window(&c, 0.005)
        #expect(c.limit == 8 && c.baseline == 0.005)
    }

    @Test func a5xxHalvesAtOnceThenOneWindowSettles() {
        var c = AdaptiveConcurrency(initial: 4, maximum: 16)
        window(&c, 0.005)
        window(&c, 0.005)
        #expect(c.limit == 16)
        answer(&c, 5, 0.005)
        c.record(.overloaded)
        #expect(c.limit == 8 && c.backoffs == 1)
        // The rest of the requests sent at 16 answer 5xx too: one halving per window, not one per answer.
        for _ in 0..<7 { c.record(.overloaded) }
        #expect(c.limit == 8 && c.backoffs == 1)
        c.record(.answered(latency: 0.005))
        // Settled; a clean window grows by one now (no more slow start), a 5xx halves again.
        window(&c, 0.005)
        #expect(c.limit == 9)
        window(&c, 0.005)
        #expect(c.limit == 10)
        c.record(.overloaded)
        #expect(c.limit == 5 && c.backoffs == 2 && c.peak == 16)
    }

    @Test func persistentFailureBacksOffToOneAndNotBelow() {
        var c = AdaptiveConcurrency(initial: 16, maximum: 16)
        for _ in 0..<40 { c.record(.overloaded) }
        #expect(c.limit == 1)
        // 16 → 8 → 4 → 2 → 1: at the minimum there is nothing left to lower.
        #expect(c.backoffs == 4)
    }

    @Test func latencyRisingTwoWindowsInARowHalves() {
        var c = AdaptiveConcurrency(initial: 4, maximum: 16)
        window(&c, 0.010)
        window(&c, 0.010)
        #expect(c.limit == 16)
        // Within tolerance (2× + 1 ms): grows or holds.
        window(&c, 0.020)
        #expect(c.limit == 16 && c.backoffs == 0)
        // One slow window (a neighbour's burst) holds; a second one in a row is a queue: halve.
        window(&c, 0.030)
        #expect(c.limit == 16 && c.backoffs == 0)
        window(&c, 0.030)
        #expect(c.limit == 8 && c.backoffs == 1)
        window(&c, 0.030)   // settling: the window sent at 16
        #expect(c.limit == 8)
        window(&c, 0.030)
        window(&c, 0.030)   // still slow at 8
        #expect(c.limit == 4 && c.backoffs == 2)
        window(&c, 0.012)   // settling
        window(&c, 0.012)   // the server recovered
        #expect(c.limit == 5)
    }

    @Test func oneStalledRequestIsNoTrend() {
        var c = AdaptiveConcurrency(initial: 4, maximum: 16)
        window(&c, 0.005)
        window(&c, 0.005)
        #expect(c.limit == 16)
        // A request held up by the client's scheduler: the median of the window is still 5 ms.
        answer(&c, 15, 0.005)
        c.record(.answered(latency: 0.5))
        #expect(c.limit == 16 && c.backoffs == 0)
        // A slow blip between good windows: nothing.
        answer(&c, 7, 0.005)
        answer(&c, 9, 0.030)
        window(&c, 0.005)
        #expect(c.limit == 16 && c.backoffs == 0)
        // Most of two windows in a row slow is a trend.
        for _ in 0..<2 { answer(&c, 7, 0.005); answer(&c, 9, 0.030) }
        #expect(c.limit == 8 && c.backoffs == 1)
    }

    @Test func atTheMinimumTheBaselineFollowsTheServer() {
        // A server that became slower for everyone: at one request at a time its latency is the new normal.
        var c = AdaptiveConcurrency(initial: 1, maximum: 4)
        window(&c, 0.001)
        #expect(c.limit == 2)
        window(&c, 0.050)
        window(&c, 0.050)
        #expect(c.limit == 1)
        window(&c, 0.050)   // settling
        window(&c, 0.050)
        #expect(c.baseline == 0.050)
        #expect(c.limit == 2)
    }

    @Test func maximumNeverBelowTheStart() {
        let c = AdaptiveConcurrency(initial: 8, maximum: 4)
        #expect(c.limit == 8 && c.maximum == 8)
        let z = AdaptiveConcurrency(initial: 0, maximum: 0)
        #expect(z.limit == 1 && z.maximum == 1)
    }
}

/// The deleter against mt-sim: grows while the server keeps up, backs off when it answers 5xx.
@Suite(.serialized) struct AdaptiveDeleterTests {
    private func study(_ entries: Int) throws -> (TempDir, String) {
        let dir = try TempDir("mt-adaptive")
        var rows: [String] = []
        for i in 1...entries {
            rows.append("{\"id\":\(i),\"date\":\"Sun, 29 Nov 2026 03:40:12 +0000\",\"session\":\"PRE\",\"tag\":\"t\",\"timeOnPage\":1.5}")
        }
        _ = try dir.write("study/Perf.json", "[" + rows.joined(separator: ",") + "]")
        _ = try dir.write("study/deleteable.json", "{}")
        return (dir, dir.file("study"))
    }

    private func deleter(_ sim: SimServer, concurrency: Int, maximum: Int) -> ExportDeleter {
        let base = sim.url + "/export/Perf/"
        var d = ExportDeleter(options: sim.httpOptions, deleteURL: { base + String($0) }, concurrency: concurrency,
                              maxConcurrency: maximum, retries: 8)
        d.backoff = 0.01
        return d
    }

    @Test func growsToTheMaximumOnAHealthyServer() throws {
        let (dir, data) = try study(300)
        defer { dir.remove() }
        let sim = try SimServer(["--data", data, "--latency-ms", "5"])
        let ledger = DeletionLedger(layout: DataLayout(root: dir.file("mt")))
        try FileSystem.makeDirectories(dir.file("mt/ledger"))
        let run = deleter(sim, concurrency: 2, maximum: 8)
            .start(scale: "Perf", archive: "Perf_a.json.gz", ledger: ledger, logger: Logger(label: "test"), expected: 300)
        run.add(Array(1...300))
        let r = try run.finish()
        #expect(r.deleted == 300 && r.failed == 0 && r.stop == nil)
        #expect(r.peakConcurrency == 8)
        #expect(try sim.counter("deletes") == 300)
        // Every answer is confirmed in the ledger after its request line, at about the time the server deleted it.
        let (requests, confirmations) = try ledger.readAll()
        #expect(Set(confirmations.map(\.id)) == Set(1...300) && confirmations.count == 300)
        #expect(confirmations.allSatisfy { $0.status == 200 && $0.archive == "Perf_a.json.gz" && $0.scale == "Perf" })
        let requestLine = Dictionary(uniqueKeysWithValues: requests.map { ($0.id, $0.line) })
        #expect(confirmations.allSatisfy { $0.line > requestLine[$0.id]! })
        let served = Dictionary(uniqueKeysWithValues: try sim.timedLedger().map { ($0.id, $0.time) })
        #expect(confirmations.allSatisfy { c in
            let t = c.time.timeIntervalSince(served[c.id]!)
            return t >= -0.002 && t < 2
        })
    }

    @Test func backsOffUnder5xxAndStillDeletesEverything() throws {
        let (dir, data) = try study(200)
        defer { dir.remove() }
        let sim = try SimServer(["--data", data, "--latency-ms", "2", "--fail-delete", "500@0.3"])
        let ledger = DeletionLedger(layout: DataLayout(root: dir.file("mt")))
        try FileSystem.makeDirectories(dir.file("mt/ledger"))
        let run = deleter(sim, concurrency: 8, maximum: 8)
            .start(scale: "Perf", archive: "Perf_a.json.gz", ledger: ledger, logger: Logger(label: "test"), expected: 200)
        run.add(Array(1...200))
        let r = try run.finish()
        #expect(r.backoffs > 0)
        #expect(r.deleted + r.failed == 200 && r.stop == nil)
        #expect(try sim.counter("deletes") == r.deleted)
    }
}

@Suite struct MaxConcurrencyConfigTests {
    private func server(_ keys: String) throws -> ServerConfig {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = try dir.write("server.yaml", "lab:\n  SERVER: https://h/api/\n  PATH: d\n" + keys)
        return try MTConfig.load(path: p, environment: [:], allowReadableSecrets: false).server(named: "lab")
    }

    @Test func defaultsAndExplicitValues() throws {
        let d = try server("")
        #expect(d.concurrency == 4 && d.maxConcurrency == 16)
        // An existing CONCURRENCY above 16 keeps working: the default ceiling follows it.
        #expect(try server("  CONCURRENCY: 32\n").maxConcurrency == 32)
        #expect(try server("  MAX_CONCURRENCY: 4\n").maxConcurrency == 4)
        #expect(try server("  CONCURRENCY: 8\n  MAX_CONCURRENCY: 40\n").maxConcurrency == 40)
    }

    @Test func belowCONCURRENCYOrOutOfRangeIsAConfigErrorNamingTheLine() throws {
        do {
            _ = try server("  CONCURRENCY: 8\n  MAX_CONCURRENCY: 2\n")
            Issue.record("expected an error")
        } catch let e as MTError {
            #expect(e.exitCode == .config)
            #expect(e.message.contains("server.yaml:5") && e.message.contains("MAX_CONCURRENCY (2) is below CONCURRENCY (8)"))
            #expect(e.hint?.contains("equal") == true)
        }
        #expect(throws: MTError.self) { _ = try server("  MAX_CONCURRENCY: 65\n") }
        #expect(throws: MTError.self) { _ = try server("  MAX_CONCURRENCY: many\n") }
    }
}
