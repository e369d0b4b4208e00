import Foundation

/// What one raw archive holds, read back the way export's read-back check reads it: gzip CRC and length,
/// then JSON, then the entries' ids.
public struct ArchiveSummary: Sendable {
    public enum Problem: Sendable, Equatable {
        /// The file could not be opened or read.
        case unreadable(String)
        /// gzip CRC, length or stream damage.
        case corrupt(String)
        /// The bytes are not the JSON a server sends (an array of entries).
        case notJSON(String)
    }

    public var name: ArchiveName
    public var path: String
    /// SHA-256 of the file as it is on disk (what `raw_data/SHA256SUMS` records); nil when unreadable.
    public var sha256: String?
    /// Ids of the entries, in archive order (a snapshot of a non-deleteable scale repeats ids across archives).
    public var ids: [Int64]
    /// Content hash of each entry of `ids` (`WrittenSet.hash`): the same id with other content is another entry.
    public var hashes: [UInt64] = []
    /// Entries that are not objects with an integer `id`.
    public var entriesWithoutID: Int
    public var problem: Problem?
}

public enum ArchiveScan {
    /// Reads one archive completely. Never throws: every failure is part of the summary.
    public static func summarize(_ name: ArchiveName, layout: DataLayout) -> ArchiveSummary {
        let path = layout.archivePath(name)
        var s = ArchiveSummary(name: name, path: path, sha256: nil, ids: [], entriesWithoutID: 0, problem: nil)
        let bytes: [UInt8]
        do { bytes = try FileSystem.read(path) } catch {
            s.problem = .unreadable(error.asMTError.message)
            return s
        }
        s.sha256 = SHA256.hex(bytes)
        let json: [UInt8]
        if name.kind == .gzip {
            do { json = try Gzip.decompress(bytes, source: path) } catch {
                s.problem = .corrupt(error.asMTError.message)
                return s
            }
        } else {
            json = bytes
        }
        do {
            try ArchiveReader.forEachEntry(bytes: json, source: path) { e in
                if let id = e["id"]?.int64Value { s.ids.append(id); s.hashes.append(WrittenSet.hash(e)) } else { s.entriesWithoutID += 1 }
            }
        } catch {
            // Entries before the damage are not counted as held: mt recover cannot read such an archive either.
            s.problem = .notJSON(error.asMTError.message)
            s.ids = []
            s.hashes = []
            s.entriesWithoutID = 0
        }
        return s
    }

    /// Every archive, read on all cores; the summaries come back in the order of `names`.
    public static func summarize(_ names: [ArchiveName], layout: DataLayout,
                                 progress: CheckProgress? = nil) -> [ArchiveSummary] {
        WorkerPool().map(names.count) { i in
            let s = summarize(names[i], layout: layout)
            progress?.tick()
            return s
        }
    }
}
