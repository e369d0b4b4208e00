import Foundation

/// `raw_data/SHA256SUMS`: one line per archive, appended and fsynced when the archive is made durable.
public struct ChecksumLedger: Sendable {
    public let path: String
    public init(layout: DataLayout) { path = layout.checksums }

    public func append(archive: String, sha256: String) throws {
        try FileSystem.appendLinesDurably(Array("\(sha256)  \(archive)\n".utf8), to: path)
    }

    /// archive file name → checksum. A torn last line (crash mid-append) is ignored.
    public func read() throws -> [String: String] {
        guard FileSystem.exists(path) else { return [:] }
        var out: [String: String] = [:]
        for line in try FileSystem.readString(path).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 64 else { continue }
            out[String(parts[1].trimmingCharacters(in: .whitespaces))] = String(parts[0])
        }
        return out
    }
}

/// `ledger/deletions.tsv`, two kinds of line (see ARCHITECTURE.md, "The deletion ledger"):
/// - a request, `<local time>\t<scale>\t<id>\t<archive>`, for every id sent a DELETE, written and fsynced before
///   the request goes out, so that every deletion can be matched with the archive holding it;
/// - a confirmation, `<UTC time>\t<scale>\t<id>\t<archive>\t<status>`, when the server answered 200 (or 204) or
///   404, fsynced a batch at a time after the answers. Five fields, so a reader of four-field lines (an older mt)
///   skips it. A ledger written before confirmations existed has requests only.
public struct DeletionLedger: Sendable {
    public struct Entry: Sendable, Equatable {
        public var time: String
        public var scale: String
        public var id: Int64
        public var archive: String
        /// 1-based line in the ledger, for findings.
        public var line: Int
    }

    /// The server confirmed an id gone.
    public struct Confirmation: Sendable, Equatable {
        public var time: Date
        public var scale: String
        public var id: Int64
        public var archive: String
        /// 200 (deleted; 202 and 204 are written as 200) or 404 (already gone).
        public var status: Int
        public var line: Int

        public init(time: Date, scale: String, id: Int64, archive: String, status: Int, line: Int = 0) {
            self.time = time
            self.scale = scale
            self.id = id
            self.archive = archive
            self.status = status
            self.line = line
        }
    }

    public let path: String
    public init(layout: DataLayout) { path = layout.deletions }

    /// Records a batch of ids about to be deleted, durably, in one write.
    public func record(scale: String, ids: [Int64], archive: String, now: Date = Date()) throws {
        guard !ids.isEmpty else { return }
        let stamp = LocalTime.stamp(now)
        var text = ""
        for id in ids { text += "\(stamp)\t\(scale)\t\(id)\t\(archive)\n" }
        try FileSystem.makeDirectories((path as NSString).deletingLastPathComponent)
        try FileSystem.appendLinesDurably(Array(text.utf8), to: path)
    }

    /// Records answers that confirmed ids gone, durably, in one write.
    public func confirm(_ confirmations: [Confirmation]) throws {
        guard !confirmations.isEmpty else { return }
        var text = ""
        for c in confirmations {
            text += "\(UTCTime.iso8601(c.time))\t\(c.scale)\t\(c.id)\t\(c.archive)\t\(c.status == 404 ? 404 : 200)\n"
        }
        try FileSystem.makeDirectories((path as NSString).deletingLastPathComponent)
        try FileSystem.appendLinesDurably(Array(text.utf8), to: path)
    }

    /// The requests (what an older mt wrote, and still the proof that each deleted id is archived).
    public func read() throws -> [Entry] { try readAll().requests }

