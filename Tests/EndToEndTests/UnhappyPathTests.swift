import Foundation
import MTCore
@testable import MTExport
import MTTestSupport
import Testing

/// Things going wrong the way a new user meets them: the exit code and the hint must fit the cause, nothing
/// may be deleted that is not in both ledgers, and a record that cannot be written must not vanish silently.
@Suite struct UnhappyPathTests {
    static let wrongType = "is a symlink (or a file where a folder belongs): mt never follows links in the data directory; move it aside"

    /// A data directory that has been exported once, so later runs have a ledger, a benchmark and logs.
    static func exported() throws -> ExportFixture {
        let f = try ExportFixture(["--generate", "--participants", "2"])
        let r = try f.export()
        #expect(r.code == 0, "\(r.stderr)")
        return f
    }

    @Test func aSymlinkedChecksumLedgerStopsBeforeAnyArchiveOrDelete() throws {
        let f = try Self.exported()
        let elsewhere = f.dir.path + "/elsewhere-SHA256SUMS"
        try FileSystem.writeAtomically(FileSystem.read(f.layout.checksums), to: elsewhere)
        unlink(f.layout.checksums)
        symlink(elsewhere, f.layout.checksums)
        let archivesBefore = try f.layout.archives()
        let deletedBefore = try f.sim.ledger().count
        _ = try f.sim.addArrivals(5)
        let r = try f.export()
        #expect(r.code == 73, "\(r.stderr)")
        #expect(r.stderr.contains("\(f.layout.checksums) \(Self.wrongType)"), "\(r.stderr)")
        #expect(!r.stderr.contains("free disk space"))
        #expect(try f.layout.archives() == archivesBefore, "an archive was written that the ledger cannot hold")
        #expect(try f.sim.ledger().count == deletedBefore, "something was deleted")
        #expect(f.smtp.messages().last?.contains(Self.wrongType) == true)
    }

    @Test func aSymlinkedDeletionLedgerStopsBeforeAnyDelete() throws {
        let f = try Self.exported()
        let elsewhere = f.dir.path + "/elsewhere.tsv"
        try FileSystem.writeAtomically(FileSystem.read(f.layout.deletions), to: elsewhere)
        unlink(f.layout.deletions)
        symlink(elsewhere, f.layout.deletions)
        let deletedBefore = try f.sim.ledger().count
        _ = try f.sim.addArrivals(5)
        let r = try f.export()
        #expect(r.code == 73, "\(r.stderr)")
        #expect(r.stderr.contains("\(f.layout.deletions) \(Self.wrongType)"), "\(r.stderr)")
        #expect(try f.sim.ledger().count == deletedBefore)
    }

