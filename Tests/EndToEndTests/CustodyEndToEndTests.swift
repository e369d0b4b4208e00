import Foundation
import MTCore
import MTTestSupport
import Testing

/// `mt custody` against a real export of a generated study: the dwell times it reports are the stand-in
/// server's own record of when it deleted each entry.
@Suite struct CustodyEndToEndTests {
    static func number(_ v: JSONValue?) -> Double? {
        if case .number(let text)? = v { return Double(text) }
        return nil
    }

    @Test func dwellTimesAgreeWithTheServersOwnLogOfDeletes() throws {
        let f = try ExportFixture(["--generate", "--participants", "4"])
        let export = try f.export()
        #expect(export.code == 0, "\(export.stderr)")
        let html = f.dir.path + "/custody.html"
        let r = try Run.mt(["--config", f.config, "custody", "sim", "--json", "--html", html])
        #expect(r.code == 0, "\(r.stderr)")
        let doc = try JSONParser.parse(r.stdoutBytes)
        #expect(doc["ledger"]?.stringValue == "confirmed")
        let entries = doc["entries"]?.arrayValues ?? []
        let served = try f.sim.timedLedger()
        #expect(!served.isEmpty)
        let byKey = Dictionary(uniqueKeysWithValues: entries.map { e in
            ("\(e["scale"]!.stringValue!)/\(e["id"]!.int64Value!)", e)
        })
        var expected: [String: [Double]] = [:]
        for d in served {
            let e = try #require(byKey["\(d.scale)/\(d.id)"], "custody lacks \(d.scale) id \(d.id)")
            let deletedAt = try #require(e["deletedAt"]?.stringValue.flatMap(UTCTime.parse))
            // The confirmation is taken when the answer arrives: after the server logged the delete, within a second.
            let lag = deletedAt.timeIntervalSince(d.time)
            #expect(lag >= -0.002 && lag < 1, "\(d.scale) id \(d.id): custody says \(deletedAt), the server \(d.time)")
            #expect(e["status"]?.int64Value == 200 && e["deletion"]?.stringValue == "confirmed")
            #expect(e["archiveSHA256"]?.stringValue?.count == 64)
            #expect(e["csv"]?.stringValue?.hasPrefix("active_data/\(d.scale)_") == true && (e["line"]?.int64Value ?? 0) >= 2)
            let serverDate = try #require(e["serverDate"]?.stringValue.flatMap(UTCTime.parse))
            expected[d.scale, default: []].append(d.time.timeIntervalSince(serverDate))
        }
        let deletedKeys = Set(served.map { "\($0.scale)/\($0.id)" })
        for e in entries where !deletedKeys.contains("\(e["scale"]!.stringValue!)/\(e["id"]!.int64Value!)") {
            #expect(e["deletedAt"] == .null, "\(e) was never deleted by the server")
        }
        let study = try f.study()
        for s in doc["scales"]?.arrayValues ?? [] {
            let name = s["scale"]!.stringValue!
            let mine = (expected[name] ?? []).sorted()
            #expect(s["deleted"]?.int64Value == Int64(mine.count), "\(name)")
            #expect(s["entries"]?.int64Value == Int64(study.ids[name]?.count ?? -1), "\(name)")
            guard !mine.isEmpty else {
                #expect(s["dwellSeconds"]?["max"] == .null)
                #expect(!study.deleteable.contains(name) && s["deleteable"] == .bool(false), "\(name)")
                continue
            }
            func rank(_ p: Double) -> Double { mine[Int((p * Double(mine.count)).rounded(.up)) - 1] }
            for (key, want) in [("p50", rank(0.5)), ("p95", rank(0.95)), ("p99", rank(0.99)), ("max", mine.last!)] {
                let got = try #require(Self.number(s["dwellSeconds"]?[key]), "\(name) \(key)")
                #expect(got - want >= -0.002 && got - want < 1, "\(name) \(key): custody \(got), the server's log \(want)")
            }
        }
        let page = try FileSystem.readString(html)
        #expect(page.contains("<h2>Method</h2>") && page.contains("<svg") && page.contains("<h2>Checksums</h2>"))
        for a in doc["archives"]?.arrayValues ?? [] {
            #expect(page.contains(a["sha256"]!.stringValue!) && a["matches"] == .bool(true))
        }
    }

    /// A deletion ledger from before confirmation times: request times are read as deletion times, and said so;
    /// an entry still on the server beyond the threshold makes the exit 1.
    @Test func anOlderLedgerIsReadByItsRequestTimes() throws {
        let f = try ExportFixture(["--generate", "--participants", "2"])
        #expect(try f.export().code == 0)
        let all = try DeletionLedger(layout: f.layout).readAll()
        let old = try FileSystem.readString(f.layout.deletions).split(separator: "\n")
            .filter { $0.split(separator: "\t", omittingEmptySubsequences: false).count == 4 }
        // Drop one request too: that entry is still on the server as far as the ledger says.
        let kept = old.dropLast()
        try FileSystem.writeAtomically(Array((kept.joined(separator: "\n") + "\n").utf8), to: f.layout.deletions)
        let r = try Run.mt(["--config", f.config, "custody", "sim", "--json", "--threshold", "1s"])
        let doc = try JSONParser.parse(r.stdoutBytes)
        #expect(doc["ledger"]?.stringValue == "requests-only")
        let entries = doc["entries"]?.arrayValues ?? []
        let requested = entries.filter { $0["deletion"]?.stringValue == "requested" }
        #expect(requested.count == all.requests.count - 1)
        let missing = all.requests.last!
        let e = try #require(entries.first { $0["scale"]?.stringValue == missing.scale && $0["id"]?.int64Value == missing.id })
        #expect(e["deletedAt"] == .null)
        let overdue = (doc["scales"]?.arrayValues ?? []).flatMap { $0["beyondThreshold"]?.arrayValues ?? [] }
        #expect(overdue.compactMap(\.int64Value) == [missing.id])
        #expect(r.code == 1)
        let text = try Run.mt(["--config", f.config, "custody", "sim", "--threshold", "1s"])
        #expect(text.stdout.contains("older deletion ledger") && text.stdout.contains("\(missing.scale) id \(missing.id)"))
    }

    @Test func badInputIsRefusedWithItsCode() throws {
        let f = try ExportFixture(["--generate", "--participants", "1"])
        #expect(try Run.mt(["--config", f.config, "custody", "sim"]).code == 66)
        #expect(try f.export().code == 0)
        #expect(try Run.mt(["--config", f.config, "custody"]).code == 64)
        #expect(try Run.mt(["--config", f.config, "custody", "sim", "NoSuchScale"]).code == 64)
        #expect(try Run.mt(["--config", f.config, "custody", "sim", "--threshold", "soon"]).code == 64)
        #expect(try Run.mt(["--config", f.config, "custody", "nosuch"]).code == 78)
    }
}