    /// Requests and confirmations in ledger order. Torn or foreign lines are skipped.
    public func readAll() throws -> (requests: [Entry], confirmations: [Confirmation]) {
        guard FileSystem.exists(path) else { return ([], []) }
        var requests: [Entry] = []
        var confirmations: [Confirmation] = []
        for (n, line) in try FileSystem.readString(path).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 4 || f.count == 5, let id = Int64(f[2]) else { continue }
            if f.count == 4 {
                requests.append(Entry(time: String(f[0]), scale: String(f[1]), id: id, archive: String(f[3]), line: n + 1))
            } else if let time = UTCTime.parse(String(f[0])), let status = Int(f[4]), status == 200 || status == 404 {
                confirmations.append(Confirmation(time: time, scale: String(f[1]), id: id, archive: String(f[3]),
                                                  status: status, line: n + 1))
            }
        }
        return (requests, confirmations)
    }
}

/// `active_data/benchMark.json`: per scale the highest exported id and whether the scale is deleteable.
/// Written as `{"OA": {"current": 812, "deleteable": true}}` so the original tool can read it; the older shape
/// `{"OA": 812}` is read too.
public struct Benchmark: Sendable, Equatable {
    public struct Mark: Sendable, Equatable {
        public var current: Int64
        public var deleteable: Bool
        public init(current: Int64, deleteable: Bool) {
            self.current = current
            self.deleteable = deleteable
        }
    }

    public var marks: [String: Mark]
    /// Marks read leniently (`50.0`, `"50"`): what a reader should pass on as warnings.
    public var warnings: [String] = []

    public init(marks: [String: Mark] = [:]) { self.marks = marks }

    public static func read(path: String) throws -> Benchmark? {
        guard FileSystem.exists(path) else { return nil }
        return try parse(FileSystem.read(path), source: path)
    }

    public static func parse(_ bytes: [UInt8], source: String) throws -> Benchmark {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch {
            throw MTError(.dataError, "\(source): not valid JSON: \(error)",
                          hint: "repair it with mt benchmark rebuild (from the archives), or import, set or reset: each keeps a copy of the broken file")
        }
        guard let fields = json.objectFields else {
            throw MTError(.dataError, "\(source): expected an object of scale → benchmark",
                          hint: "repair it with mt benchmark rebuild (from the archives), or import, set or reset: each keeps a copy of the broken file")
        }
        var marks: [String: Mark] = [:]
        var warnings: [String] = []
        for (scale, v) in fields {
            if let n = lenientID(v, source: source, scale: scale, warnings: &warnings) {
                marks[scale] = Mark(current: n, deleteable: true)
            } else if let c = v["current"], let n = lenientID(c, source: source, scale: scale, warnings: &warnings) {
                let d: Bool
                if case .bool(let b)? = v["deleteable"] { d = b } else { d = true }
                marks[scale] = Mark(current: n, deleteable: d)
            } else {
                throw MTError(.dataError, "\(source): scale \(scale): expected a whole number or {\"current\": N, \"deleteable\": true|false}",
                              hint: "repair it with mt benchmark rebuild, import, set or reset")
            }
        }
        var b = Benchmark(marks: marks)
        b.warnings = warnings
        return b
    }

    /// A mark as older tools wrote it: a whole number, also as `50.0` or `"50"` (read, with a warning, and
    /// written back as a plain number by the next change).
    static func lenientID(_ v: JSONValue, source: String, scale: String, warnings: inout [String]) -> Int64? {
        if let n = v.int64Value { return n }
        let text: String
        switch v {
        case .number(let t): text = t
        case .string(let s): text = s.trimmingCharacters(in: .whitespaces)
        default: return nil
        }
        var n = Int64(text)
        if n == nil, let d = Double(text), d.isFinite, d == d.rounded(), abs(d) < 9.0e15 { n = Int64(d) }
        guard let n else { return nil }
        let shown = if case .string = v { "\"\(text)\"" } else { text }
        warnings.append("\(source): scale \(scale): the mark \(shown) is read as \(n); the next change writes it as a whole number")
        return n
    }

    public var json: JSONValue {
        .object(marks.keys.sorted().map { k in
            (k, .object([("current", .int(marks[k]!.current)), ("deleteable", .bool(marks[k]!.deleteable))]))
        })
    }

    public func write(path: String) throws {
        try FileSystem.writeAtomically(JSONWriter.bytes(json, pretty: true) + [0x0A], to: path, mode: 0o600)
    }
}