    @Test func aSymlinkedCSVStopsItsScaleWithTheWayOut() throws {
        let f = try Self.exported()
        let deleteable = try f.study().deleteable
        let added = try f.sim.addArrivals(20).filter { deleteable.contains($0.scale) }
        let scale = try #require(added.first?.scale)
        let csv = try #require(try f.layout.activeCSVs(scale: scale).last)
        let target = f.dir.path + "/moved.csv"
        #expect(rename(csv, target) == 0)
        symlink(target, csv)
        let targetBefore = try FileSystem.read(target)
        let r = try f.export()
        #expect(r.code == 73, "\(r.stderr)")
        #expect(r.stderr.contains("\(csv) \(Self.wrongType)"), "\(r.stderr)")
        #expect(try FileSystem.read(target) == targetBefore, "the symlink was followed")
        let newIDs = Set(added.filter { $0.scale == scale }.map(\.id))
        #expect(try f.sim.ledger().filter { $0.scale == scale && newIDs.contains($0.id) }.isEmpty,
                "entries whose rows could not be written were deleted")
    }

    @Test func floatMarksAreReadWarnedOnceAndWrittenBack() throws {
        let f = try ExportFixture(["--generate", "--participants", "1"])
        try FileSystem.makeDirectories(f.layout.active)
        try FileSystem.writeAtomically(Array(#"{"Nowhere": 50.0, "Other": {"current": "7", "deleteable": false}}"#.utf8),
                                       to: f.layout.benchmark)
        let first = try f.export()
        #expect(first.code == 0, "\(first.stderr)")
        #expect(first.stderr.contains("scale Nowhere: the mark 50.0 is read as 50"), "\(first.stderr)")
        let b = try #require(try Benchmark.read(path: f.layout.benchmark))
        #expect(b.warnings.isEmpty)
        #expect(b.marks["Nowhere"] == .init(current: 50, deleteable: true))
        #expect(b.marks["Other"] == .init(current: 7, deleteable: false))
        let second = try f.export()
        #expect(second.code == 0 && !second.stderr.contains("is read as"), "\(second.stderr)")
    }

    /// The archive is written and verified, then its checksum line cannot be written: the caller is told to stop
    /// the whole run (not just the scale), and the archive itself is kept.
    @Test func anArchiveTheLedgerCannotHoldStopsTheRun() throws {
        let dir = try TempDir("mt-ledger-stop")
        defer { dir.remove() }
        let layout = DataLayout(root: dir.file("data"))
        try layout.create()
        symlink(dir.file("elsewhere"), layout.checksums)
        let body = Array("[{\"id\": 1}]".utf8)
        do {
            _ = try ExportArchive.write(body: body, scale: "OA", time: Date(), kind: .batch, layout: layout)
            Issue.record("expected the run to stop")
        } catch let stop as RunStop {
            #expect(stop.error.exitCode == .cantCreate, "\(stop.error)")
            #expect(stop.error.message.contains("could not be entered in \(layout.checksums)"), "\(stop.error)")
            #expect(stop.error.message.contains("the run stops here"), "\(stop.error)")
        }
        #expect(try layout.archives(scale: "OA").count == 1, "the archive holds the data: it is kept")
        #expect(!FileSystem.exists(dir.file("elsewhere")))
    }

    @Test(arguments: ["folder", "symlink"])
    func aLockFileOfTheWrongTypeHasADocumentedCode(_ kind: String) throws {
        let f = try ExportFixture(["--generate", "--participants", "1"])
        try FileSystem.makeDirectories(f.data)
        let lock = f.data + "/.mt.lock"
        if kind == "folder" { try FileSystem.makeDirectories(lock) } else { symlink(f.dir.path + "/target", lock) }
        let r = try f.export()
        #expect(r.code == 73, "\(r.stderr)")
        #expect(r.stderr.contains(lock) && r.stderr.contains("move it aside"), "\(r.stderr)")
        #expect(try f.sim.ledger().isEmpty)
        #expect(!FileSystem.exists(f.dir.path + "/target"), "the symlink was followed")
        let man = try FileSystem.readString(Products.packageRoot + "/man/mt-export.1")
        #expect(man.contains(".B 73"), "mt-export(1) must list the code the run returned")
    }

    @Test func aLogFileThatCannotBeWrittenIsReportedOnceMailedAndPartial() throws {
        let f = try ExportFixture(["--generate", "--participants", "2"])
        try FileSystem.makeDirectories(f.layout.logs)
        // A benchmark exists, so no other critical event mails.
        try FileSystem.makeDirectories(f.layout.active)
        try Benchmark().write(path: f.layout.benchmark)
        symlink(f.dir.path + "/stolen.log", f.layout.logs + "/DEBUG.log")
        symlink(f.dir.path + "/stolen-daily.log", f.layout.logs + "/Daily.log")
        let (r, report) = try f.exportJSON()
        #expect(r.code == 1, "\(r.stderr)")
        // --json says the process's exit status, and why.
        #expect(report["exit"]?.int64Value == 1, "\(r.stdout)")
        #expect(report["logFailures"]?.arrayValues?.first?.stringValue?.contains("DEBUG.log") == true, "\(r.stdout)")
        let said = r.stderr.components(separatedBy: "cannot write log file").count - 1
        #expect(said == 1, "said \(said) times: \(r.stderr)")
        #expect(r.stderr.contains(f.layout.logs + "/DEBUG.log"), "\(r.stderr)")
        #expect(!FileSystem.exists(f.dir.path + "/stolen.log") && !FileSystem.exists(f.dir.path + "/stolen-daily.log"),
                "the symlink was followed")
        let mails = f.smtp.messages()
        #expect(mails.count == 1 && mails[0].contains("DEBUG.log") && mails[0].contains("Daily.log"), "\(mails)")
        // The work itself was done.
        #expect(!(try f.layout.archives()).isEmpty)
    }

    @Test(arguments: [302, 401])
    func aDeleteAnsweredWithALoginSaysTheLoginExpired(_ status: Int) throws {
        let f = try ExportFixture(["--generate", "--participants", "1"])
        try FileSystem.makeDirectories(f.layout.active)
        try Benchmark().write(path: f.layout.benchmark)
        try f.sim.setFaults("fail-delete=\(status)")
        let r = try f.export("sim", "DD")
        #expect(r.code == 69, "\(r.stderr)")
        #expect(r.stderr.contains("the login expired or the password changed"), "\(r.stderr)")
        #expect(r.stderr.contains("check USER and PASS"), "\(r.stderr)")
        #expect(f.smtp.messages().last?.contains("the login expired or the password changed") == true)
        try f.checkDeletedAreSafe()
    }

    @Test func anEmptyAnswerForAListedScaleIsAWarning() throws {
        let server = try PythonServer(script: "hostile_server.py", environment: ["HOSTILE_MODE": "empty"])
        defer { server.stop() }
        let dir = try TempDir("mt-empty")
        defer { dir.remove() }
        _ = try dir.write("pass", "pw\n")
        let cfg = try dir.write("c.yaml", """
            lab:
              READY: true
              DELETE_MODE: true
              SERVER: \(server.baseURL)/api/
              USER: admin
              PASS_FILE: pass
              PATH: data
            """)
        try FileSystem.makeDirectories(dir.file("data/active_data"))
        try Benchmark().write(path: DataLayout(root: dir.file("data")).benchmark)
        let r = try Run.mt(["--config", cfg, "--json", "export", "lab", "OA"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stderr.contains("lists 200 entries for this scale but its answer held none"), "\(r.stderr)")
        let status = try JSONParser.parse(Array(r.stdout.utf8))["servers"]?.arrayValues?.first?["scales"]?.arrayValues?.first?["status"]
        #expect(status == .string("warning: listed 200 entries, sent none"), "\(r.stdout)")
        let log = try FileSystem.readString(dir.file("data/logs/error.log"))
        #expect(log.contains("its answer held none"))
    }

    @Test func verifyDuringAnExportSaysSoAndMarksWorkInProgress() throws {
        let f = try Self.exported()
        // What an export leaves for a moment: an archive not yet in the checksum ledger.
        let name = ArchiveName.new(scale: "OA", time: Date())
        try FileSystem.writeAtomically(Gzip.compress(Array("[{\"id\": 999999}]".utf8)), to: f.layout.archivePath(name))
        let lock = try DirectoryLock(directory: f.data)
        let held = try Run.mt(["--config", f.config, "verify"])
        lock.release()
        #expect(held.code == 1, "\(held.stderr)")
        #expect(held.stdout.contains("an export holds the lock of \(f.data) (pid \(getpid())"), "\(held.stdout)")
        #expect(held.stdout.contains("checksum-missing (may be work in progress: an export is running)"), "\(held.stdout)")
        let free = try Run.mt(["--config", f.config, "verify"])
        #expect(free.code == 1)
        #expect(!free.stdout.contains("holds the lock") && !free.stdout.contains("work in progress"), "\(free.stdout)")
        #expect(DirectoryLock.holder(of: f.data) == nil)
    }
}
