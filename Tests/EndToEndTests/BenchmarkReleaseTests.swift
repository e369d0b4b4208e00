import Foundation
import MTCore
import MTTestSupport
import Testing

/// `mt benchmark release`: held-back entries (ids restarted on the server) written beside the first entry of
/// their id, so that export deletes them and the alarm ends, with nothing lost and nothing written twice.
@Suite(.serialized) struct BenchmarkReleaseEndToEndTests {
    /// Ids 1–100 exported with deletes on (deleted), then the server's ids restart: 1–30 come back with other
    /// content and are held back. Returns the fixture after that held-back run.
    func heldBack(deletes: Bool = true) throws -> (Study, ExportFixture) {
        let study = try Study()
        let now = Date()
        try study.write("OA", (1...100).map { Study.entry(Int64($0), date: now.addingTimeInterval(-3600)) })
        let f = try ExportFixture(study: study)
        #expect(try (deletes ? f.export("sim", "OA") : f.export("sim", "OA", "--no-delete")).code == 0)
        try study.write("OA", (1...30).map { Study.entry(Int64($0), date: now, text: "after the restart") }
                        + (deletes ? [] : (31...100).map { Study.entry(Int64($0), date: now.addingTimeInterval(-3600)) }))
        try f.sim.reload()
        let held = try (deletes ? f.export("sim", "OA") : f.export("sim", "OA", "--no-delete"))
        #expect(held.code == 1, "\(held.stderr)")
        #expect(try heldIDs(f) == (1...30).map(Int64.init))
        return (study, f)
    }

    func heldIDs(_ f: ExportFixture) throws -> [Int64] {
        try (JSONParser.parse(FileSystem.read(f.layout.exportState(scale: "OA")))["heldBack"]?.arrayValues ?? []).compactMap(\.int64Value)
    }

    func release(_ f: ExportFixture, _ args: [String], stdin: [UInt8]? = nil) throws -> RunResult {
        try Run.mt(["--config", f.config, "benchmark", "sim", "release"] + args, stdin: stdin)
    }

    /// The `text` cells of the active CSVs of OA.
    func texts(_ f: ExportFixture) throws -> [String] {
        var out: [String] = []
        for path in try f.layout.activeCSVs(scale: "OA") {
            var r = try CSVReader(path: path)
            defer { r.close() }
            let header = try #require(try r.next())
            let col = try #require(header.firstIndex(of: "text"))
            while let row = try r.next() { out.append(row[col]) }
        }
        return out.sorted()
    }

    func heldCount(_ f: ExportFixture) throws -> Int64? {
        let r = try Run.mt(["--config", f.config, "benchmark", "sim", "--json"])
        let scales = try JSONParser.parse(Array(r.stdout.utf8))["servers"]?.arrayValues?.first?["scales"]?.arrayValues ?? []
        return scales.first { $0["scale"] == .string("OA") }?["heldBack"]?.int64Value
    }

