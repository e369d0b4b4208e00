import Foundation
import MTCore
import MTTestSupport
import Testing

/// A study folder the test writes and the simulator serves again on `reload()`: the server's table as it is
/// at each step (late commits, restarted ids, flipped deleteability, null dates).
final class Study: @unchecked Sendable {
    let dir: TempDir
    var path: String { dir.path }

    init() throws {
        dir = try TempDir("mt-study")
        _ = try TestKeys.generate(in: dir.path, name: "private")
        try write(deleteable: [:])
    }

    deinit { dir.remove() }

    /// A `date` as the real server writes it: `@JsonFormat(timezone="EST")`, always -0500.
    static func est(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: -5 * 3600)
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return f.string(from: date)
    }

    static func entry(_ id: Int64, date: Date?, text: String = "answer") -> JSONValue {
        .object([("id", .int(id)), ("date", date.map { .string(est($0)) } ?? .null), ("text", .string("\(text) \(id)"))])
    }

    func write(_ scale: String, _ entries: [JSONValue]) throws {
        try FileSystem.writeAtomically(JSONWriter.bytes(.array(entries)), to: path + "/\(scale).json")
    }

    func write(deleteable: [String: Bool]) throws {
        try FileSystem.writeAtomically(JSONWriter.bytes(.object(deleteable.sorted { $0.key < $1.key }.map { ($0.key, .bool($0.value)) })),
                                       to: path + "/deleteable.json")
    }
}

extension ExportFixture {
    convenience init(study: Study, zone: String = "UTC-5", deleteMode: Bool = true) throws {
        try self.init(["--data", study.path, "--zone", zone], extra: deleteMode ? ["DELETE_MODE: true"] : [])
        try FileSystem.makeDirectories(layout.active)
        try Benchmark().write(path: layout.benchmark)
    }

    func ids(_ scale: String) throws -> [Int64] {
        try csvCounts().filter { $0.key.hasPrefix(scale + "/") }.flatMap { k, n in Array(repeating: Int64(k.dropFirst(scale.count + 1))!, count: n) }.sorted()
    }

    func verify(_ args: String...) throws -> RunResult { try Run.mt(["--config", config, "verify"] + args) }
    func recover(_ args: String...) throws -> RunResult { try Run.mt(["--config", config, "recover"] + args) }

    /// The ids of the newest recovered CSV of `scale`, with repeats.
    func recovered(_ scale: String) throws -> (ids: [Int64], readme: String) {
        let dir = data + "/recovered_data"
        let csv = try #require(try FileSystem.list(dir).filter { $0.hasPrefix(scale + "_recovered_") && $0.hasSuffix(".csv") }.sorted().last)
        let readme = try #require(try FileSystem.list(dir).filter { $0.hasPrefix("README_" + scale + "_recovered_") }.sorted().last)
        var r = try CSVReader(path: dir + "/" + csv)
        defer { r.close() }
        let header = try #require(try r.next())
        let col = try #require(header.firstIndex(of: "id"))
        var ids: [Int64] = []
        while let row = try r.next() { ids.append(Int64(row[col])!) }
        return (ids.sorted(), try FileSystem.readString(dir + "/" + readme))
    }
}

