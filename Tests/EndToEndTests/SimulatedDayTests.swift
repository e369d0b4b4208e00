import Foundation
import MTCore
import MTTestSupport
import Testing

/// A day of cron: consecutive `mt export` runs against mt-sim with steady arrivals and random faults (5xx,
/// timeouts, truncated bodies, resets), plus the daily `mt export . static`. CI runs a shortened day
/// (`MT_SOAK_RUNS`, default 24); `make soak` runs all 288.
@Suite(.serialized) struct SimulatedDayTests {
    static var runs: Int { Int(ProcessInfo.processInfo.environment["MT_SOAK_RUNS"] ?? "") ?? 24 }

    /// The fault plan of run `i`: most runs see some trouble on a fraction of requests, a few run clean.
    static func faults(_ i: Int) -> String {
        switch i % 6 {
        case 0: ""
        case 1: "fail-delete=500@0.2&fail-fetch=503@0.1"
        case 2: "truncate=fetch@0.15&reset=delete@0.1"
        case 3: "invalid-json=fetch@0.1&fail-list=502@0.2"
        case 4: "hang=fetch@0.03&latency-ms=2"
        default: "reset=fetch@0.1&fail-delete=503@0.3"
        }
    }

    @Test func aDayOfCronRunsLosesNothingAndLeavesNothing() throws {
        let sim = try SimServer(["--generate", "--participants", "6", "--seed", "42"])
        defer { sim.stop() }
        let dir = try TempDir("mt-day")
        defer { dir.remove() }
        let data = dir.file("data")
        let config = try sim.writeConfig(in: dir.path, dataPath: data, extra: [
            "DELETE_MODE: true", "TIMEOUT: 3", "CONNECT_TIMEOUT: 2", "LOW_SPEED_TIME: 2", "RETRIES: 2",
        ])
        let client = try HTTPClient(options: sim.httpOptions)
        let scales = try #require(try JSONParser.parse(client.get(sim.url + "/export").body).arrayValues)
        let deleteable = Set(scales.compactMap { s -> String? in
            guard case .bool(true)? = s["deleteable"] else { return nil }
            return s["name"]?.stringValue
        })
        var expected: [String: Set<Int64>] = [:]
        for scale in deleteable {
            let body = try client.get(sim.url + "/export/\(scale)").body
            for e in try JSONParser.parse(body).arrayValues ?? [] { expected[scale, default: []].insert(e["id"]!.int64Value!) }
        }

        var peakRSS: [Int] = []
        var logBytes: [Int] = []
        for i in 0..<Self.runs {
            for a in try sim.addArrivals(4) where deleteable.contains(a.scale) { expected[a.scale, default: []].insert(a.id) }
            try sim.setFaults(Self.faults(i))
            let args = i == Self.runs / 2 ? ["export", ".", "static"] : ["export"]
            let r = try Run.program("/usr/bin/time", ["-f", "MAXRSS %M", Products.mt, "--config", config] + args)
            #expect([0, 1, 69].contains(r.code), "run \(i) exited \(r.code): \(r.stderr.suffix(2000))")
            if let line = r.stderr.split(separator: "\n").last(where: { $0.hasPrefix("MAXRSS ") }), let kb = Int(line.dropFirst(7)) {
                peakRSS.append(kb)
            }
            logBytes.append(try Self.size(of: data + "/logs"))
        }
        try sim.clearFaults()
        let last = try Run.mt(["--config", config, "export"])
        #expect(last.code == 0, "clean final run: \(last.stderr)")

        // Nothing deleteable that was archived is left on the server.
        for scale in deleteable {
            let left = try JSONParser.parse(client.get(sim.url + "/export/\(scale)").body).arrayValues ?? []
            #expect(left.isEmpty, "\(scale) still holds \(left.count) entries")
        }
        // Every entry that arrived is in the CSVs exactly once; every deleted id is among them.
        let written = try Self.csvIDs(data + "/active_data")
        for (scale, ids) in expected {
            let got = written[scale] ?? [:]
            let missing = ids.filter { got[$0] == nil }
            let twice = got.filter { $0.value > 1 }.map(\.key)
            #expect(missing.isEmpty, "\(scale): \(missing.count) arrived entries missing from the CSVs, e.g. \(missing.prefix(5))")
            #expect(twice.isEmpty, "\(scale): ids written more than once: \(twice.prefix(5))")
        }
        for d in try sim.ledger() where deleteable.contains(d.scale) {
            #expect(written[d.scale]?[d.id] == 1, "deleted \(d.scale) id \(d.id) is not in the CSVs exactly once")
        }
        let verify = try Run.mt(["--config", config, "verify", "--remote"])
        #expect(verify.code == 0, "mt verify --remote: \(verify.stdout) \(verify.stderr)")

        // Memory per run and log growth stay flat: the last quarter is no worse than the first.
        let q = max(1, peakRSS.count / 4)
        if peakRSS.count >= 8 {
            let early = peakRSS.prefix(q).max()!, late = peakRSS.suffix(q).max()!
            #expect(Double(late) <= Double(early) * 1.5 + 8_192, "peak RSS grew from \(early) kB to \(late) kB")
        }
        if logBytes.count >= 8 {
            let growth = zip(logBytes.dropFirst(), logBytes).map { $0 - $1 }
            let early = growth.prefix(q).reduce(0, +) / q, late = growth.suffix(q).reduce(0, +) / q
            #expect(late <= early * 3 + 20_000, "log growth per run went from \(early) to \(late) bytes")
        }
    }

    static func size(of dir: String) throws -> Int {
        try FileSystem.list(dir).reduce(0) { total, name in
            var st = stat()
            return total + (stat(dir + "/" + name, &st) == 0 ? Int(st.st_size) : 0)
        }
    }

    /// scale → id → how many rows carry it, over every active CSV.
    static func csvIDs(_ dir: String) throws -> [String: [Int64: Int]] {
        var out: [String: [Int64: Int]] = [:]
        for name in try FileSystem.list(dir) where name.hasSuffix(".csv") {
            guard let scale = CSVName.scale(of: name) else { continue }
            var reader = try CSVReader(path: dir + "/" + name)
            defer { reader.close() }
            guard let header = try reader.next(), let idColumn = header.firstIndex(of: "id") else { continue }
            while let row = try reader.next() {
                if idColumn < row.count, let id = Int64(row[idColumn]) { out[scale, default: [:]][id, default: 0] += 1 }
            }
        }
        return out
    }
}
