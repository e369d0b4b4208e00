import Foundation

/// Raw archives as `mt export` makes them (DESIGN §4.1): the server's bytes gzip'd, durable, read back and
/// checked before anything that depends on them (a CSV row, a DELETE) happens.
public enum ExportArchive {
    /// Writes `body` as a new archive of `scale`, verifies it holds every id of `ids`, and records its checksum.
    /// Returns the archive's name. A failure leaves no archive name behind for deletes to rely on.
    public static func write(body: [UInt8], scale: String, ids: [Int64], time: Date, kind: ArchiveKind,
                             layout: DataLayout) throws -> ArchiveName {
        try SafeName.checkScale(scale, server: layout.root)
        try FileSystem.makeDirectories(layout.raw)
        var name = ArchiveName.new(scale: scale, time: time)
        // Two fetches stamped alike (a clock step) must not overwrite each other: archives are never rewritten.
        // Steps of 10 µs: a Date near 2026 holds about 0.2 µs of precision, so 1 µs could round to the same name.
        var step = 1
        while FileSystem.exists(layout.archivePath(name)) {
            name = ArchiveName.new(scale: scale, time: time.addingTimeInterval(Double(step) * 1e-5))
            step += 1
        }
        let path = layout.archivePath(name)
        try FileSystem.writeAtomically(Gzip.compress(body), to: path, mode: 0o600)
        let sha = try verify(path: path, body: body, ids: ids)
        let ledger = ChecksumLedger(layout: layout)
        do {
            try ledger.append(archive: name.fileName, sha256: sha)
            try ArchiveKindLedger(layout: layout).append(archive: name.fileName, kind: kind)
        } catch {
            let e = error.asMTError
            throw RunStop(MTError(FileSystem.isWrongType(e) ? e.exitCode : .ioError,
                                  "\(name.fileName) was written and verified but could not be entered in \(ledger.path) or its kind ledger: \(e.message); the run stops here, nothing more is fetched or deleted",
                                  hint: e.hint ?? "make \(ledger.path) writable, then run again; mt verify lists the archive missing from the ledger"))
        }
        return name
    }

    /// Reads an archive back from disk: gzip CRC and length, the bytes equal what the server sent, the JSON
    /// parses, and every id in `ids` is inside. Returns the SHA-256 of the file.
    @discardableResult
    public static func verify(path: String, body: [UInt8]?, ids: [Int64]) throws -> String {
        let file = try FileSystem.read(path)
        let plain = try Gzip.decompress(file, source: path)
        if let body, plain != body {
            throw MTError(.ioError, "\(path): the archive read back differs from what the server sent",
                          hint: "the disk returned other bytes than were written; check it before the next run")
        }
        let held = try entryIDs(json: plain, source: path)
        if let missing = ids.first(where: { !held.contains($0) }) {
            throw MTError(.dataError, "\(path): id \(missing) is not in the archive read back")
        }
        return SHA256.hex(file)
    }

    /// Every `id` of a JSON array of entries.
    static func entryIDs(json: [UInt8], source: String) throws -> Set<Int64> {
        let value: JSONValue
        do { value = try JSONParser.parse(json) } catch {
            throw MTError(.dataError, "\(source): not valid JSON after decompression (\(error))")
        }
        guard let rows = value.arrayValues else { throw MTError(.dataError, "\(source): not a JSON array of entries") }
        return Set(rows.compactMap { $0["id"]?.int64Value })
    }
}