    @Test func releasedEntriesAreWrittenBesideTheFirstAndThenDeleted() throws {
        let (study, f) = try heldBack()
        defer { withExtendedLifetime(study) {} }
        #expect(try heldCount(f) == 30)
        let r = try release(f, ["OA", "--yes"])
        #expect(r.code == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("id 7 ") && r.stdout.contains("already in the CSVs with other content"), "\(r.stdout)")
        let both = (1...30).flatMap { ["answer \($0)", "after the restart \($0)"] } + (31...100).map { "answer \($0)" }
        #expect(try texts(f) == both.sorted())
        #expect(try heldIDs(f).isEmpty)
        #expect(try heldCount(f) == 0)
        #expect(f.smtp.messages().last?.contains("released by hand") == true)
        #expect(try FileSystem.readString(f.data + "/logs/Daily.log").contains("released by hand: OA id 30"))

        // A lost written set is rebuilt from the CSVs with both contents of each released id: nothing held again.
        _ = unlink(f.layout.writtenSet(scale: "OA"))
        let rebuilt = try f.export("sim", "OA", "--no-delete")
        #expect(rebuilt.code == 0, "\(rebuilt.stderr)")
        #expect(try heldIDs(f).isEmpty)
        #expect(try texts(f) == both.sorted())

        // The next export deletes them (no leftover alarm: they were released, not left behind), writes nothing.
        let mails = f.smtp.messages().count
        let next = try f.export("sim", "OA")
        #expect(next.code == 0, "\(next.stderr)")
        #expect(!next.stderr.contains("held back"))
        #expect(f.smtp.messages().count == mails)
        #expect(try f.sim.ledger().map(\.id).sorted() == ((1...100).map(Int64.init) + (1...30).map(Int64.init)).sorted())
        #expect(try texts(f) == both.sorted())
        #expect(try f.export("sim", "OA").code == 0)
        #expect(try texts(f) == both.sorted())

        let v = try f.verify("sim")
        #expect(v.code == 0, "\(v.stdout)\(v.stderr)")
        #expect(try f.recover("sim", "OA").code == 0)
        let twice: [Int64] = (1...30).flatMap { [Int64($0), Int64($0)] }
        #expect(try f.recovered("OA").ids == (twice + (31...100).map(Int64.init)).sorted())
        // Recover keeps both contents of a released id on purpose: verify knows them from the written set.
        let after = try f.verify("sim")
        #expect(after.code == 0, "\(after.stdout)\(after.stderr)")
        #expect(!after.stdout.contains("csv-duplicate"), "\(after.stdout)")
    }

    @Test func refusalsChangeNothing() throws {
        let (study, f) = try heldBack(deletes: false)
        defer { withExtendedLifetime(study) {} }
        // --json: the list goes to stderr, the result (here: one id) to stdout.
        let one = try release(f, ["OA", "30", "--yes", "--json"])
        #expect(one.code == 0, "\(one.stderr)")
        let result = try JSONParser.parse(Array(one.stdout.utf8))
        #expect(result["released"]?.arrayValues?.compactMap { $0["id"]?.int64Value } == [30])
        #expect(result["released"]?.arrayValues?.first?["writtenFrom"]?.stringValue?.hasSuffix("_OA.json.gz") == true, "\(one.stdout)")
        #expect(one.stderr.contains("id 30 "))
        #expect(try heldIDs(f) == (1...29).map(Int64.init))
        let csvs = try f.layout.activeCSVs(scale: "OA").map { try FileSystem.read($0) }
        let notHeld = try release(f, ["OA", "30", "--yes"])
        #expect(notHeld.code == 66, "\(notHeld.stderr)")
        #expect(notHeld.stderr.contains("30") && notHeld.stderr.contains("not held back"))
        let offTerminal = try release(f, ["OA", "3"], stdin: [])
        #expect(offTerminal.code == 64, "\(offTerminal.stderr)")
        #expect(offTerminal.stderr.contains("--yes"))
        do {
            let lock = try DirectoryLock(directory: f.data)
            defer { lock.release() }
            let locked = try release(f, ["OA", "3", "--yes"])
            #expect(locked.code == 75, "\(locked.stderr)")
        }
        let keyless = f.dir.path + "/nokey.yaml"
        let text = try FileSystem.readString(f.config).split(separator: "\n").filter { !$0.contains("PRIVATE_FILE") }.joined(separator: "\n")
        try FileSystem.writeAtomically(Array((text + "\n").utf8), to: keyless, mode: 0o600)
        let noKey = try Run.mt(["--config", keyless, "benchmark", "sim", "release", "OA", "--yes"])
        #expect(noKey.code == 78, "\(noKey.stderr)")
        #expect(noKey.stderr.contains("where the private key lives"))
        #expect(try f.layout.activeCSVs(scale: "OA").map { try FileSystem.read($0) } == csvs)
        #expect(try heldIDs(f) == (1...29).map(Int64.init))
        #expect(try f.sim.ledger().isEmpty)
    }

