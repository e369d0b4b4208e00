import Foundation
import MTCore

/// Raw archives as `mt export` makes them (see ARCHITECTURE.md, safety invariants): the server's bytes gzip'd as
/// they arrive, durable, read back and checked before anything that depends on them (a CSV row, a DELETE) happens.
enum ExportArchive {
    /// The answer on its way into an archive: gzip'd into a temporary file in `raw_data` as it streams in. A
    /// spool that is not kept is removed; one a killed run left is removed by the next run (its name starts with
    /// a dot and holds `.tmp-`), and never held the only copy of anything: nothing was deleted for it.
    ///
    /// Compression runs on a thread of its own, a few blocks behind the transfer, so that checking the answer
    /// and compressing it share the machine's cores; a failure there (a full disk) is thrown by the next `write`
    /// or by `finish`.
    final class Spool: @unchecked Sendable { // safe: `blocks`, `closed` and `failure` are used under `lock` only; the rest by one thread at a time
        let path: String
        private(set) var fd: Int32
        private var block: [UInt8] = []
        private let lock = NSCondition()
        private var blocks: [[UInt8]] = []
        private var closed = false
        private var failure: MTError?
        private let done = DispatchGroup()
        private static let blockSize = 1 << 20
        private static let queued = 2

        init(scale: String, layout: DataLayout) throws {
            try SafeName.checkScale(scale, server: layout.root)
            try FileSystem.makeDirectories(layout.raw)
            path = layout.raw + "/.\(scale).json.gz.tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else {
                throw MTError(errno == ENOSPC ? .ioError : .cantCreate, "cannot create \(path): \(String(cString: strerror(errno)))",
                              hint: "check that \(layout.raw) is writable and the disk is not full")
            }
            block.reserveCapacity(Self.blockSize)
            done.enter()
            let thread = Thread { [self] in
                defer { done.leave() }
                compress()
            }
            thread.start()
        }

        deinit { discard() }

        func write(_ chunk: UnsafeRawBufferPointer) throws {
            block.append(contentsOf: chunk)
            if block.count >= Self.blockSize { try hand(last: false) }
        }

        /// The current block to the compressing thread; waits while it is `queued` blocks behind.
        private func hand(last: Bool) throws {
            lock.lock(); defer { lock.unlock() }
            while blocks.count >= Self.queued && failure == nil { lock.wait() }
            if let failure { throw failure }
            if !block.isEmpty { blocks.append(block) }
            block = []
            block.reserveCapacity(last ? 0 : Self.blockSize)
            closed = closed || last
            lock.broadcast()
        }

        private func compress() {
            var out: [UInt8] = []
            do {
                var encoder = try GzipEncoder()
                while let next = take() {
                    try encoder.write(next) { out.append(contentsOf: $0) }
                    try FileSystem.writeAll(fd, out, path: path)
                    out.removeAll(keepingCapacity: true)
                }
                try encoder.finish { out.append(contentsOf: $0) }
                try FileSystem.writeAll(fd, out, path: path)
            } catch {
                lock.lock()
                failure = error.asMTError
                blocks.removeAll()
                lock.broadcast()
                lock.unlock()
            }
        }

        /// The next block; nil once the last was taken.
        private func take() -> [UInt8]? {
            lock.lock(); defer { lock.unlock() }
            while blocks.isEmpty && !closed { lock.wait() }
            guard !blocks.isEmpty else { return nil }
            let next = blocks.removeFirst()
            lock.broadcast()
            return next
        }

        /// The gzip trailer written and everything on disk.
        func finish() throws {
            try hand(last: true)
            done.wait()
            lock.lock()
            let failed = failure
            lock.unlock()
            if let failed { throw failed }
            guard fsync(fd) == 0 else { throw MTError(.ioError, "cannot flush \(path) to disk: \(String(cString: strerror(errno)))") }
            close(fd)
            fd = -1
        }

