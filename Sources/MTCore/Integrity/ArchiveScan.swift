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
    /// Reads one archive completely, streaming: memory holds one chunk and one entry, whatever the archive's size
    /// (verify reads one archive per core at once). Never throws: every failure is part of the summary. The whole
    /// file is always hashed; a gzip fault outranks the JSON fault it may cause further on.
    public static func summarize(_ name: ArchiveName, layout: DataLayout) -> ArchiveSummary {
        let path = layout.archivePath(name)
        var s = ArchiveSummary(name: name, path: path, sha256: nil, ids: [], entriesWithoutID: 0, problem: nil)
        var splitter = JSONArrayStream(shape: .arrays)
        var ids: [Int64] = [], hashes: [UInt64] = [], withoutID = 0
        var jsonFault: String?, gzipFault: String?
        // The first JSON fault is kept; the rest of the file is still read, for its checksum and its gzip checks.
        func entries(_ piece: UnsafeRawBufferPointer) {
            guard jsonFault == nil else { return }
            do {
                try splitter.feedValues(piece) { e, _ in
                    if let id = e["id"]?.int64Value { ids.append(id); hashes.append(WrittenSet.hash(e)) } else { withoutID += 1 }
                }
            } catch let e as JSONParseError {
                jsonFault = ArchiveReader.invalidJSON(source: path, e).message
            } catch {
                jsonFault = error.asMTError.message
            }
        }
        do {
            let file = try SHA256.Stream()
            if name.kind == .gzip {
                var d = try GzipDecoder(source: path)
                try FileSystem.readChunks(path) { chunk in
                    file.update(chunk)
                    guard gzipFault == nil else { return }
                    do { try d.feed(chunk) { entries($0) } } catch { gzipFault = error.asMTError.message }
                }
                if gzipFault == nil { do { try d.finish() } catch { gzipFault = error.asMTError.message } }
            } else {
                try FileSystem.readChunks(path) { chunk in
                    file.update(chunk)
                    entries(chunk)
                }
            }
            s.sha256 = file.finish()
        } catch {
            s.problem = .unreadable(error.asMTError.message)
            return s
        }
        if let gzipFault {
            s.problem = .corrupt(gzipFault)
            return s
        }
        if jsonFault == nil {
            do throws(JSONParseError) { try splitter.finish() } catch { jsonFault = ArchiveReader.invalidJSON(source: path, error).message }
        }
        // Entries before the damage are not counted as held: mt recover cannot read such an archive either.
        if let jsonFault {
            s.problem = .notJSON(jsonFault)
            return s
        }
        s.ids = ids
        s.hashes = hashes
        s.entriesWithoutID = withoutID
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
