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

/// `ledger/deletions.tsv`: `<local time>\t<scale>\t<id>\t<archive>` for every id sent a DELETE, written and
/// fsynced before the request goes out, so that every deletion can be matched with the archive holding it.
public struct DeletionLedger: Sendable {
    public struct Entry: Sendable, Equatable {
        public var time: String
        public var scale: String
        public var id: Int64
        public var archive: String
        /// 1-based line in the ledger, for findings.
        public var line: Int
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

    public func read() throws -> [Entry] {
        guard FileSystem.exists(path) else { return [] }
        var out: [Entry] = []
        for (n, line) in try FileSystem.readString(path).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 4, let id = Int64(f[2]) else { continue }
            out.append(Entry(time: String(f[0]), scale: String(f[1]), id: id, archive: String(f[3]), line: n + 1))
        }
        return out
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

    public init(marks: [String: Mark] = [:]) { self.marks = marks }

    public static func read(path: String) throws -> Benchmark? {
        guard FileSystem.exists(path) else { return nil }
        return try parse(FileSystem.read(path), source: path)
    }

    public static func parse(_ bytes: [UInt8], source: String) throws -> Benchmark {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch {
            throw MTError(.dataError, "\(source): not valid JSON: \(error)", hint: "repair it with mt benchmark import or reset")
        }
        guard let fields = json.objectFields else {
            throw MTError(.dataError, "\(source): expected an object of scale → benchmark")
        }
        var marks: [String: Mark] = [:]
        for (scale, v) in fields {
            if let n = v.int64Value {
                marks[scale] = Mark(current: n, deleteable: true)
            } else if let n = v["current"]?.int64Value {
                let d: Bool
                if case .bool(let b)? = v["deleteable"] { d = b } else { d = true }
                marks[scale] = Mark(current: n, deleteable: d)
            } else {
                throw MTError(.dataError, "\(source): scale \(scale): expected a whole number or {\"current\": N, \"deleteable\": true|false}")
            }
        }
        return Benchmark(marks: marks)
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
