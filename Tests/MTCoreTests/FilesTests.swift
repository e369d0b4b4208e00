import Foundation
import MTCore
import MTTestSupport
import Testing

@Suite struct FilesTests {
    @Test func atomicWriteReplacesWholeAndLeavesNoTemporaries() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = dir.file("f.txt")
        try FileSystem.writeAtomically(Array("one".utf8), to: p)
        try FileSystem.writeAtomically(Array("two".utf8), to: p, mode: 0o600)
        #expect(try FileSystem.readString(p) == "two")
        #expect(FileSystem.mode(of: p) == 0o600)
        #expect(try FileSystem.list(dir.path) == ["f.txt"])
    }

    @Test func failedWriteLeavesTheOldContentAndNoTemporary() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = dir.file("f.txt")
        try FileSystem.writeAtomically(Array("old".utf8), to: p)
        struct Boom: Error {}
        #expect(throws: Boom.self) { try FileSystem.writeAtomically(to: p) { _ in throw Boom() } }
        #expect(try FileSystem.readString(p) == "old")
        #expect(try FileSystem.list(dir.path) == ["f.txt"])
    }

    @Test func foldersAreCreatedNeverAssumed() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try FileSystem.makeDirectories(dir.file("a/b/c"))
        #expect(FileSystem.isDirectory(dir.file("a/b/c")))
    }

    /// What a process made durable is remembered by inode, never by name alone: a folder removed and made again
    /// under the same name (or a file in it) is created and synced again, not taken for the old one.
    @Test func aFolderMadeAgainUnderTheSameNameIsMadeAgain() throws {
        let dir = try TempDir("mt-durable")
        defer { dir.remove() }
        let deep = dir.path + "/a/b/c"
        try FileSystem.makeDirectories(deep)
        try FileSystem.appendDurably(Array("one\n".utf8), to: deep + "/ledger.tsv")
        #expect(rmdir(deep) != 0)
        _ = unlink(deep + "/ledger.tsv")
        #expect(rmdir(deep) == 0 && rmdir(dir.path + "/a/b") == 0)
        try FileSystem.makeDirectories(deep + "/")
        #expect(FileSystem.isDirectory(deep))
        try FileSystem.appendLinesDurably(Array("two\n".utf8), to: deep + "/ledger.tsv")
        #expect(try FileSystem.readString(deep + "/ledger.tsv") == "two\n")
        // A rename and a link are durable in both folders; link never replaces a name.
        try FileSystem.makeDirectories(dir.path + "/other")
        try FileSystem.renameDurably(deep + "/ledger.tsv", to: dir.path + "/other/ledger.tsv")
        #expect(try FileSystem.linkDurably(dir.path + "/other/ledger.tsv", to: deep + "/copy.tsv"))
        #expect(try !FileSystem.linkDurably(dir.path + "/other/ledger.tsv", to: deep + "/copy.tsv"))
        #expect(try FileSystem.readString(deep + "/copy.tsv") == "two\n")
    }

    @Test func secretsReadableByOthersAreRefusedWithTheChmod() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = try dir.write("pass", "x", mode: 0o644)
        do {
            try FileSystem.checkPrivate(p, what: "password file", allowReadable: false)
            Issue.record("expected a refusal")
        } catch let e as MTError {
            #expect(e.exitCode == .noPermission)
            #expect(e.hint?.contains("chmod 600 \(p)") == true)
        }
        try FileSystem.checkPrivate(p, what: "password file", allowReadable: true)
    }

    @Test func hostileScaleNamesAreRefused() {
        for bad in ["../x", "/etc/passwd", "a/b", ".hidden", "", "a\u{0}b", String(repeating: "a", count: 101), "é", "a b"] {
            #expect(!SafeName.isValidScale(bad), "\(bad) should be refused")
        }
        for good in ["OA", "DASS21_AS", "DD_FU", "x-1.v2"] { #expect(SafeName.isValidScale(good)) }
    }

    @Test func secondLockHolderIsRefusedAndLockDiesWithItsHolder() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        // flock conflicts between open file descriptions, so a second holder in the same process is refused too.
        let first = try DirectoryLock(directory: dir.path)
        do {
            _ = try DirectoryLock(directory: dir.path)
            Issue.record("expected the second lock to be refused")
        } catch let e as MTError {
            #expect(e.exitCode == .tempFail)
        }
        first.release()
        let again = try DirectoryLock(directory: dir.path)
        again.release()
        // A process that holds the lock and is killed leaves nothing behind.
        let holder = try ChildProcess("/usr/bin/flock", ["-o", dir.file(".mt.lock"), "sleep", "30"])
        usleep(300_000)
        #expect(throws: MTError.self) { _ = try DirectoryLock(directory: dir.path) }
        holder.stop(signal: SIGKILL)
        try DirectoryLock(directory: dir.path).release()
    }

    @Test func durableAppendsAccumulate() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        try layout.create()
        let ledger = DeletionLedger(layout: layout)
        try ledger.record(scale: "OA", ids: [1, 2], archive: "a.json.gz")
        try ledger.record(scale: "OA", ids: [3_000_000_000], archive: "b.json.gz")
        let entries = try ledger.read()
        #expect(entries.map(\.id) == [1, 2, 3_000_000_000])
        #expect(entries.last?.archive == "b.json.gz")
        #expect(entries.last?.line == 3)
    }
}
