import Foundation
import MTCore

/// Changes to `active_data/benchMark.json`, each under the data directory's lock (an export running at the
/// same moment would otherwise overwrite the change) and written atomically.
enum BenchmarkEdit {
    struct Change: Sendable, Equatable {
        var scale: String
        var old: Benchmark.Mark?
        var new: Benchmark.Mark?

        var description: String {
            func show(_ m: Benchmark.Mark?) -> String { m.map { "\($0.current)\($0.deleteable ? "" : " (not deleteable)")" } ?? "none" }
            return "\(scale): \(show(old)) -> \(show(new))"
        }

        var json: JSONValue {
            func mark(_ m: Benchmark.Mark?) -> JSONValue {
                m.map { .object([("current", .int($0.current)), ("deleteable", .bool($0.deleteable))]) } ?? .null
            }
            return .object([("scale", .string(scale)), ("old", mark(old)), ("new", mark(new))])
        }
    }

    /// A corrupt `benchMark.json` that an edit replaced: where its bytes were kept, what was wrong, and what
    /// could not be counted while rebuilding it.
    struct Repair: Sendable {
        var copy: String
        var problem: String
        var warnings: [String]
    }

    /// The mark a `set` would replace, to show before asking; `corrupt` says why the file cannot be read (the
    /// edit will rebuild it).
    static func current(layout: DataLayout, scale: String) -> (mark: Benchmark.Mark?, corrupt: String?) {
        do { return (try Benchmark.read(path: layout.benchmark)?.marks[scale], nil) } catch {
            return (nil, error.asMTError.message)
        }
    }

    /// Sets one scale's mark; `deleteable` nil keeps the present flag (true for a new scale, as the original's
    /// plain-number shape meant).
    static func set(layout: DataLayout, scale: String, id: Int64, deleteable: Bool?,
                           onRepair: (Repair) -> Void = { _ in }) throws -> [Change] {
        try checkScale(scale)
        return try edit(layout, onRepair: onRepair) { b, _ in
            let old = b.marks[scale]
            let new = Benchmark.Mark(current: id, deleteable: deleteable ?? old?.deleteable ?? true)
            b.marks[scale] = new
            return [Change(scale: scale, old: old, new: new)]
        }
    }

    /// Removes one scale's mark: the next export starts the scale afresh and creates the mark again.
    static func reset(layout: DataLayout, scale: String, onRepair: (Repair) -> Void = { _ in }) throws -> [Change] {
        try edit(layout, onRepair: onRepair) { b, repaired in
            guard let old = b.marks.removeValue(forKey: scale) else {
                // A rebuilt file without the scale is what the reset asked for.
                if repaired { return [] }
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
    static func importFile(_ path: String, layout: DataLayout, onRepair: (Repair) -> Void = { _ in }) throws -> [Change] {
        guard FileSystem.exists(path) else {
            throw MTError(.noInput, "\(path) does not exist", hint: "give the original tool's active_data/benchMark.json")
        }
        let imported = try Benchmark.parse(FileSystem.read(path), source: path)
        for scale in imported.marks.keys.sorted() { try checkScale(scale, source: path) }
        return try edit(layout, onRepair: onRepair) { b, _ in
            imported.marks.keys.sorted().compactMap { scale in
                let old = b.marks[scale], new = imported.marks[scale]!
                b.marks[scale] = new
                return old == new ? nil : Change(scale: scale, old: old, new: new)
            }
        }
    }

    /// Replaces the whole file with the marks the archives, the state and the deletion ledger prove. The file
    /// it replaces (valid or not) is kept next to it. Returns the changes, the copy and what could not be read.
    static func rebuild(layout: DataLayout) throws -> (changes: [Change], copy: String?, warnings: [String]) {
        let lock = try DirectoryLock(directory: layout.root)
        defer { lock.release() }
        try FileSystem.makeDirectories(layout.active)
        var old = Benchmark()
        var copy: String?
        if FileSystem.exists(layout.benchmark) {
            var label = "before-rebuild"
            do { old = try Benchmark.read(path: layout.benchmark) ?? Benchmark() } catch let e as MTError where e.exitCode == .dataError {
                label = "corrupt"
            }
            copy = try BenchmarkRebuild.keepCopy(of: layout.benchmark, label: label)
        }
        let derived = try BenchmarkRebuild.derive(layout: layout)
        let changes = Set(old.marks.keys).union(derived.benchmark.marks.keys).sorted().compactMap { scale in
            let o = old.marks[scale], n = derived.benchmark.marks[scale]
            return o == n ? nil : Change(scale: scale, old: o, new: n)
        }
        try derived.benchmark.write(path: layout.benchmark)
        return (changes, copy, derived.warnings)
    }

    private static func checkScale(_ scale: String, source: String? = nil) throws {
        guard SafeName.isValidScale(scale) else {
            throw MTError(.dataError, "\(source.map { "\($0): " } ?? "")'\(scale)' is not a valid scale name",
                          hint: "scale names hold only letters, digits, _ - and .")
        }
    }

    /// One change under the lock. A file that cannot be read is not an obstacle: these verbs are how it is
    /// repaired. Its bytes are kept as `benchMark.json.corrupt-<stamp>`, the marks are rebuilt from the data
    /// directory, and the change is applied on top.
    private static func edit(_ layout: DataLayout, onRepair: (Repair) -> Void,
                             _ change: (inout Benchmark, _ repaired: Bool) throws -> [Change]) throws -> [Change] {
        let lock = try DirectoryLock(directory: layout.root)
        defer { lock.release() }
        try FileSystem.makeDirectories(layout.active)
        var b: Benchmark
        var repaired = false
        do { b = try Benchmark.read(path: layout.benchmark) ?? Benchmark() } catch let e as MTError where e.exitCode == .dataError {
            let copy = try BenchmarkRebuild.keepCopy(of: layout.benchmark, label: "corrupt")
            let derived = try BenchmarkRebuild.derive(layout: layout)
            b = derived.benchmark
            repaired = true
            onRepair(Repair(copy: copy, problem: e.message, warnings: derived.warnings))
        }
        let changes = try change(&b, repaired)
        if !changes.isEmpty || repaired || !b.warnings.isEmpty { try b.write(path: layout.benchmark) }
        return changes
    }
}