    /// A release killed between its CSV append and the written set's line (the state a kill -9 leaves there):
    /// the next run, export or release, cuts the CSV back and replays the rows from the journal, each once.
    @Test func anInterruptedReleaseIsFinishedByTheNextRun() throws {
        let (study, f) = try heldBack(deletes: false)
        defer { withExtendedLifetime(study) {} }
        let archive = try #require(try f.layout.archives(scale: "OA").last).fileName
        let statePath = f.layout.exportState(scale: "OA")
        let setPath = f.layout.writtenSet(scale: "OA")

        func crash(releasing ids: [Int64]) throws {
            let csv = try #require(try f.layout.activeCSVs(scale: "OA").last)
            let csvSize = try FileSystem.read(csv).count
            let setBytes = try FileSystem.read(setPath)
            let r = try release(f, ["OA"] + ids.map(String.init) + ["--yes"])
            #expect(r.code == 0, "\(r.stderr)")
            // Back to the moment after the rows were fsynced, before their written-set lines: the journal open.
            try FileSystem.writeAtomically(setBytes, to: setPath, mode: 0o600)
            let pending = JSONValue.object([("archive", .string(archive)), ("csv", .string((csv as NSString).lastPathComponent)),
                                            ("offset", .int(Int64(csvSize))), ("written", .int(Int64(setBytes.count))),
                                            ("ids", IDRanges.json(IDRanges.ranges(ids)))])
            let state = try JSONParser.parse(FileSystem.read(statePath)).setting("pending", to: pending)
            try FileSystem.writeAtomically(JSONWriter.bytes(state), to: statePath, mode: 0o600)
        }

        try crash(releasing: [1, 2, 3])
        let next = try f.export("sim", "OA")
        #expect(next.code == 1, "\(next.stderr)") // 4–30 are still held back
        #expect(next.stderr.contains("finishing the CSV append"))
        #expect(Set(try f.sim.ledger().map(\.id)).intersection(1...30) == [1, 2, 3])

        try crash(releasing: [4])
        let again = try release(f, ["OA", "5", "--yes"])
        #expect(again.code == 0, "\(again.stderr)")
        let twice = (1...5).flatMap { ["answer \($0)", "after the restart \($0)"] }
        let rest = (6...30).map { "answer \($0)" } + (31...100).map { "answer \($0)" }
        #expect(try texts(f) == (twice + rest).sorted())
        #expect(try heldIDs(f) == (6...30).map(Int64.init))
        #expect(try f.export("sim", "OA").code == 1)
        #expect(Set(try f.sim.ledger().map(\.id)).intersection(1...30) == [1, 2, 3, 4, 5])
        #expect(try texts(f) == (twice + rest).sorted())
    }

    /// Releases killed with SIGKILL at random moments, one id each, then one release of the rest and an export
    /// with deletes: every id holds both entries exactly once, every deleted entry is in the CSVs.
    @Test func releasesKilledAtRandomMomentsLoseNothingAndWriteNothingTwice() throws {
        let (study, f) = try heldBack(deletes: false)
        defer { withExtendedLifetime(study) {} }
        var rng = SystemRandomNumberGenerator()
        for id in 1...12 {
            let child = try ChildProcess(Products.mt, ["--config", f.config, "benchmark", "sim", "release", "OA", String(id), "--yes"],
                                         output: f.dir.path + "/killed.log")
            usleep(useconds_t(Double.random(in: 0.02...0.5, using: &rng) * 1_000_000))
            _ = child.stop(signal: SIGKILL)
        }
        let rest = try release(f, ["OA", "--yes"])
        #expect(rest.code == 0, "\(rest.stderr)")
        #expect(try heldIDs(f).isEmpty)
        let both = (1...30).flatMap { ["answer \($0)", "after the restart \($0)"] } + (31...100).map { "answer \($0)" }
        #expect(try texts(f) == both.sorted())
        let r = try f.export("sim", "OA")
        #expect(r.code == 0, "\(r.stderr)")
        #expect(Set(try f.sim.ledger().map(\.id)) == Set<Int64>(1...100))
        #expect(try texts(f) == both.sorted())
        let v = try f.verify("sim")
        #expect(v.code == 0, "\(v.stdout)\(v.stderr)")
    }
}
