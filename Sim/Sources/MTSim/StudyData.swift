import MTCore

/// One entry as served: its exact JSON bytes (never re-serialised, so number text and escapes stay as given),
/// with the id and date the contract needs.
public struct SimEntry: Sendable, Equatable {
    public var id: Int64
    /// Seconds since the epoch of the `date` field; nil when there is none, it is null or not a Java date.
    public var time: Int64?
    /// The same for `dateCompleted` (TaskLog) and `dateSent` (the *Log tables of sent messages).
    public var completed: Int64?
    public var sent: Int64?
    public var raw: [UInt8]

    public init(id: Int64, time: Int64?, raw: [UInt8], completed: Int64? = nil, sent: Int64? = nil) {
        self.id = id
        self.time = time
        self.completed = completed
        self.sent = sent
        self.raw = raw
    }

    /// Reads id and date from one entry's bytes; `origin` names the file and position for messages.
    public init(raw: [UInt8], origin: String) throws {
        let value: JSONValue
        do { value = try JSONParser.parse(raw) } catch {
            throw MTError(.dataError, "\(origin): invalid JSON entry: \(error)")
        }
        guard case .object = value else { throw MTError(.dataError, "\(origin): an entry must be a JSON object") }
        guard let id = value["id"]?.int64Value else {
            throw MTError(.dataError, "\(origin): entry without an integer \"id\"",
                          hint: "every entry needs \"id\": a whole number, unique across all scales")
        }
        self.init(id: id, time: value["date"]?.stringValue.flatMap(JavaDate.parse), raw: raw,
                  completed: value["dateCompleted"]?.stringValue.flatMap(JavaDate.parse),
                  sent: value["dateSent"]?.stringValue.flatMap(JavaDate.parse))
    }
}

/// One table ("scale") of the study.
public struct SimScale: Sendable {
    public var name: String
    public var deleteable: Bool
    public var entries: [SimEntry]

    public init(name: String, deleteable: Bool, entries: [SimEntry]) {
        self.name = name
        self.deleteable = deleteable
        self.entries = entries
    }
}

/// A study on disk: `<Scale>.json` arrays, plus `deleteable.json` (`{"Demographic": false}`; scales it does
/// not name are deleteable).
public enum StudyFiles {
    public static let deleteableFile = "deleteable.json"

    public static func load(directory: String, keep: Set<String>) throws -> [SimScale] {
        guard FileSystem.isDirectory(directory) else {
            throw MTError(.noInput, "data folder \(directory) does not exist", hint: "create it, or use --generate to build a study there")
        }
        var flags: [String: Bool] = [:]
        let flagPath = directory + "/" + deleteableFile
        if FileSystem.exists(flagPath) {
            guard case .object(let fields) = try JSONParser.parse(FileSystem.read(flagPath)) else {
                throw MTError(.dataError, "\(flagPath) must be a JSON object like {\"Demographic\": false}")
            }
            for (k, v) in fields {
                guard case .bool(let b) = v else { throw MTError(.dataError, "\(flagPath): \"\(k)\" must be true or false") }
                flags[k] = b
            }
        }
        var scales: [SimScale] = []
        for file in try FileSystem.list(directory).sorted() where file.hasSuffix(".json") && file != deleteableFile {
            let name = String(file.dropLast(5))
            guard SafeName.isValidScale(name) else {
                throw MTError(.dataError, "\(directory)/\(file): '\(name)' is not a usable scale name",
                              hint: "use letters, digits, '_', '-' and '.' only")
            }
            let path = directory + "/" + file
            let bytes = try FileSystem.read(path)
            let entries = try splitArray(bytes, origin: path).map { range in
                try SimEntry(raw: Array(bytes[range]), origin: "\(path) (byte \(range.lowerBound))")
            }
            scales.append(SimScale(name: name, deleteable: !keep.contains(name) && (flags[name] ?? true), entries: entries))
        }
        return scales
    }

    /// Writes a study so that `--data` serves it again (one entry per line, for people who look inside).
    public static func write(_ scales: [SimScale], to directory: String) throws {
        try FileSystem.makeDirectories(directory)
        for s in scales {
            var out: [UInt8] = [UInt8(ascii: "[")]
            for (k, e) in s.entries.enumerated() {
                out.append(contentsOf: k == 0 ? [0x0A] : [UInt8(ascii: ","), 0x0A])
                out.append(contentsOf: e.raw)
            }
            out.append(contentsOf: Array("\n]\n".utf8))
            try FileSystem.writeAtomically(out, to: directory + "/\(s.name).json", mode: 0o644)
        }
        let flags = JSONValue.object(scales.map { ($0.name, .bool($0.deleteable)) })
        try FileSystem.writeAtomically(JSONWriter.bytes(flags, pretty: true) + [0x0A], to: directory + "/" + deleteableFile, mode: 0o644)
    }

    /// Byte ranges of the elements of a top-level JSON array, after checking the whole document parses.
    static func splitArray(_ bytes: [UInt8], origin: String) throws -> [Range<Int>] {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw MTError(.dataError, "\(origin): invalid JSON: \(error)") }
        guard case .array = value else { throw MTError(.dataError, "\(origin): expected a JSON array of entries") }
        var ranges: [Range<Int>] = []
        var i = 0
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }
        while bytes[i] != UInt8(ascii: "[") { i += 1 }
        i += 1
        while true {
            while isSpace(bytes[i]) { i += 1 }
            if bytes[i] == UInt8(ascii: "]") { return ranges }
            let start = i
            var depth = 0, inString = false
            scan: while true {
                let c = bytes[i]
                if inString {
                    if c == UInt8(ascii: "\\") { i += 1 } else if c == UInt8(ascii: "\"") { inString = false }
                } else {
                    switch c {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        if depth == 0 { break scan }
                        depth -= 1
                    case UInt8(ascii: ","): if depth == 0 { break scan }
                    default: break
                    }
                }
                i += 1
            }
            var end = i
            while isSpace(bytes[end - 1]) { end -= 1 }
            ranges.append(start..<end)
            if bytes[i] == UInt8(ascii: ",") { i += 1 }
        }
    }
}
