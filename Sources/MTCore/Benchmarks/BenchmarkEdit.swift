import Foundation

/// Changes to `active_data/benchMark.json`, each under the data directory's lock (an export running at the
/// same moment would otherwise overwrite the change) and written atomically.
public enum BenchmarkEdit {
    public struct Change: Sendable, Equatable {
        public var scale: String
        public var old: Benchmark.Mark?
        public var new: Benchmark.Mark?

        public var description: String {
            func show(_ m: Benchmark.Mark?) -> String { m.map { "\($0.current)\($0.deleteable ? "" : " (not deleteable)")" } ?? "none" }
            return "\(scale): \(show(old)) -> \(show(new))"
        }

        public var json: JSONValue {
            func mark(_ m: Benchmark.Mark?) -> JSONValue {
                m.map { .object([("current", .int($0.current)), ("deleteable", .bool($0.deleteable))]) } ?? .null
            }
            return .object([("scale", .string(scale)), ("old", mark(old)), ("new", mark(new))])
        }
    }

    /// The mark a `set` would replace, to show before asking.
    public static func current(layout: DataLayout, scale: String) throws -> Benchmark.Mark? {
        try Benchmark.read(path: layout.benchmark)?.marks[scale]
    }

    /// Sets one scale's mark; `deleteable` nil keeps the present flag (true for a new scale, as the original's
    /// plain-number shape meant).
    public static func set(layout: DataLayout, scale: String, id: Int64, deleteable: Bool?) throws -> Change {
        try checkScale(scale)
        return try editOne(layout) { b in
            let old = b.marks[scale]
            let new = Benchmark.Mark(current: id, deleteable: deleteable ?? old?.deleteable ?? true)
            b.marks[scale] = new
            return [Change(scale: scale, old: old, new: new)]
        }
    }

    /// Removes one scale's mark: the next export starts the scale afresh and creates the mark again.
    public static func reset(layout: DataLayout, scale: String) throws -> Change {
        try editOne(layout) { b in
            guard let old = b.marks.removeValue(forKey: scale) else {
                let known = b.marks.keys.sorted()
                var hint = known.isEmpty ? "the file holds no scale" : "scales in it: \(known.joined(separator: ", "))"
                if let close = Suggest.closest(to: scale, in: known) { hint = "did you mean '\(close)'? " + hint }
                throw MTError(.noInput, "\(layout.benchmark) has no benchmark for scale \(scale)", hint: hint)
            }
            return [Change(scale: scale, old: old, new: nil)]
        }
    }

    /// Takes the marks of an original `benchMark.json` (either historic shape) over the present ones; scales the
    /// file does not name keep their marks.
    public static func importFile(_ path: String, layout: DataLayout) throws -> [Change] {
        guard FileSystem.exists(path) else {
            throw MTError(.noInput, "\(path) does not exist", hint: "give the original tool's active_data/benchMark.json")
        }
        let imported = try Benchmark.parse(FileSystem.read(path), source: path)
        for scale in imported.marks.keys.sorted() { try checkScale(scale, source: path) }
        return try edit(layout) { b in
            imported.marks.keys.sorted().compactMap { scale in
                let old = b.marks[scale], new = imported.marks[scale]!
                b.marks[scale] = new
                return old == new ? nil : Change(scale: scale, old: old, new: new)
            }
        }
    }

    private static func checkScale(_ scale: String, source: String? = nil) throws {
        guard SafeName.isValidScale(scale) else {
            throw MTError(.dataError, "\(source.map { "\($0): " } ?? "")'\(scale)' is not a valid scale name",
                          hint: "scale names hold only letters, digits, _ - and .")
        }
    }

    private static func edit(_ layout: DataLayout, _ change: (inout Benchmark) throws -> [Change]) throws -> [Change] {
        let lock = try DirectoryLock(directory: layout.root)
        defer { lock.release() }
        try FileSystem.makeDirectories(layout.active)
        var b = try Benchmark.read(path: layout.benchmark) ?? Benchmark()
        let changes = try change(&b)
        if !changes.isEmpty { try b.write(path: layout.benchmark) }
        return changes
    }

    private static func editOne(_ layout: DataLayout, _ change: (inout Benchmark) throws -> [Change]) throws -> Change {
        try edit(layout, change)[0]
    }
}
