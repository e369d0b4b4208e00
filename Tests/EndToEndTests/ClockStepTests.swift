import Foundation
import MTCore
import MTTestSupport
import Testing

/// The wall clock steps backwards (this project's own CI machine did so once): order comes from the archive
/// sequence in ARCHIVES.tsv, a rebuilt written set takes the content each CSV row holds, and held-back entries stay
/// held through every kind of fetch. Run with Debian's faketime (`scripts/deps.sh test` installs it).
@Suite(.serialized) struct ClockStepTests {
    /// Debian's faketime runs mt on a clock `offset` away from this machine's ("-1d", "-3h", "+2h"). It forks:
    /// its child is mt (the library it preloads needs the shared clock faketime sets up, or a Swift program
    /// loses its arguments).
    static let faketime = "/usr/bin/faketime"

    static func onClock(_ offset: String, _ arguments: [String]) throws -> [String] {
        guard FileSystem.exists(faketime) else {
            throw MTError(.unavailable, "faketime is not installed", hint: "scripts/deps.sh test installs it (Debian package faketime)")
        }
        return ["-f", offset, Products.mt] + arguments
    }

    func export(_ f: ExportFixture, offset: String, _ args: String...) throws -> RunResult {
        try Run.program(Self.faketime, Self.onClock(offset, ["--config", f.config, "export"] + args))
    }

    /// kill -9 of mt itself, the child of faketime.
    static func killMT(under child: ChildProcess) {
        let listed = (try? FileSystem.readString("/proc/\(child.pid)/task/\(child.pid)/children")) ?? ""
        for pid in listed.split(separator: " ").compactMap({ pid_t($0) }) { kill(pid, SIGKILL) }
        _ = child.wait(timeout: 30)
    }

    func deletions(_ f: ExportFixture, _ id: Int64) throws -> Int { try f.sim.ledger().filter { $0.id == id }.count }

    /// Ids 1–5 are exported and deleted; the server's ids restart and id 3 comes back with other content; a run
    /// a day behind holds it back; then the written set (or the state) is lost and rebuilt, on clocks behind and
    /// ahead. Id 3's new content is never deleted, and the CSVs hold its first content once.
    @Test(arguments: ["written", "state"]) func aClockStepNeverLetsAHeldBackEntryBeDeleted(damaged: String) throws {
        let study = try Study()
        let now = Date()
        try study.write("OA", (1...5).map { Study.entry(Int64($0), date: now.addingTimeInterval(-7200)) })
        let f = try ExportFixture(study: study)
        #expect(try f.export("sim", "OA").code == 0)
        #expect(try f.sim.ledger().count == 5)
        let first = try #require(try f.layout.archives(scale: "OA").first)

        try study.write("OA", [Study.entry(3, date: now.addingTimeInterval(-60), text: "after the restart")])
        try f.sim.reload()
        let behind = try export(f, offset: "-1d", "sim", "OA")
        #expect(behind.code == 1, "\(behind.stderr)")
        let archives = try f.layout.archives(scale: "OA")
        #expect(archives.count == 2)
        // Its name says a day earlier; the sequence says it came second.
        #expect(archives.last!.time < first.time && archives.first == first)
        #expect(try deletions(f, 3) == 1)

        let target = damaged == "written" ? f.layout.writtenSet(scale: "OA") : f.layout.exportState(scale: "OA")
        try FileSystem.writeAtomically(Array("damaged\n".utf8), to: target)
        let rebuilt = try export(f, offset: "-3h", "sim", "OA")
        #expect(rebuilt.code == 1, "\(rebuilt.stderr)")
        #expect(try deletions(f, 3) == 1, "the held-back entry 3 was deleted after the rebuild")
        let ahead = try export(f, offset: "+2h", "sim", "OA")
        #expect(ahead.code == 1, "\(ahead.stderr)")
        #expect(try deletions(f, 3) == 1)
        #expect(try f.ids("OA") == [1, 2, 3, 4, 5])
        let state = try JSONParser.parse(FileSystem.read(f.layout.exportState(scale: "OA")))
        #expect(state["heldBack"]?.arrayValues?.compactMap(\.int64Value) == [3])
        let rows = try FileSystem.readString(try #require(try f.layout.activeCSVs(scale: "OA").first))
        #expect(rows.contains("answer 3") && !rows.contains("after the restart"))
    }

    /// kill -9 at random moments of runs whose clocks jump back and forth: nothing deleted is lost, nothing is
    /// written twice, and archives keep the order they were made in.
    @Test func killNineOnAJumpingClockLosesNothing() throws {
        let study = try Study()
        let now = Date()
        try study.write("OA", (1...300).map { Study.entry(Int64($0), date: now.addingTimeInterval(-3600)) })
        let f = try ExportFixture(study: study)
        let offsets = ["-1d", "+5h", "-2h", "+1d", "-30m", "+0"]
        for (i, offset) in offsets.enumerated() {
            try study.write("OA", (1...300).map { Study.entry(Int64($0 + i * 300), date: now.addingTimeInterval(-3600)) })
            try f.sim.reload()
            let child = try ChildProcess(Self.faketime, Self.onClock(offset, ["--config", f.config, "export", "sim", "OA"]),
                                         output: f.dir.path + "/killed.log")
            usleep(useconds_t(UInt32.random(in: 20_000...400_000)))
            Self.killMT(under: child)
            let r = try export(f, offset: offsets[(i + 3) % offsets.count], "sim", "OA")
            #expect(r.code == 0, "rerun \(i) at \(offset): \(r.stderr)")
        }
        let deleted = Set(try f.sim.ledger().map(\.id))
        let written = try f.ids("OA")
        #expect(Set(written).count == written.count, "an entry was written twice")
        #expect(deleted.isSubset(of: Set(written)), "deleted but in no CSV: \(deleted.subtracting(written).sorted().prefix(10))")
        try f.checkDeletedAreSafe()
        let kinds = try ArchiveKindLedger(layout: f.layout).records()
        let sequences = try f.layout.archives(scale: "OA").compactMap { kinds[$0.fileName]?.sequence }
        #expect(sequences == sequences.sorted() && Set(sequences).count == sequences.count)
        let v = try f.verify("sim")
        #expect(v.code == 0, "\(v.stdout)\(v.stderr)")
    }
}
