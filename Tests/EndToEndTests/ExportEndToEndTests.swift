import Foundation
import MTCore
import MTTestSupport
import Testing

/// A simulator, an SMTP sink and an `mt` config pointing at both, for one test.
final class ExportFixture: @unchecked Sendable {
    let sim: SimServer
    let smtp: SMTPSink
    let dir: TempDir
    let config: String
    var data: String { dir.path + "/data" }
    var layout: DataLayout { DataLayout(root: data) }

    init(_ simArguments: [String] = ["--generate", "--participants", "3"], extra: [String] = ["DELETE_MODE: true"],
         key: Bool = true) throws {
        sim = try SimServer(simArguments)
        smtp = try SMTPSink()
        dir = try TempDir("mt-export-e2e")
        let passFile = dir.path + "/sim.pass"
        try FileSystem.writeAtomically(Array((sim.password + "\n").utf8), to: passFile, mode: 0o600)
        var lines = ["sim:", "  READY: true", "  SERVER: \"\(sim.url)\"", "  USER: \(sim.user)",
                     "  PASS_FILE: \"\(passFile)\"", "  PATH: \"\(dir.path)/data\"",
                     "  ALERT_EMAIL: lab@example.edu", "  SMTP_SERVER: \(smtp.url)", "  SMTP_FROM: mt@example.edu",
                     "  RETRIES: 1", "  TIMEOUT: 5", "  LOW_SPEED_TIME: 2", "  CONNECT_TIMEOUT: 2"]
        if key { lines.append("  PRIVATE_FILE: \"\(sim.privateKeyPath)\"") }
        lines += extra.map { "  " + $0 }
        config = dir.path + "/sim.yaml"
        try FileSystem.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: config, mode: 0o600)
    }

    deinit { smtp.stop(); dir.remove() }

    @discardableResult
    func export(_ args: String...) throws -> RunResult {
        try Run.mt(["--config", config, "export"] + args)
    }

    func exportJSON(_ args: String...) throws -> (RunResult, JSONValue) {
        let r = try Run.mt(["--config", config, "export", "--json"] + args)
        return (r, try JSONParser.parse(Array(r.stdout.utf8)))
    }

    /// The study as generated: scale → ids, and which scales may be deleted.
    func study() throws -> (ids: [String: Set<Int64>], deleteable: Set<String>) {
        var ids: [String: Set<Int64>] = [:]
        let keep = try FileSystem.exists(sim.dataDir + "/deleteable.json")
            ? JSONParser.parse(FileSystem.read(sim.dataDir + "/deleteable.json")).objectFields ?? [] : []
        let kept = Set(keep.filter { if case .bool(false) = $0.1 { true } else { false } }.map(\.0))
        for f in try FileSystem.list(sim.dataDir) where f.hasSuffix(".json") && f != "deleteable.json" {
            let scale = String(f.dropLast(5))
            let rows = try JSONParser.parse(FileSystem.read(sim.dataDir + "/" + f)).arrayValues ?? []
            ids[scale] = Set(rows.compactMap { $0["id"]?.int64Value })
        }
        return (ids, Set(ids.keys).subtracting(kept))
    }

    /// (scale, id) of every entry in every archive.
    func archived() throws -> Set<String> {
        var out = Set<String>()
        for name in try layout.archives() {
            var bytes = try FileSystem.read(layout.archivePath(name))
            if name.kind == .gzip { bytes = try Gzip.decompress(bytes) }
            for e in try JSONParser.parse(bytes).arrayValues ?? [] {
                if let id = e["id"]?.int64Value { out.insert("\(name.scale)/\(id)") }
            }
        }
        return out
    }

    /// How many times each (scale, id) appears in the active CSVs.
    func csvCounts() throws -> [String: Int] {
        var out: [String: Int] = [:]
        for f in try FileSystem.list(layout.active) where f.hasSuffix(".csv") {
            guard let scale = CSVName.scale(of: f) else { continue }
            var r = try CSVReader(path: layout.active + "/" + f)
            defer { r.close() }
            guard let header = try r.next(), let col = header.firstIndex(of: "id") else { continue }
            while let row = try r.next() { out["\(scale)/\(row[col])", default: 0] += 1 }
        }
        return out
    }

    /// ARCHITECTURE.md, "Safety invariants": every id the server deleted is in an archive and exactly once in the CSVs.
    func checkDeletedAreSafe(csv: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let archived = try archived()
        let counts = try csvCounts()
        for (scale, id) in try sim.ledger() {
            #expect(archived.contains("\(scale)/\(id)"), "deleted \(scale) \(id) is in no archive", sourceLocation: sourceLocation)
            if csv { #expect(counts["\(scale)/\(id)"] == 1, "deleted \(scale) \(id) is \(counts["\(scale)/\(id)"] ?? 0) times in the CSVs", sourceLocation: sourceLocation) }
        }
        if csv { #expect(counts.values.allSatisfy { $0 == 1 }, "an id is twice in the CSVs", sourceLocation: sourceLocation) }
    }
}

func total(_ json: JSONValue, _ field: String) -> Int {
    (json["servers"]?.arrayValues ?? []).flatMap { $0["scales"]?.arrayValues ?? [] }
        .reduce(0) { $0 + Int($1[field]?.int64Value ?? 0) }
}

@Suite(.serialized) struct ExportEndToEndTests {
    @Test func archivesWritesAndDeletesEveryDeleteableEntryThenARerunDoesNothing() throws {
        let f = try ExportFixture()
        let (ids, deleteable) = try f.study()
        let r = try f.export(".", "all")
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty, "silent under cron: \(r.stdout)") // stderr is a pipe here, not a terminal
        let deleted = Set(try f.sim.ledger().map { "\($0.scale)/\($0.id)" })
        let expected = Set(ids.filter { deleteable.contains($0.key) }.flatMap { s, ids in ids.map { "\(s)/\($0)" } })
        #expect(!expected.isEmpty)
        #expect(deleted == expected)
        let counts = try f.csvCounts()
        #expect(Set(counts.keys) == Set(ids.flatMap { s, ids in ids.map { "\(s)/\($0)" } }))
        try f.checkDeletedAreSafe()
        #expect(FileSystem.exists(f.layout.benchmark))
        #expect(f.smtp.messages().isEmpty) // a first run on an empty PATH is no alert: its new benchmark is logged as info
        let archives = try f.layout.archives().count
        let checksums = try ChecksumLedger(layout: f.layout).read()
        #expect(checksums.count == archives)

        let (again, json) = try f.exportJSON(".", "all")
        #expect(again.code == 0)
        // Left: the non-deleteable scales only; date-bearing ones are asked with after=, the others are unchanged.
        #expect(total(json, "fetched") <= ids.filter { !deleteable.contains($0.key) }.reduce(0) { $0 + $1.value.count })
        #expect(total(json, "left") == total(json, "fetched"))
        #expect(total(json, "archived") == 0 && total(json, "written") == 0 && total(json, "deleted") == 0)
        #expect(try f.layout.archives().count == archives)
        #expect(try f.csvCounts() == counts)
        #expect(f.smtp.messages().isEmpty)
    }

    @Test func selectionAndUsage() throws {
        let f = try ExportFixture(extra: [])
        #expect(try f.export("nope").code == 78)
        let unknown = try f.export("sim", "OAA")
        #expect(unknown.code == 64)
        #expect(unknown.stderr.contains("OA") || unknown.stdout.contains("OA"))
        let (r, json) = try f.exportJSON("sim", "static", "--dry-run")
        #expect(r.code == 0)
        let scales = (json["servers"]?.arrayValues?.first?["scales"]?.arrayValues ?? []).compactMap { $0["deleteable"] }
        #expect(!scales.isEmpty && scales.allSatisfy { $0 == .bool(false) })
        #expect(try f.layout.archives().isEmpty) // dry run writes nothing
        let (one, oneJSON) = try f.exportJSON("sim", "OA")
        #expect(one.code == 0)
        #expect(oneJSON["servers"]?.arrayValues?.first?["scales"]?.arrayValues?.count == 1)
        #expect(try f.sim.ledger().isEmpty) // DELETE_MODE is off
    }

    @Test func noKeyArchivesOnlyAndStillDeletes() throws {
        let f = try ExportFixture(key: false)
        let r = try f.export()
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try f.csvCounts().isEmpty)
        #expect(try !f.sim.ledger().isEmpty)
        try f.checkDeletedAreSafe(csv: false)
        let log = try FileSystem.readString(f.data + "/logs/Daily.log")
        #expect(log.contains("mt recover"))
    }

    @Test func noDeleteKeepsEverythingOnTheServer() throws {
        let f = try ExportFixture()
        let (r, json) = try f.exportJSON("--no-delete")
        #expect(r.code == 0)
        #expect(total(json, "archived") > 0 && total(json, "deleted") == 0)
        #expect(try f.sim.ledger().isEmpty)
        // The same answers again are not archived again (a cron job with deletes off must not fill the disk)…
        let archives = try f.layout.archives().count
        let (r2, json2) = try f.exportJSON("--no-delete")
        #expect(r2.code == 0)
        #expect(total(json2, "archived") == 0 && total(json2, "written") == 0)
        #expect(try f.layout.archives().count == archives)
        // …and a later run with deletes relies on those archives, read back again.
        let (r3, json3) = try f.exportJSON()
        #expect(r3.code == 0, "\(r3.stderr)")
        #expect(total(json3, "deleted") == total(json, "fetched"))
        #expect(try f.layout.archives().count == archives)
        try f.checkDeletedAreSafe()
    }

    @Test func aSecondRunOnTheSameDataDirectoryExits75() throws {
        let f = try ExportFixture()
        try FileSystem.makeDirectories(f.data)
        let lock = try DirectoryLock(directory: f.data)
        let r = try f.export()
        lock.release()
        #expect(r.code == 75)
        #expect(r.stdout.isEmpty)
        #expect(try f.sim.ledger().isEmpty)
        #expect(f.smtp.messages().isEmpty)
    }

    /// First run after the original tool: its benchmark, its plain JSON archives and its CSV. Entries in that CSV
    /// still on the server are leftovers: reported, and deleted since the CSV holds them unchanged. The newest
    /// entry came after the original's last run: written, then deleted.
    @Test func leftoversInTheOriginalsCSVAreDeletedAndReported() throws {
        let f = try ExportFixture()
        let dd = try FileSystem.read(f.sim.dataDir + "/DD.json")
        let ids = (try JSONParser.parse(dd).arrayValues ?? []).compactMap { $0["id"]?.int64Value }.sorted()
        #expect(ids.count >= 3)
        let held = Array(ids.dropLast())
        try FileSystem.makeDirectories(f.layout.raw)
        let legacy = JSONValue.array((try JSONParser.parse(dd).arrayValues ?? []).filter { held.contains($0["id"]!.int64Value!) })
        try FileSystem.writeAtomically(JSONWriter.bytes(legacy), to: f.layout.raw + "/DD_Apr_03_2018_14_05_09.json")
        try FileSystem.makeDirectories(f.layout.active)
        try FileSystem.writeAtomically(Array(("id\r\n" + held.map { "\($0)\r\n" }.joined()).utf8), to: f.layout.active + "/DD_Apr_03_2018.csv")
        try Benchmark(marks: ["DD": .init(current: ids.last!, deleteable: true)]).write(path: f.layout.benchmark)
        let r = try f.export("sim", "DD")
        #expect(r.code == 1, "\(r.stderr)")
        #expect(Set(try f.sim.ledger().map(\.id)) == Set(ids))
        let mails = f.smtp.messages()
        #expect(mails.count == 1)
        #expect(mails.last?.contains("still on the server") == true)
        try f.checkDeletedAreSafe()
        #expect(try f.exportJSON("sim", "DD").1["servers"]?.arrayValues?.first?["scales"]?.arrayValues?.first?["fetched"] == .int(0))
    }

    /// Every fault of the simulator: the documented exit code, nothing deleted that is not archived, one mail.
    @Test(arguments: [
        ("fail-list=503", ExitCode.unavailable),
        ("fail-fetch=500", .unavailable),
        ("html=fetch", .unavailable),
        ("invalid-json=fetch", .unavailable),
        ("truncate=fetch", .unavailable),
        ("reset=fetch", .unavailable),
        ("hang=fetch", .unavailable),
        ("slow-body=fetch&slow-rate=1", .unavailable),
        ("fail-delete=403", .unavailable),
        ("fail-delete=500", .unavailable),
        ("fail-delete=401", .unavailable),
        ("reset=delete", .unavailable),
        ("hang=delete", .unavailable),
        ("html=list", .unavailable),
    ])
    func simulatorFaults(faults: String, code: ExitCode) throws {
        let f = try ExportFixture(["--generate", "--participants", "1"])
        // The benchmark exists already, so the only mail is the fault's.
        try FileSystem.makeDirectories(f.layout.active)
        try Benchmark().write(path: f.layout.benchmark)
        try f.sim.setFaults(faults)
        let r = try f.export("sim", "DD")
        #expect(r.code == code.rawValue, "\(faults): \(r.stderr)")
        try f.checkDeletedAreSafe()
        if !faults.contains("delete") { #expect(try f.sim.ledger().isEmpty, "\(faults)") }
        let mails = f.smtp.messages()
        #expect(mails.count == 1, "\(faults): \(mails.count) mails")
        #expect(r.stdout.contains("SCALE"), "\(faults): the summary is printed on failure")
        try f.sim.clearFaults()
        let again = try f.export("sim", "DD")
        // Entries whose DELETE failed are retried as ordinary work: no leftover alarm; one incident, one mail and
        // one "resolved" mail.
        #expect(again.code == 0, "\(faults) cleared: \(again.stderr)")
        #expect(f.smtp.messages().count == 2, "\(faults): one incident, one mail and its resolve")
        #expect(f.smtp.messages().last?.contains("Subject: mt export: sim: resolved") == true, "\(faults)")
        #expect(try f.export("sim", "DD").code == 0)
        #expect(f.smtp.messages().count == 2, "\(faults): resolved once")
        try f.checkDeletedAreSafe()
        if faults.contains("delete") {
            let deleted = Set(try f.sim.ledger().map(\.id))
            #expect(deleted == (try f.study().ids["DD"] ?? []), "\(faults): every entry is deleted after the healthy rerun")
        }
        #expect(try f.exportJSON("sim", "DD").1["servers"]?.arrayValues?.first?["scales"]?.arrayValues?.first?["fetched"] == .int(0))
    }

    @Test func loginRedirectIsNotTakenForData() throws {
        let f = try ExportFixture(["--generate", "--participants", "1", "--login-redirect", "all"])
        try FileSystem.makeDirectories(f.layout.active)
        try Benchmark().write(path: f.layout.benchmark)
        let r = try f.export()
        #expect(r.code == 69)
        #expect(try f.layout.archives().isEmpty)
        #expect(try f.sim.ledger().isEmpty)
        #expect(f.smtp.messages().count == 1)
    }

    @Test func anUnwritableDataDirectoryDeletesNothing() throws {
        let f = try ExportFixture()
        try FileSystem.makeDirectories(f.data)
        try FileSystem.writeAtomically(Array("not a folder".utf8), to: f.data + "/raw_data")
        let r = try f.export()
        // A file where a folder belongs is not a full disk: 73 and the way out, not "free disk space".
        #expect(r.code == 73, "\(r.stderr)")
        #expect(r.stderr.contains("\(f.data)/raw_data is a symlink (or a file where a folder belongs): mt never follows links in the data directory; move it aside"), "\(r.stderr)")
        #expect(!r.stderr.contains("free disk space"), "\(r.stderr)")
        #expect(try f.sim.ledger().isEmpty)
        #expect(f.smtp.messages().count == 1)
    }

    @Test func theStateFolderUnwritableStopsOnlyDeletes() throws {
        let f = try ExportFixture()
        try FileSystem.makeDirectories(f.data)
        try FileSystem.writeAtomically(Array("not a folder".utf8), to: f.data + "/state")
        let r = try f.export()
        #expect(r.code == 73, "\(r.stderr)")
        #expect(r.stderr.contains("\(f.data)/state is a symlink (or a file where a folder belongs)"), "\(r.stderr)")
        #expect(try f.sim.ledger().isEmpty)
    }

    /// Text survives byte for byte from the server's JSON to the archive and the CSV.
    @Test func textIsKeptByteForByte() throws {
        let study = try TempDir("mt-export-study")
        defer { study.remove() }
        _ = try TestKeys.generate(in: study.path, name: "private")
        let text = "naïve, \"quoted\"\r\nline 2; 日本語 🎉 perché"
        let rows = JSONValue.array([
            .object([("id", .int(1)), ("date", .string("Sun, 29 Nov 2026 03:40:12 +0000")), ("text", .string(text))]),
            .object([("id", .int(2)), ("date", .string("Sun, 29 Nov 2026 03:41:12 +0000")), ("text", .string("€"))]),
        ])
        _ = try study.write("OA.json", JSONWriter.string(rows))
        _ = try study.write("deleteable.json", "{}")
        let f = try ExportFixture(["--data", study.path])
        try FileSystem.makeDirectories(f.layout.active)
        try Benchmark().write(path: f.layout.benchmark)
        let r = try f.export(".", "all")
        #expect(r.code == 0, "\(r.stderr)")
        #expect(Set(try f.sim.ledger().map(\.id)) == [1, 2])
        let archive = try #require(try f.layout.archives(scale: "OA").first)
        #expect(try Gzip.decompress(FileSystem.read(f.layout.archivePath(archive))) == FileSystem.read(study.path + "/OA.json"))
        let csv = try #require(try f.layout.activeCSVs(scale: "OA").first)
        var reader = try CSVReader(path: csv)
        defer { reader.close() }
        let header = try #require(try reader.next())
        let first = try #require(try reader.next())
        #expect(first[header.firstIndex(of: "text")!] == text)
        #expect(f.smtp.messages().isEmpty)
        try f.checkDeletedAreSafe()
    }

    /// A key that does not match the server's: nothing is written, nothing deleted, 65 and one mail.
    @Test func aWrongKeyStopsBeforeAnyDelete() throws {
        let keys = try TempDir("mt-export-key")
        defer { keys.remove() }
        let other = try TestKeys.generate(in: keys.path, name: "other")
        let f = try ExportFixture(["--generate", "--participants", "4"],
                                  extra: ["DELETE_MODE: true", "PRIVATE_FILE: \"\(other.privateKey)\""], key: false)
        try FileSystem.makeDirectories(f.layout.active)
        try Benchmark().write(path: f.layout.benchmark)
        let r = try f.export("sim", "DD")
        #expect(r.code == 65, "\(r.stderr)")
        #expect(try f.sim.ledger().isEmpty)
        #expect(try f.csvCounts().isEmpty)
        #expect(try f.layout.archives(scale: "DD").count == 1) // the server's bytes are kept all the same
        #expect(f.smtp.messages().count == 1)
    }

    /// The exact state a kill between "journal committed" and "append committed" leaves: a torn CSV tail and a
    /// pending journal. The rerun cuts the tail, replays the rows from the archive, then deletes.
    @Test func anInterruptedCSVAppendIsFinishedFromTheArchive() throws {
        let f = try ExportFixture(["--generate", "--participants", "4"])
        #expect(try f.export("sim", "DD", "--no-delete").code == 0)
        let csvPath = try #require(try f.layout.activeCSVs(scale: "DD").first)
        let full = try FileSystem.read(csvPath)
        var reader = try CSVReader(path: csvPath)
        var rows: [[String]] = []
        while let row = try reader.next() { rows.append(row) }
        reader.close()
        #expect(rows.count >= 4)
        let idColumn = try #require(rows[0].firstIndex(of: "id"))
        let ids = rows.dropFirst().map { Int64($0[idColumn])! }
        // Two rows were committed; the rest was being appended when the run died, 5 bytes of it reached the disk.
        let offset = rows.prefix(3).reduce(0) { $0 + CSVWriter.row($1).count }
        try FileSystem.writeAtomically(Array(full.prefix(offset + 5)), to: csvPath)
        let statePath = f.data + "/state/export_DD.json"
        let archive = try #require(try f.layout.archives(scale: "DD").first)
        var state = try JSONParser.parse(FileSystem.read(statePath))
        state = state.setting("csvHigh", to: .int(ids[1]))
        state = state.setting("pending", to: .object([
            ("archive", .string(archive.fileName)), ("csv", .string((csvPath as NSString).lastPathComponent)),
            ("offset", .int(offset)), ("after", .int(ids[1])), ("through", .int(ids.max()!)),
        ]))
        try FileSystem.writeAtomically(JSONWriter.bytes(state), to: statePath)

        let r = try f.export("sim", "DD")
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try FileSystem.read(csvPath) == full)
        #expect(Set(try f.sim.ledger().map(\.id)) == Set(ids))
        try f.checkDeletedAreSafe()
    }

    /// kill -9 at random moments, then a rerun: nothing deleted is lost, nothing is written twice.
    @Test func killNineAtRandomMomentsLosesNothing() throws {
        let f = try ExportFixture(["--generate", "--participants", "1"])
        try FileSystem.makeDirectories(f.layout.active)
        try Benchmark().write(path: f.layout.benchmark)
        var rng = SystemRandomNumberGenerator()
        let start = Date()
        #expect(try f.export().code == 0)
        let fullRun = max(Date().timeIntervalSince(start), 0.05)
        let runs = Int(ProcessInfo.processInfo.environment["MT_KILL_RUNS"] ?? "") ?? 60
        var killed = 0
        for i in 0..<runs {
            try f.sim.addArrivals(8)
            let child = try ChildProcess(Products.mt, ["--config", f.config, "export"], output: f.dir.path + "/killed.log")
            usleep(useconds_t(Double.random(in: 0...fullRun * 1.2, using: &rng) * 1_000_000))
            if child.isRunning { killed += 1 }
            child.stop(signal: SIGKILL)
            if i % 10 == 9 {
                let r = try f.export()
                #expect(r.code == 0, "rerun after kill \(i): \(r.stderr)")
                try f.checkDeletedAreSafe()
            }
        }
        let r = try f.export()
        #expect(r.code == 0, "\(r.stderr)")
        try f.checkDeletedAreSafe()
        #expect(killed >= runs / 10, "only \(killed) of \(runs) runs were killed before they ended")
        #expect(try FileSystem.list(f.layout.raw).allSatisfy { !$0.contains(".tmp-") }, "temporary files of killed runs are cleaned up")
        // Everything deleteable is gone from the server by now.
        let (json) = try f.exportJSON().1
        #expect(total(json, "fetched") == 0)
    }
}
