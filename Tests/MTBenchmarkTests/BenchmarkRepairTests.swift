import Foundation
import MTCore
import MTTestSupport
import Testing

/// A broken benchMark.json: the repair verbs are the way out, so they must work on it, keep its bytes and
/// rebuild what the data directory proves.
@Suite struct BenchmarkRepairTests {
    static let broken = #"{"OA": 5"#

    func corrupt(_ f: BenchmarkFixture) throws {
        try FileSystem.writeAtomically(Array(Self.broken.utf8), to: f.layout.benchmark)
    }

    /// The kept copies of the broken file, by name.
    func copies(_ f: BenchmarkFixture, _ label: String = "corrupt") throws -> [String] {
        try FileSystem.list(f.layout.active).filter { $0.hasPrefix("benchMark.json.\(label)-") }
    }

    func checkRepaired(_ f: BenchmarkFixture, _ r: RunResult) throws {
        let kept = try copies(f)
        #expect(kept.count == 1, "\(kept)")
        if let k = kept.first {
            #expect(try FileSystem.readString(f.layout.active + "/" + k) == Self.broken, "the broken bytes are kept")
            #expect(FileSystem.mode(of: f.layout.active + "/" + k) == 0o600)
            #expect(r.stderr.contains(k), "\(r.stderr)")
        }
        #expect(r.stderr.contains("critical"), "\(r.stderr)")
        #expect(try FileSystem.readString(f.layout.logs + "/break_down.log").contains("was rebuilt from the archives"))
    }

    @Test func setWorksOnACorruptFile() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        try corrupt(f)
        let r = try f.mt(["benchmark", "lab", "set", "OA", "200", "--yes"])
        #expect(r.code == 0, "\(r.stderr)")
        try checkRepaired(f, r)
        let marks = try f.marks()
        #expect(marks["OA"] == .init(current: 200, deleteable: true))
        // Rebuilt from the archives: Task's snapshots repeat ids, so it is not deleteable.
        #expect(marks["Task"] == .init(current: 12, deleteable: false))
    }

    @Test func resetWorksOnACorruptFile() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        try corrupt(f)
        let r = try f.mt(["benchmark", "lab", "reset", "Task"])
        #expect(r.code == 0, "\(r.stderr)")
        try checkRepaired(f, r)
        let marks = try f.marks()
        #expect(marks["Task"] == nil)
        #expect(marks["OA"] == .init(current: 5, deleteable: true))
    }

    @Test func importWorksOnACorruptFile() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        try corrupt(f)
        let original = try f.dir.write("orig.json", #"{"Demographics": 40}"#)
        let r = try f.mt(["benchmark", "lab", "import", original])
        #expect(r.code == 0, "\(r.stderr)")
        try checkRepaired(f, r)
        let marks = try f.marks()
        #expect(marks["Demographics"] == .init(current: 40, deleteable: true))
        #expect(marks["OA"] == .init(current: 5, deleteable: true))
        #expect(marks["Task"] == .init(current: 12, deleteable: false))
    }

    @Test func rebuildDerivesTheWholeFileFromTheArchives() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        try Benchmark(marks: ["OA": .init(current: 1, deleteable: false), "Gone": .init(current: 7, deleteable: true)])
            .write(path: f.layout.benchmark)
        let before = try FileSystem.read(f.layout.benchmark)
        // Off a terminal, a rebuild needs --yes.
        let refused = try f.mt(["benchmark", "lab", "rebuild"])
        #expect(refused.code == 64, "\(refused.stderr)")
        let r = try f.mt(["benchmark", "lab", "rebuild", "--yes"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try f.marks() == ["OA": .init(current: 5, deleteable: true), "Task": .init(current: 12, deleteable: false)])
        #expect(r.stdout.contains("lab: OA: 1 (not deleteable) -> 5"), "\(r.stdout)")
        #expect(r.stdout.contains("lab: Gone: 7 -> none"), "\(r.stdout)")
        let kept = try copies(f, "before-rebuild")
        #expect(kept.count == 1)
        #expect(try kept.first.map { try FileSystem.read(f.layout.active + "/" + $0) } == before)
        // Corrupt: the same, and the copy says so.
        try corrupt(f)
        let again = try f.mt(["benchmark", "lab", "rebuild", "--yes"])
        #expect(again.code == 0, "\(again.stderr)")
        #expect(try copies(f).count == 1)
        #expect(try f.marks()["OA"] == .init(current: 5, deleteable: true))
    }

    @Test func rebuildCountsStateAndTheDeletionLedger() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        try DeletionLedger(layout: f.layout).record(scale: "Task", ids: [40], archive: f.newestOA.fileName)
        var state = ExportScaleState()
        state.deleteMark = 30
        try state.save(scale: "OA", layout: f.layout)
        let r = try f.mt(["benchmark", "lab", "rebuild", "--yes"])
        #expect(r.code == 0, "\(r.stderr)")
        // Task was sent a DELETE, so it is deleteable whatever its archives look like.
        #expect(try f.marks() == ["OA": .init(current: 30, deleteable: true), "Task": .init(current: 40, deleteable: true)])
    }

    @Test func floatAndStringMarksAreReadWithAWarning() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        try FileSystem.writeAtomically(Array(#"{"OA": 50.0, "Task": {"current": "12", "deleteable": false}}"#.utf8), to: f.layout.benchmark)
        let b = try #require(try Benchmark.read(path: f.layout.benchmark))
        #expect(b.marks == ["OA": .init(current: 50, deleteable: true), "Task": .init(current: 12, deleteable: false)])
        #expect(b.warnings.count == 2)
        #expect(b.warnings.contains { $0.contains("scale OA: the mark 50.0 is read as 50") }, "\(b.warnings)")
        #expect(b.warnings.contains { $0.contains("scale Task: the mark \"12\" is read as 12") }, "\(b.warnings)")
        let table = try f.mt(["benchmark", "lab"])
        #expect(table.code == 0, "\(table.stderr)")
        #expect(table.stdout.contains("warning: \(f.layout.benchmark): scale OA: the mark 50.0 is read as 50"), "\(table.stdout)")
        // Not a whole number: still refused, with the way out.
        for bad in [#"{"OA": 50.5}"#, #"{"OA": "fifty"}"#] {
            #expect(throws: MTError.self) { try Benchmark.parse(Array(bad.utf8), source: "t") }
        }
    }

    @Test func exportNamesTheWayOut() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        try corrupt(f)
        let r = try f.mt(["benchmark", "lab"])
        #expect(r.code == 65)
        #expect(r.stderr.contains("mt benchmark rebuild"), "\(r.stderr)")
    }
}
