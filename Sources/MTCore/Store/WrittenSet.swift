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

    // Held compactly, because the set of a deleteable scale grows with every entry ever exported and is read
    // every five minutes: ids in ascending order with the first content hash of each (16 bytes an entry), and the
    // entries inserted since, merged in bulk once they are a sixteenth of the rest.
    private var ids: [Int64] = []
    private var firsts: [UInt64] = []
    /// Ids of `ids` whose first content is not known (their `firsts` slot is unused).
    private var unknownContent: Set<Int64> = []
    private var recent: [Int64: UInt64?] = [:]
    /// Further contents accepted under an id, in the order they were released (`mt benchmark release`).
    public private(set) var released: [Int64: [UInt64]] = [:]

    public init() {}

    public var count: Int { ids.count + recent.count }
    /// The highest id written.
    public var maxID: Int64? { [ids.last, recent.keys.max()].compactMap { $0 }.max() }
    public func contains(_ id: Int64) -> Bool { first(id) != nil }

    /// The content first written under `id`: nil when the id is not in the set, `.some(nil)` when it is but its
    /// content is not known.
    public func first(_ id: Int64) -> UInt64?? {
        if let r = recent[id] { return r }
        var lo = 0, hi = ids.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ids[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        guard lo < ids.count, ids[lo] == id else { return nil }
        return unknownContent.contains(id) ? .some(nil) : .some(firsts[lo])
    }

    public static func == (a: WrittenSet, b: WrittenSet) -> Bool {
        a.count == b.count && a.released == b.released && a.sortedRecords().elementsEqual(b.sortedRecords()) { $0 == $1 }
    }

    /// Every id with its first content, ascending.
    func sortedRecords() -> [(Int64, UInt64?)] {
        var all = ids.indices.map { (ids[$0], unknownContent.contains(ids[$0]) ? nil : Optional(firsts[$0])) }
        all += recent.map { ($0.key, $0.value) }
        return all.sorted { $0.0 < $1.0 }
    }

    /// Every content recorded under each id (the first and any released ones) that `other` does not hold as
    /// the same entry: what a set names and the CSVs behind `other` lack. Contents not known (`-`) are skipped.
    public func missing(from other: WrittenSet) -> [Int64: [UInt64]] {
        var out: [Int64: [UInt64]] = [:]
        for (id, first) in sortedRecords() {
            for h in [first].compactMap({ $0 }) + (released[id] ?? []) where other.verdict(id: id, hash: h) != .same {
                out[id, default: []].append(h)
            }
        }
        return out
    }

    /// The first 8 bytes of the digest, big-endian: the number whose hex is the first 16 digits of the SHA-256.
    public static func hash(_ entry: JSONValue) -> UInt64 {
        JSONWriter.bytes(entry).withUnsafeBytes { SHA256.prefix64($0) }
    }

    /// The same hash of an entry already in compact form (`JSONCompact`, which writes what `JSONWriter` writes).
    public static func hash(compact: [UInt8]) -> UInt64 {
        compact.withUnsafeBytes { SHA256.prefix64($0) }
    }

    public func verdict(id: Int64, hash: UInt64) -> Verdict {
        guard let known = first(id) else { return .new }
        if released[id]?.contains(hash) == true { return .same }
        guard let known else { return .unknown }
        return known == hash ? .same : .different
    }

    /// How many contents the CSVs may hold under `id` (1 for an entry written once, more after a release).
    public func accepted(_ id: Int64) -> Int {
        contains(id) ? 1 + (released[id]?.count ?? 0) : 0
    }

    /// Records in memory (the caller appends the same records to the file). A known hash other than the ones
    /// already accepted under that id is a released entry: both are in the CSVs from then on.
    public mutating func insert(_ id: Int64, hash: UInt64?) {
        guard let known = first(id) else {
            // Ids mostly come in ascending order (a file written in order, a server's new entries): straight in.
            if recent.isEmpty && id > ids.last ?? Int64.min {
                ids.append(id)
                firsts.append(hash ?? 0)
                if hash == nil { unknownContent.insert(id) }
                return
            }
            recent[id] = hash
            if recent.count >= max(4096, ids.count / 16) { merge() }
            return
        }
        guard let hash, known != hash, released[id]?.contains(hash) != true else { return }
        released[id, default: []].append(hash)
    }

    /// Room for `count` entries in all, so that inserting them never holds two copies of the arrays at once.
    public mutating func reserveCapacity(_ count: Int) {
        ids.reserveCapacity(count)
        firsts.reserveCapacity(count)
    }

    /// `recent` into the sorted arrays, merging from the back in place.
    private mutating func merge() {
        let add = recent.sorted { $0.key < $1.key }
        recent = [:]
        if ids.capacity < ids.count + add.count { reserveCapacity(ids.count + add.count + ids.count / 8) }
        var k = ids.count - 1
        var w = ids.count + add.count - 1
        ids.append(contentsOf: repeatElement(0, count: add.count))
        firsts.append(contentsOf: repeatElement(0, count: add.count))
        var j = add.count - 1
        while j >= 0 {
            if k >= 0 && ids[k] > add[j].key {
                ids[w] = ids[k]; firsts[w] = firsts[k]; k -= 1
            } else {
                ids[w] = add[j].key
                if let h = add[j].value { firsts[w] = h } else { firsts[w] = 0; unknownContent.insert(add[j].key) }
                j -= 1
            }
            w -= 1
        }
    }

    public static func line(_ id: Int64, _ hash: UInt64?) -> String {
        "\(id)\t" + (hash.map { h in let s = String(h, radix: 16); return String(repeating: "0", count: 16 - s.count) + s } ?? "-") + "\n"
    }

    /// Reads the file; nil when there is none. A line that is not `<id>\t<hash>` is damage: the caller rebuilds.
    /// With `repair`, a torn last line (an append that never committed) is cut off, so the next append starts clean.
    public static func load(path: String, repair: Bool = false) throws -> WrittenSet? {
        guard FileSystem.exists(path) else { return nil }
        var set = WrittenSet()
        var lineNumber = 0
        var line: [UInt8] = []
        var length = 0
        try FileSystem.readChunks(path) { chunk in
            for c in chunk {
                length += 1
                guard c == 0x0A else { line.append(c); continue }
                lineNumber += 1
                try set.insert(record: line, path: path, lineNumber: lineNumber)
                line.removeAll(keepingCapacity: true)
            }
        }
        // A torn last line (an append that never committed) is not part of the set.
        if repair && !line.isEmpty {
            let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { throw MTError(.ioError, "cannot open \(path) to repair it: \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            guard ftruncate(fd, off_t(length - line.count)) == 0, fsync(fd) == 0 else {
                throw MTError(.ioError, "cannot cut the torn last line of \(path): \(String(cString: strerror(errno)))")
            }
        }
        return set
    }

    /// One `<id> TAB <hash>` line of the file.
    private mutating func insert(record: [UInt8], path: String, lineNumber: Int) throws {
        guard let tab = record.firstIndex(of: 0x09), let id = Int64(String(decoding: record[..<tab], as: UTF8.self)),
              !record[(tab + 1)...].contains(0x09) else {
            throw MTError(.dataError, "\(path):\(lineNumber): not an `<id> TAB <hash>` line")
        }
        let h = record[(tab + 1)...]
        if h.elementsEqual("-".utf8) { insert(id, hash: nil); return }
        guard h.count == 16, let v = UInt64(String(decoding: h, as: UTF8.self), radix: 16) else {
            throw MTError(.dataError, "\(path):\(lineNumber): '\(String(decoding: h, as: UTF8.self))' is not a 16-digit content hash")
        }
        insert(id, hash: v)
    }

    /// Rebuilds the set from what is on disk when the file is missing or damaged: the ids in the scale's active
    /// CSVs (with a key) or in its archives (without one). An id the archives hold with one content gets it. An
    /// id they hold with several (the server's ids restarted, or a release) gets, for each of its CSV rows, the
    /// content that row really holds: the archived version whose cells, RSA fields aside (their ciphertext
    /// differs at every encryption), are the row's. Order decides only between versions the row cannot tell
    /// apart, and then it is the order archives were made in (`DataLayout.archives()`), never a clock's.
    /// Without a key, each id gets its first archived content.
    public static func rebuild(scale: String, layout: DataLayout, fromCSVs: Bool) throws -> (set: WrittenSet, unreadable: [String]) {
        var versions: [Int64: [UInt64]] = [:]
        var unreadable: [String] = []
        let archives = try layout.archives(scale: scale)
        for name in archives {
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
        guard fromCSVs else {
            for (id, hs) in versions { set.insert(id, hash: hs[0]) }
            return (set, unreadable)
        }
        let ambiguous = Set(versions.filter { $0.value.count > 1 }.keys)
        var candidates: [Int64: [(hash: UInt64, entry: JSONValue)]] = [:]
        if !ambiguous.isEmpty {
            for name in archives where !unreadable.contains(name.fileName) {
                try ArchiveReader.forEachEntry(layout: layout, archive: name) { e in
                    guard let id = e["id"]?.int64Value, ambiguous.contains(id) else { return }
                    let h = hash(e)
                    if candidates[id]?.contains(where: { $0.hash == h }) != true { candidates[id, default: []].append((h, e)) }
                }
            }
        }
        var claimed: [Int64: [UInt64]] = [:]
        for path in try layout.activeCSVs(scale: scale) {
            let summary = CSVScan.summarize(path: path, scale: scale, recovered: false, inspect: false)
            let rows = summary.ids.contains { ambiguous.contains($0.id) } ? try ambiguousRows(path: path, ids: ambiguous) : [:]
            for o in summary.ids {
                let known = versions[o.id] ?? []
                guard known.count > 1 else {
                    if claimed[o.id] == nil { set.insert(o.id, hash: known.first); claimed[o.id] = known }
                    continue
                }
                let taken = claimed[o.id] ?? []
                let matching = rows[o.line].map { row in
                    (candidates[o.id] ?? []).filter { !taken.contains($0.hash) && sameCells(row, $0.entry) }.map(\.hash)
                } ?? []
                guard let h = matching.first ?? known.first(where: { !taken.contains($0) }) else { continue }
                set.insert(o.id, hash: h)
                claimed[o.id, default: []].append(h)
            }
        }
        return (set, unreadable)
    }

    /// The set without `gone` (a participant's withdrawal): every other id, content and release kept.
    public func removing(_ gone: Set<Int64>) -> WrittenSet {
        var out = WrittenSet()
        for (id, h) in sortedRecords() where !gone.contains(id) { out.insert(id, hash: h) }
        out.released = released.filter { !gone.contains($0.key) }
        return out
    }

    /// The rows of a CSV whose id is one of `ids`, by line, as header name → cell.
    private static func ambiguousRows(path: String, ids: Set<Int64>) throws -> [Int: [String: String]] {
        var reader = try CSVReader(path: path)
        defer { reader.close() }
        guard let header = try reader.next(), let idColumn = header.firstIndex(of: "id") else { return [:] }
        var out: [Int: [String: String]] = [:]
        while let row = try reader.next() {
            guard idColumn < row.count, let id = Int64(row[idColumn]), ids.contains(id) else { continue }
            out[reader.rowLine] = Dictionary(zip(header, row).map { ($0, $1) }, uniquingKeysWith: { a, _ in a })
        }
        return out
    }

    /// Whether a CSV row holds this archived entry: every field but the RSA ones written as the CSV writes it.
    private static func sameCells(_ row: [String: String], _ entry: JSONValue) -> Bool {
        for (k, v) in entry.objectFields ?? [] where !k.hasSuffix("RSA") {
            guard let cell = row[k], cell == CSVCell.text(v) else { return false }
        }
        return true
    }

    /// The whole set, written atomically (after a rebuild).
    public func write(path: String) throws {
        var out = ""
        for (id, h) in sortedRecords() {
            out += Self.line(id, h)
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
