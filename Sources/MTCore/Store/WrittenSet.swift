import Foundation

/// Which entries of one scale are already in the active CSVs (with no PRIVATE_FILE: which entries a verified
/// archive holds, recorded by the run that archived them). "New" is decided by this set, never by a high-water
/// mark: a late commit (a lower id that appears after higher ones) is simply new, and an id that comes back with
/// other content (the server's ids restarted) is not the entry that was written.
///
/// File `PATH/state/written_<Scale>.tsv`, append-only, one line per entry: `<id>\t<hash>\n`. The hash is the first
/// 16 hex digits of the SHA-256 of the entry's JSON (as parsed from the server, written back compactly), or `-`
/// when the content is not known (an id found in a CSV that no archive holds). About 25 bytes per entry.
/// A line counts only once it ends in a newline (a torn last line is an append that never committed).
/// An id may appear on several lines with different hashes: `mt benchmark release` accepted another entry under
/// that id into the CSVs, which then hold both; each of those contents counts as written.
public struct WrittenSet: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable { case new, same, different, unknown }

    /// id → content hash; nil hash: content unknown.
    public private(set) var hashes: [Int64: UInt64?] = [:]
    /// Further contents accepted under an id, in the order they were released (`mt benchmark release`).
    public private(set) var released: [Int64: [UInt64]] = [:]

    public init() {}

    public var count: Int { hashes.count }
    public func contains(_ id: Int64) -> Bool { hashes[id] != nil }

    /// The first 8 bytes of the digest, big-endian: the number whose hex is the first 16 digits of the SHA-256.
    public static func hash(_ entry: JSONValue) -> UInt64 {
        SHA256.digest(JSONWriter.bytes(entry)).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    public func verdict(id: Int64, hash: UInt64) -> Verdict {
        guard let known = hashes[id] else { return .new }
        if released[id]?.contains(hash) == true { return .same }
        guard let known else { return .unknown }
        return known == hash ? .same : .different
    }

    /// How many contents the CSVs may hold under `id` (1 for an entry written once, more after a release).
    public func accepted(_ id: Int64) -> Int {
        hashes[id] == nil ? 0 : 1 + (released[id]?.count ?? 0)
    }

    /// Records in memory (the caller appends the same records to the file). A known hash other than the ones
    /// already accepted under that id is a released entry: both are in the CSVs from then on.
    public mutating func insert(_ id: Int64, hash: UInt64?) {
        guard let known = hashes[id] else { hashes[id] = hash; return }
        guard let hash, known != hash, released[id]?.contains(hash) != true else { return }
        released[id, default: []].append(hash)
    }

    public static func line(_ id: Int64, _ hash: UInt64?) -> String {
        "\(id)\t" + (hash.map { h in let s = String(h, radix: 16); return String(repeating: "0", count: 16 - s.count) + s } ?? "-") + "\n"
    }

    /// Reads the file; nil when there is none. A line that is not `<id>\t<hash>` is damage: the caller rebuilds.
    /// With `repair`, a torn last line (an append that never committed) is cut off, so the next append starts clean.
    public static func load(path: String, repair: Bool = false) throws -> WrittenSet? {
        guard FileSystem.exists(path) else { return nil }
        let bytes = try FileSystem.read(path)
        let end = (bytes.lastIndex(of: 0x0A) ?? -1) + 1
        if repair && end < bytes.count {
            let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { throw MTError(.ioError, "cannot open \(path) to repair it: \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            guard ftruncate(fd, off_t(end)) == 0, fsync(fd) == 0 else {
                throw MTError(.ioError, "cannot cut the torn last line of \(path): \(String(cString: strerror(errno)))")
            }
        }
        var set = WrittenSet()
        var lineNumber = 0
        var start = 0
        for i in bytes.indices where bytes[i] == 0x0A {
            lineNumber += 1
            let fields = bytes[start..<i].split(separator: 0x09, omittingEmptySubsequences: false)
            start = i + 1
            guard fields.count == 2, let id = Int64(String(decoding: fields[0], as: UTF8.self)) else {
                throw MTError(.dataError, "\(path):\(lineNumber): not an `<id> TAB <hash>` line")
            }
            let h = String(decoding: fields[1], as: UTF8.self)
            if h == "-" { set.insert(id, hash: nil); continue }
            guard h.utf8.count == 16, let v = UInt64(h, radix: 16) else {
                throw MTError(.dataError, "\(path):\(lineNumber): '\(h)' is not a 16-digit content hash")
            }
            set.insert(id, hash: v)
        }
        return set
    }

    /// Rebuilds the set from what is on disk when the file is missing or damaged: the ids in the scale's active
    /// CSVs (with a key) or in its archives (without one), each with the content of the oldest archive holding
    /// it (the entry written first; a later, different one under the same id was never written). An id the CSVs
    /// hold n times (a release) accepts the first n contents the archives hold under it.
    public static func rebuild(scale: String, layout: DataLayout, fromCSVs: Bool) throws -> (set: WrittenSet, unreadable: [String]) {
        var versions: [Int64: [UInt64]] = [:]
        var unreadable: [String] = []
        for name in try layout.archives(scale: scale) {
            do {
                try ArchiveReader.forEachEntry(layout: layout, archive: name) { e in
                    guard let id = e["id"]?.int64Value else { return }
                    let h = hash(e)
                    if versions[id]?.contains(h) != true { versions[id, default: []].append(h) }
                }
            } catch {
                unreadable.append(name.fileName)
            }
        }
        var set = WrittenSet()
        if fromCSVs {
            var seen: [Int64: Int] = [:]
            for path in try layout.activeCSVs(scale: scale) {
                let summary = CSVScan.summarize(path: path, scale: scale, recovered: false, inspect: false)
                for o in summary.ids {
                    let n = seen[o.id, default: 0]
                    seen[o.id] = n + 1
                    let known = versions[o.id] ?? []
                    if n == 0 { set.insert(o.id, hash: known.first) } else if n < known.count { set.insert(o.id, hash: known[n]) }
                }
            }
        } else {
            for (id, hs) in versions { set.insert(id, hash: hs[0]) }
        }
        return (set, unreadable)
    }

    /// The whole set, written atomically (after a rebuild).
    public func write(path: String) throws {
        var out = ""
        for id in hashes.keys.sorted() {
            out += Self.line(id, hashes[id]!)
            for h in released[id] ?? [] { out += Self.line(id, h) }
        }
        try FileSystem.writeAtomically(Array(out.utf8), to: path, mode: 0o600)
    }

    /// Appends records durably (after the CSV rows they stand for are on disk).
    public static func append(_ records: [(Int64, UInt64?)], path: String) throws {
        guard !records.isEmpty else { return }
        var out = ""
        for (id, h) in records { out += line(id, h) }
        try FileSystem.appendLinesDurably(Array(out.utf8), to: path)
    }
}

/// Id ranges, compact in JSON: `[[1, 100], [105, 105]]`.
public enum IDRanges {
    public static func ranges(_ ids: some Sequence<Int64>) -> [ClosedRange<Int64>] {
        var out: [ClosedRange<Int64>] = []
        for id in Set(ids).sorted() {
            if let last = out.last, last.upperBound &+ 1 == id { out[out.count - 1] = last.lowerBound...id } else { out.append(id...id) }
        }
        return out
    }

    public static func json(_ ranges: [ClosedRange<Int64>]) -> JSONValue {
        .array(ranges.map { .array([.int($0.lowerBound), .int($0.upperBound)]) })
    }

    public static func parse(_ v: JSONValue?) -> [ClosedRange<Int64>]? {
        guard let rows = v?.arrayValues else { return nil }
        var out: [ClosedRange<Int64>] = []
        for r in rows {
            guard let pair = r.arrayValues, pair.count == 2, let a = pair[0].int64Value, let b = pair[1].int64Value, a <= b else { return nil }
            out.append(a...b)
        }
        return out
    }

    public static func contains(_ ranges: [ClosedRange<Int64>], _ id: Int64) -> Bool {
        ranges.contains { $0.contains(id) }
    }
}