        /// Removes the temporary file (after it became an archive, only the spare name goes).
        func discard() {
            lock.lock()
            let running = !closed
            closed = true
            blocks.removeAll()
            lock.broadcast()
            lock.unlock()
            if running { done.wait() }
            if fd >= 0 { close(fd); fd = -1 }
            unlink(path)
        }
    }

    /// Makes the spooled answer a new archive of `scale`: finished, flushed, read back whole (gzip CRC and length,
    /// and the SHA-256 of the bytes inside equal to `sha256`, what the server sent), given a name no other archive
    /// has, and entered in the kind and checksum ledgers. The kind line (with the archive's sequence) is written
    /// before the name exists and the checksum line after, so a run killed in between leaves an archive its kind
    /// ledger announces, which the next run reads back and enters (`recordInterrupted`). A failure leaves no
    /// archive name for deletes to rely on.
    static func keep(_ spool: Spool, sha256: String, scale: String, time: Date, kind: ArchiveKind,
                     layout: DataLayout) throws -> ArchiveName {
        defer { spool.discard() }
        try spool.finish()
        let sha = try verify(path: spool.path, sha256: sha256)
        // Two fetches stamped alike (a clock step) must not overwrite each other: archives are never rewritten.
        // Steps of 10 µs: a Date near 2026 holds about 0.2 µs of precision, so 1 µs could round to the same name.
        // The run holds the data directory's lock, so a name free now stays free until the link below.
        var name = ArchiveName.new(scale: scale, time: time)
        var step = 1
        while FileSystem.exists(layout.archivePath(name)) {
            name = ArchiveName.new(scale: scale, time: time.addingTimeInterval(Double(step) * 1e-5))
            step += 1
        }
        let ledger = ChecksumLedger(layout: layout)
        do {
            try ArchiveKindLedger(layout: layout).append(archive: name.fileName, kind: kind)
            guard try FileSystem.linkDurably(spool.path, to: layout.archivePath(name)) else {
                throw MTError(.software, "\(layout.archivePath(name)) appeared while this run held the lock of \(layout.root)")
            }
            try ledger.append(archive: name.fileName, sha256: sha)
        } catch {
            let e = error.asMTError
            throw RunStop(MTError(FileSystem.isWrongType(e) || e.exitCode == .software ? e.exitCode : .ioError,
                                  "\(name.fileName) was written and verified but could not be entered in \(ledger.path) or its kind ledger, or be named: \(e.message); the run stops here, nothing more is fetched or deleted",
                                  hint: e.hint ?? "make \(layout.raw) and its ledgers writable, then run again; the next run enters an archive this one named"))
        }
        return name
    }

    /// The answer without the withdrawn entries `gone` (ledger/withdrawals.tsv): the spool finished and read back
    /// (the server's bytes, as `keep` would check them), its other entries written compactly into a new spool, and
    /// the fetch's ids, hashes and checksum made those of what is left. The old spool is removed.
    static func leaveOut(_ gone: Set<Int64>, _ fetched: FetchedScale, spool: Spool, layout: DataLayout) throws -> (FetchedScale, Spool) {
        defer { spool.discard() }
        try spool.finish()
        try verify(path: spool.path, sha256: fetched.sha256)
        var kept: [UInt8] = [UInt8(ascii: "[")]
        var first = true
        try ArchiveReader.forEachEntry(path: spool.path, kind: .gzip) { e, _ in
            if let id = e["id"]?.int64Value, gone.contains(id) { return }
            if !first { kept.append(UInt8(ascii: ",")) }
            kept += JSONWriter.bytes(e)
            first = false
        }
        kept.append(UInt8(ascii: "]"))
        let fresh = try Spool(scale: fetched.scaleName, layout: layout)
        try kept.withUnsafeBytes { try fresh.write($0) }
        var out = FetchedScale(scaleName: fetched.scaleName)
        for (id, h) in zip(fetched.ids, fetched.hashes) where !gone.contains(id) {
            out.ids.append(id)
            out.hashes.append(h)
        }
        out.allDated = fetched.allDated
        out.sha256 = SHA256.hex(kept)
        out.bytes = Int64(kept.count)
        return (out, fresh)
    }

    /// Archives the kind ledger announces that have no checksum line: a run was killed between naming one and
    /// entering its checksum. Each is read back whole (gzip CRC and length) and entered; one that does not read
    /// back is left out of the ledger for `mt verify` to report, and nothing relies on it.
    static func recordInterrupted(layout: DataLayout) throws -> (entered: [String], unreadable: [(String, MTError)]) {
        let sums = try ChecksumLedger(layout: layout).read()
        let present = Set(try FileSystem.list(layout.raw))
        var entered: [String] = []
        var unreadable: [(String, MTError)] = []
        for (archive, _) in try ArchiveKindLedger(layout: layout).records().sorted(by: { $0.key < $1.key })
        where sums[archive] == nil && present.contains(archive) {
            let file = try SHA256.Stream()
            do { try Gzip.readFile(layout.raw + "/" + archive, raw: { file.update($0) }) { _ in } } catch {
                unreadable.append((archive, error.asMTError))
                continue
            }
            try ChecksumLedger(layout: layout).append(archive: archive, sha256: file.finish())
            entered.append(archive)
        }
        return (entered, unreadable)
    }

    /// A whole answer held in memory made an archive (the spool fed in one piece).
    static func write(body: [UInt8], scale: String, time: Date, kind: ArchiveKind, layout: DataLayout) throws -> ArchiveName {
        let spool = try Spool(scale: scale, layout: layout)
        try body.withUnsafeBytes { try spool.write($0) }
        return try keep(spool, sha256: SHA256.hex(body), scale: scale, time: time, kind: kind, layout: layout)
    }

    /// Reads an archive back from disk, streaming: gzip CRC and length, and the SHA-256 of the bytes inside equal
    /// to `sha256`. Returns the SHA-256 of the file itself (the checksum ledger's).
    @discardableResult
    static func verify(path: String, sha256: String) throws -> String {
        let file = try SHA256.Stream()
        let plain = try SHA256.Stream()
        try Gzip.readFile(path, raw: { file.update($0) }) { plain.update($0) }
        guard plain.finish() == sha256 else {
            throw MTError(.ioError, "\(path): the archive read back differs from what the server sent",
                          hint: "the disk returned other bytes than were written; check it before the next run")
        }
        return file.finish()
    }
}