@Suite(.serialized) struct WrittenSetEndToEndTests {
    /// Ids 1–100 without 95, then 95 commits late: it is written, and only then deleted.
    @Test func aLateCommitIsWrittenThenDeleted() throws {
        let study = try Study()
        let now = Date()
        let all = (1...100).map { Study.entry(Int64($0), date: now.addingTimeInterval(Double($0 - 200) * 60)) }
        try study.write("OA", all.filter { $0["id"] != .int(95) })
        let f = try ExportFixture(study: study)
        #expect(try f.export("sim", "OA", "--no-delete").code == 0)
        try study.write("OA", all)
        try f.sim.reload()
        #expect(try f.export("sim", "OA", "--no-delete").code == 0)
        let r = try f.export("sim", "OA")
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try f.ids("OA") == (1...100).map(Int64.init))
        #expect(Set(try f.sim.ledger().map(\.id)) == Set((1...100).map(Int64.init)))
        try f.checkDeletedAreSafe()
        let v = try f.verify("sim")
        #expect(v.code == 0, "\(v.stdout)\(v.stderr)")
    }

    /// The server's ids restart with other content: those entries are held back (never written, never deleted),
    /// also after the state file is lost or damaged; verify names them and recover keeps both.
    @Test func restartedIdsAreHeldBackNeverDeleted() throws {
        let study = try Study()
        let now = Date()
        try study.write("OA", (1...100).map { Study.entry(Int64($0), date: now.addingTimeInterval(-3600)) })
        let f = try ExportFixture(study: study)
        #expect(try f.export("sim", "OA", "--no-delete").code == 0)
        try study.write("OA", (1...30).map { Study.entry(Int64($0), date: now, text: "after the restart") })
        try f.sim.reload()
        let held = try f.export("sim", "OA", "--no-delete")
        #expect(held.code == 1, "\(held.stderr)")
        #expect(f.smtp.messages().last?.contains("held back") == true)
        let state = try JSONParser.parse(FileSystem.read(f.layout.exportState(scale: "OA")))
        #expect(state["heldBack"]?.arrayValues?.count == 30)
        #expect(try f.export("sim", "OA").code == 1)
        #expect(try f.sim.ledger().isEmpty)
        // The hint of the old version ("delete the file") and a damaged file: rebuilt, still nothing deleted.
        try FileSystem.writeAtomically(Array("{".utf8), to: f.layout.exportState(scale: "OA"))
        let damaged = try f.export("sim", "OA")
        #expect(damaged.code == 1)
        #expect(!damaged.stderr.contains("delete the file"))
        #expect(FileSystem.exists(f.layout.exportState(scale: "OA") + ".damaged"))
        _ = unlink(f.layout.exportState(scale: "OA"))
        _ = unlink(f.layout.writtenSet(scale: "OA"))
        #expect(try f.export("sim", "OA").code == 1)
        #expect(try f.sim.ledger().isEmpty)
        #expect(try f.ids("OA") == (1...100).map(Int64.init))

        let v = try f.verify("sim")
        #expect(v.code != 0)
        #expect(v.stdout.contains("content-differs"), "\(v.stdout)")
        #expect(try f.recover("sim", "OA").code == 0)
        let (ids, readme) = try f.recovered("OA")
        let twice: [Int64] = (1...30).flatMap { [Int64($0), Int64($0)] }
        let once: [Int64] = (31...100).map { Int64($0) }
        #expect(ids == (twice + once).sorted())
        #expect(readme.contains("30 entries share their id"))

        // The documented way out after a rebuilt database: the old CSVs and written set moved aside, kept whole.
        let old = f.dir.path + "/before-the-rebuild"
        try FileSystem.makeDirectories(old)
        for name in try FileSystem.list(f.layout.active) where name.hasPrefix("OA_") {
            #expect(rename(f.layout.active + "/" + name, old + "/" + name) == 0)
        }
        #expect(rename(f.layout.writtenSet(scale: "OA"), old + "/written_OA.tsv") == 0)
        let fresh = try f.export("sim", "OA")
        #expect(fresh.code == 0, "\(fresh.stderr)")
        #expect(Set(try f.sim.ledger().map(\.id)) == Set<Int64>(1...30))
        #expect(try f.ids("OA") == (1...30).map(Int64.init))
    }

    /// kill -9 at random moments of runs that hold entries back (and now and then a lost state file): a held-back
    /// entry is never deleted, every deleted entry is in the CSVs exactly once.
    @Test func killNineWhileHoldingBackLosesNothing() throws {
        let study = try Study()
        let now = Date()
        try study.write("OA", (1...100).map { Study.entry(Int64($0), date: now) })
        let f = try ExportFixture(study: study)
        #expect(try f.export("sim", "OA", "--no-delete").code == 0)
        try study.write("OA", (1...30).map { Study.entry(Int64($0), date: now, text: "restarted") }
                        + (101...400).map { Study.entry(Int64($0), date: now) })
        try f.sim.reload()
        try f.sim.setFaults("latency-ms=2")
        var rng = SystemRandomNumberGenerator()
        let runs = Int(ProcessInfo.processInfo.environment["MT_KILL_RUNS"] ?? "") ?? 30
        for i in 0..<runs {
            let child = try ChildProcess(Products.mt, ["--config", f.config, "export", "sim", "OA", "--concurrency", "2"],
                                         output: f.dir.path + "/killed.log")
            usleep(useconds_t(Double.random(in: 0.02...0.6, using: &rng) * 1_000_000))
            child.stop(signal: SIGKILL)
            if i % 10 == 4 { _ = unlink(f.layout.exportState(scale: "OA")) }
            let deleted = Set(try f.sim.ledger().map(\.id))
            #expect(deleted.isDisjoint(with: 1...30), "run \(i) deleted a held-back entry")
        }
        try f.sim.clearFaults()
        #expect(try f.export("sim", "OA").code == 1)
        #expect(Set(try f.sim.ledger().map(\.id)) == Set<Int64>(101...400))
        #expect(try f.ids("OA") == (1...400).map(Int64.init))
        try f.checkDeletedAreSafe()
    }

    /// A date-less scale exported and deleted, then listed as non-deleteable with new rows on the same day:
    /// the CSVs keep the deleted rows and gain the new ones; the change is reported once.
    @Test func aScaleTurningNonDeleteableKeepsItsRows() throws {
        let study = try Study()
        try study.write("OA", (1...100).map { Study.entry(Int64($0), date: nil) })
        let f = try ExportFixture(study: study)
        #expect(try f.export("sim", "OA").code == 0)
        #expect(try f.sim.ledger().count == 100)
        try study.write("OA", (101...150).map { Study.entry(Int64($0), date: nil) })
        try study.write(deleteable: ["OA": false])
        try f.sim.reload()
        let r = try f.export("sim", "static")
        #expect(r.code == 1, "\(r.stderr)")
        #expect(f.smtp.messages().count == 1)
        #expect(f.smtp.messages().last?.contains("non-deleteable") == true)
        #expect(try f.ids("OA") == (1...150).map(Int64.init))
        #expect(try f.export("sim", "static").code == 0)
        #expect(f.smtp.messages().count == 2)
        #expect(f.smtp.messages().last?.contains("resolved") == true)
        let v = try f.verify("sim")
        #expect(v.code == 0, "\(v.stdout)\(v.stderr)")
        #expect(try f.recover("sim", "OA").code == 0)
        #expect(try f.recovered("OA").ids == (1...150).map(Int64.init))
    }

    /// A static scale whose dates are partly null: `after=` would never return the null-dated rows.
    @Test func nullDatedRowsOfAStaticScaleAreFetched() throws {
        let study = try Study()
        let old = Date().addingTimeInterval(-7200)
        try study.write("Demo", (1...10).map { Study.entry(Int64($0), date: $0 % 3 == 0 ? nil : old) })
        try study.write(deleteable: ["Demo": false])
        let f = try ExportFixture(study: study)
        #expect(try f.export("sim", "static").code == 0)
        try study.write("Demo", (1...20).map { Study.entry(Int64($0), date: $0 % 3 == 0 ? nil : old) })
        try f.sim.reload()
        #expect(try f.export("sim", "static").code == 0)
        #expect(try f.ids("Demo") == (1...20).map(Int64.init))
        #expect(try f.verify("sim").code == 0)
    }

    /// A last fetch recorded in the future (a clock corrected backwards) is ignored with a warning.
    @Test func aLastFetchInTheFutureIsIgnored() throws {
        let study = try Study()
        let now = Date()
        try study.write("Demo", (1...10).map { Study.entry(Int64($0), date: now.addingTimeInterval(-600)) })
        try study.write(deleteable: ["Demo": false])
        let f = try ExportFixture(study: study)
        #expect(try f.export("sim", "static").code == 0)
        let p = f.layout.exportState(scale: "Demo")
        let future = JSONValue.number(String(format: "%.3f", now.timeIntervalSince1970 + 10 * 86_400))
        try FileSystem.writeAtomically(JSONWriter.bytes(try JSONParser.parse(FileSystem.read(p)).setting("lastFetch", to: future)), to: p)
        // Rows the server committed with a date in the past (for instance by a clock of its own that lags).
        try study.write("Demo", (1...15).map { Study.entry(Int64($0), date: now.addingTimeInterval(-600)) })
        try f.sim.reload()
        #expect(try f.export("sim", "static").code == 0)
        #expect(try f.ids("Demo") == (1...15).map(Int64.init))
        #expect(try FileSystem.readString(f.data + "/logs/Daily.log").contains("in the future"))
    }

    /// A static dated scale over several runs with arrivals, at server zones west and east of UTC: every row
    /// reaches the CSVs once, recover rebuilds the same, verify is clean and names a row removed from the CSV.
    @Test(arguments: ["UTC-5", "UTC", "UTC+9"])
    func aStaticDatedScaleMissesNoRowAtAnyServerZone(zone: String) throws {
        let study = try Study()
        try study.write(deleteable: ["Demo": false])
        var rows: [JSONValue] = (1...20).map { Study.entry(Int64($0), date: Date().addingTimeInterval(-86_400 * 2)) }
        try study.write("Demo", rows)
        let f = try ExportFixture(study: study, zone: zone)
        var next: Int64 = 21
        for _ in 0..<3 {
            #expect(try f.export("sim", "static").code == 0)
            // Rows committed after the fetch, dated now (what the next day's run must find).
            usleep(1_100_000)
            for _ in 0..<10 { rows.append(Study.entry(next, date: Date())); next += 1 }
            try study.write("Demo", rows)
            try f.sim.reload()
        }
        #expect(try f.export("sim", "static").code == 0)
        let all = (1..<next).map { $0 }
        #expect(try f.ids("Demo") == all, "zone \(zone)")
        #expect(try f.recover("sim", "Demo").code == 0)
        #expect(try f.recovered("Demo").ids == all)
        let clean = try f.verify("sim")
        #expect(clean.code == 0, "\(clean.stdout)\(clean.stderr)")
        // Without the recovered copy, which would cover the row.
        for name in try FileSystem.list(f.data + "/recovered_data") { _ = unlink(f.data + "/recovered_data/" + name) }

        // One row removed from the CSV: verify names its id.
        let csv = try #require(try f.layout.activeCSVs(scale: "Demo").first)
        let text = try FileSystem.readString(csv)
        let lines = text.components(separatedBy: "\r\n")
        let victim = try #require(lines.firstIndex { $0.hasSuffix(",answer 7") })
        try FileSystem.writeAtomically(Array(lines.enumerated().filter { $0.offset != victim }.map(\.element).joined(separator: "\r\n").utf8), to: csv)
        let v = try f.verify("sim")
        #expect(v.code != 0)
        #expect(v.stdout.contains("csv-missing") && v.stdout.contains("id 7 "), "\(v.stdout)")
    }

    /// Archived without a key (deletes off), then a key is configured: the entries reach the CSVs before any delete.
    @Test func aKeyConfiguredLaterWritesWhatWasOnlyArchived() throws {
        let study = try Study()
        try study.write("OA", (1...20).map { Study.entry(Int64($0), date: Date()) })
        let f = try ExportFixture(study: study)
        let keyless = f.dir.path + "/nokey.yaml"
        let text = try FileSystem.readString(f.config).split(separator: "\n").filter { !$0.contains("PRIVATE_FILE") }.joined(separator: "\n")
        try FileSystem.writeAtomically(Array((text + "\n").utf8), to: keyless, mode: 0o600)
        #expect(try Run.mt(["--config", keyless, "export", "sim", "OA", "--no-delete"]).code == 0)
        #expect(try f.ids("OA").isEmpty)
        let r = try f.export("sim", "OA")
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try f.ids("OA") == (1...20).map(Int64.init))
        #expect(try f.sim.ledger().count == 20)
        try f.checkDeletedAreSafe()
    }

    /// Cron runs against a server whose database commits late, flips a scale to non-deleteable and restarts its
    /// ids: every entry deleted is in the CSVs exactly once, every entry left on a deleteable scale was held back
    /// (archived, never deleted), every arrival that was not held back reached the CSVs once.
    @Test func aDayWithLateCommitsAFlipAndARestartLosesNothing() throws {
        let sim = try SimServer(["--generate", "--participants", "4", "--seed", "7", "--late-commit", "1.2@0.3",
                                 "--restart-ids", "3", "--flip-deleteable", "OA@2"])
        defer { sim.stop() }
        let dir = try TempDir("mt-quirks")
        defer { dir.remove() }
        let data = dir.file("data")
        let config = try sim.writeConfig(in: dir.path, dataPath: data, extra: ["DELETE_MODE: true"])
        let layout = DataLayout(root: data)
        var arrived: [(scale: String, id: Int64)] = []
        for batch in 1...9 {
            let added = try sim.addArrivals(12)
            if batch != 3 { arrived += added } // the restart wipes the batch it happens in
            for _ in 0..<2 {
                let r = try Run.mt(["--config", config, "export", ".", "all"])
                #expect([0, 1].contains(r.code), "batch \(batch): \(r.stderr.suffix(1500))")
                usleep(1_300_000)
            }
        }
        #expect([0, 1].contains(try Run.mt(["--config", config, "export", ".", "all"]).code))

        var counts: [String: Int] = [:]
        for f in try FileSystem.list(layout.active) where f.hasSuffix(".csv") {
            guard let scale = layout.scale(ofActiveCSV: f) else { continue }
            let summary = CSVScan.summarize(path: layout.active + "/" + f, scale: scale, recovered: false, inspect: false)
            for o in summary.ids { counts["\(scale)/\(o.id)", default: 0] += 1 }
        }
        #expect(counts.values.allSatisfy { $0 == 1 }, "an id is twice in the CSVs")
        for d in try sim.ledger() { #expect(counts["\(d.scale)/\(d.id)"] == 1, "deleted \(d.scale) \(d.id) is not in the CSVs once") }
        var held = Set<String>()
        for f in try FileSystem.list(layout.state) where f.hasPrefix("export_") && f.hasSuffix(".json") {
            let v = try JSONParser.parse(FileSystem.read(layout.state + "/" + f))
            let scale = try #require(v["scale"]?.stringValue)
            for id in v["heldBack"]?.arrayValues ?? [] { held.insert("\(scale)/\(id.int64Value!)") }
        }
        #expect(!held.isEmpty, "the restart reused ids of entries already written")
        let client = try HTTPClient(options: sim.httpOptions)
        for s in try JSONParser.parse(client.get(sim.url + "/export").body).arrayValues ?? [] where s["deleteable"] == .bool(true) {
            let name = s["name"]!.stringValue!
            for e in try JSONParser.parse(client.get(sim.url + "/export/" + name).body).arrayValues ?? [] {
                #expect(held.contains("\(name)/\(e["id"]!.int64Value!)"), "\(name) \(e["id"]!) is left on the server but not held back")
            }
        }
        for a in arrived where !held.contains("\(a.scale)/\(a.id)") {
            #expect(counts["\(a.scale)/\(a.id)"] == 1, "arrived \(a.scale) \(a.id) is not in the CSVs")
        }
        let v = try Run.mt(["--config", config, "verify", "sim", "--json"])
        let kinds = Set((try JSONParser.parse(Array(v.stdout.utf8))["servers"]?.arrayValues?.first?["findings"]?.arrayValues ?? [])
            .compactMap { $0["kind"]?.stringValue })
        #expect(kinds.isSubset(of: ["content-differs"]), "\(v.stdout)")
    }

    /// Two server blocks sharing one data directory (here once through a symbolic link) are refused.
    @Test func twoServersSharingAPathAreRefused() throws {
        let dir = try TempDir("mt-shared-path")
        defer { dir.remove() }
        try FileSystem.makeDirectories(dir.path + "/data")
        #expect(symlink(dir.path + "/data", dir.path + "/link") == 0)
        let config = dir.path + "/mt.yaml"
        try FileSystem.writeAtomically(Array("""
            first:
              SERVER: https://one.example.edu/api/
              USER: a
              PATH: data
            second:
              SERVER: https://two.example.edu/api/
              USER: b
              PATH: link/

            """.utf8), to: config)
        let r = try Run.mt(["--config", config, "config", "check"])
        #expect(r.code == 78)
        #expect(r.stderr.contains("first") && r.stderr.contains("second") && r.stderr.contains("share"), "\(r.stderr)")
    }

    /// A power cut can take a CSV's rows (or the file's name) while the written set, fsynced later, survives. The
    /// set must not vouch for them: the next run finds the CSV shorter than its last committed append, writes
    /// the entries again from the archives (the server no longer has them), and only then deletes anything.
    @Test func aCSVThatLostCommittedRowsIsWrittenAgainFromTheArchives() throws {
        let study = try Study()
        let now = Date()
        try study.write("OA", (1...40).map { Study.entry(Int64($0), date: now.addingTimeInterval(-3600)) })
        let f = try ExportFixture(study: study)
        #expect(try f.export("sim", "OA").code == 0)
        #expect(Set(try f.sim.ledger().map(\.id)) == Set((1...40).map(Int64.init)))
        let csvs = try f.layout.activeCSVs(scale: "OA")
        #expect(csvs.count == 1)
        for path in csvs { _ = unlink(path) }

        let r = try f.export("sim", "OA")
        #expect(r.code == 1, "\(r.stderr)")
        #expect(try FileSystem.readString(f.layout.logs + "/error.log").contains("lost rows"))
        #expect(try f.ids("OA") == (1...40).map(Int64.init))
        try f.checkDeletedAreSafe()
        let v = try f.verify("sim")
        #expect(v.code == 0, "\(v.stdout)\(v.stderr)")
        let again = try f.export("sim", "OA")
        #expect(again.code == 0, "\(again.stderr)")
        #expect(try f.ids("OA") == (1...40).map(Int64.init))
    }

    /// A data directory that lost files its run record outlived is a finding, never "ok: 0 archive(s)".
    @Test func verifyNoticesADataDirectoryThatLostItsContents() throws {
        let study = try Study()
        try study.write("OA", (1...10).map { Study.entry(Int64($0), date: Date().addingTimeInterval(-3600)) })
        let f = try ExportFixture(study: study)
        #expect(try f.export("sim", "OA").code == 0)
        #expect(try f.verify("sim").code == 0)
        for name in try FileSystem.list(f.layout.raw) { _ = unlink(f.layout.raw + "/" + name) }
        _ = unlink(f.layout.deletions)
        let v = try f.verify("sim")
        #expect(v.code != 0)
        #expect(v.stdout.contains("contents-lost"), "\(v.stdout)")
        #expect(v.stdout.contains("10 entries of OA confirmed deleted"), "\(v.stdout)")
        #expect(!v.stdout.contains("ok: 0 archive"), "\(v.stdout)")
    }

    /// A DATE_FORMAT that cannot make a file name mt can read back is refused at load, with an example.
    @Test func anUnsafeDateFormatIsRefused() throws {
        let dir = try TempDir("mt-format")
        defer { dir.remove() }
        let config = dir.path + "/mt.yaml"
        try FileSystem.writeAtomically(Array("""
            lab:
              SERVER: https://one.example.edu/api/
              USER: a
              PATH: data
              DATE_FORMAT: "%d %b %Y"

            """.utf8), to: config)
        let r = try Run.mt(["--config", config, "config", "check"])
        #expect(r.code == 78)
        #expect(r.stderr.contains("DATE_FORMAT") && r.stderr.contains("mt.yaml:5") && r.stderr.contains("%b_%d_%Y"), "\(r.stderr)")
    }
}
