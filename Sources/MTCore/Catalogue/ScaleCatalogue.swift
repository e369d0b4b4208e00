import Foundation
import Yams

/// Which values of an item are valid ("in range"), from the catalogue's `valid:` rules.
public struct ValueRule: Sendable, Equatable {
    public enum Selector: Sendable, Equatable {
        case items(Set<String>)
        /// `*_NS` (suffix), `other*` (prefix), `*Desc*` (contains).
        case match([String])
        case rest
    }

    public enum Check: Sendable, Equatable {
        case range(lower: Int, upper: Int, codes: [Int])
        /// Exact values, as CSV cells spell them (`true`, `false`, `0`, `555`).
        case values([String])
        case text
        case list
    }

    public var selector: Selector
    public var check: Check

    public func applies(to item: String) -> Bool {
        switch selector {
        case .items(let set): set.contains(item)
        case .match(let patterns): patterns.contains { Self.glob($0, item) }
        case .rest: true
        }
    }

    static func glob(_ pattern: String, _ s: String) -> Bool {
        let lead = pattern.hasPrefix("*"), trail = pattern.hasSuffix("*")
        let core = String(pattern.dropFirst(lead ? 1 : 0).dropLast(trail && pattern.count > 1 ? 1 : 0))
        switch (lead, trail) {
        case (true, true): return s.contains(core)
        case (true, false): return s.hasSuffix(core)
        case (false, true): return s.hasPrefix(core)
        case (false, false): return s == core
        }
    }

    /// Whether a non-empty CSV cell is valid. Empty cells are "missing", not out of range.
    public func isValid(_ cell: String) -> Bool {
        switch check {
        case .text: return true
        case .list:
            guard cell.hasPrefix("[") else { return false }
            if case .array? = try? JSONParser.parse(Array(cell.utf8)) { return true }
            return false
        case .values(let allowed): return allowed.contains(cell)
        case let .range(lo, hi, codes):
            guard let n = Self.wholeNumber(cell) else { return false }
            return (lo...hi).contains(n) || codes.contains(n)
        }
    }

    /// `3`, `3.0` and ` 3` are the whole number 3; anything else is not a number.
    public static func wholeNumber(_ cell: String) -> Int? {
        if let n = Int(cell) { return n }
        let t = cell.trimmingCharacters(in: .whitespaces)
        if let n = Int(t) { return n }
        if let d = Double(t), d.isFinite, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        return nil
    }
}

/// A score of SCALES.md.
public struct ScoreSpec: Sendable, Equatable {
    public enum Kind: String, Sendable { case scaledSum, mean, ratio }
    public var name: String
    public var kind: Kind
    public var items: [String]
    public var match: [String]
    public var over: [String]
    public var overMatch: [String]

    /// The numerator's items among `columns` (all items for a scaled sum without a selection).
    public func numerator(in columns: [String]) -> [String] {
        select(items, match, in: columns) ?? columns
    }

    /// The denominator's items of a ratio.
    public func denominator(in columns: [String]) -> [String] {
        select(over, overMatch, in: columns) ?? []
    }

    private func select(_ names: [String], _ patterns: [String], in columns: [String]) -> [String]? {
        if names.isEmpty && patterns.isEmpty { return nil }
        let set = Set(names)
        return columns.filter { c in set.contains(c) || patterns.contains { ValueRule.glob($0, c) } }
    }
}

/// One questionnaire.
public struct ScaleSpec: Sendable, Equatable {
    public var name: String
    public var title: String
    public var deleteable: Bool
    /// The participant column when it differs from the catalogue's usual names.
    public var participant: String?
    public var items: [String]
    public var rules: [ValueRule]
    public var scores: [ScoreSpec]

    /// The first rule that applies to `item`, or nil when the scale has no rule for it.
    public func rule(for item: String) -> ValueRule? { rules.first { $0.applies(to: item) } }
}

/// The scale catalogue (config/scales.yaml, optionally overridden by a lab's own file).
public struct ScaleCatalogue: Sendable {
    public var notItems: Set<String>
    public var participantColumns: [String]
    public var missingCodes: [Int]
    public var sessions: [String]
    /// In file order.
    public var scales: [ScaleSpec]
    /// The files it was read from, base first.
    public var sources: [String]

    public func spec(for name: String) -> ScaleSpec? { scales.first { $0.name == name } }

    /// Whether a column holds answers (everything but id, date, participant, session, tag, …).
    public func isItem(_ column: String) -> Bool { !notItems.contains(column) }

    /// The participant column among `columns`: the scale's own name first, then the historic names.
    public func participantColumn(in columns: [String], scale: String?) -> String? {
        if let s = scale.flatMap(spec(for:))?.participant, columns.contains(s) { return s }
        return participantColumns.first { columns.contains($0) }
    }

    /// Scales of `other` replace same-named ones here; new ones are appended.
    public func overridden(by other: ScaleCatalogue) -> ScaleCatalogue {
        var out = self
        for s in other.scales {
            if let i = out.scales.firstIndex(where: { $0.name == s.name }) { out.scales[i] = s } else { out.scales.append(s) }
        }
        out.sources += other.sources
        return out
    }

    public static func load(path: String) throws -> ScaleCatalogue {
        try parse(FileSystem.readString(path), source: path)
    }

    /// The shipped catalogue with the server's `CATALOGUE` override (if any) on top.
    public static func standard(server: ServerConfig? = nil, environment: [String: String]) throws -> ScaleCatalogue {
        var c = try load(path: locate(environment: environment))
        if let extra = server?.catalogue { c = c.overridden(by: try load(path: extra)) }
        return c
    }

    /// Where the shipped catalogue is: `$MT_CATALOGUE`, then next to the installed binary
    /// (`PREFIX/share/mt/scales.yaml`), then `config/scales.yaml` of the source tree the binary was built in,
    /// then `./config/scales.yaml`.
    public static func locate(environment: [String: String]) throws -> String {
        var candidates: [String] = []
        if let p = environment["MT_CATALOGUE"], !p.isEmpty { candidates.append(p) }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = (exe as NSString).deletingLastPathComponent
            candidates.append((dir as NSString).deletingLastPathComponent + "/share/mt/scales.yaml")
            while dir.count > 1 {
                candidates.append(dir + "/config/scales.yaml")
                dir = (dir as NSString).deletingLastPathComponent
            }
        }
        candidates.append("config/scales.yaml")
        if let found = candidates.first(where: FileSystem.exists) { return found }
        throw MTError(.config, "the scale catalogue scales.yaml was not found; looked in: \(candidates.joined(separator: ", "))",
                      hint: "set MT_CATALOGUE to its path, or reinstall with make install")
    }

    public static func parse(_ text: String, source: String) throws -> ScaleCatalogue {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw MTError(.config, "\(source): not valid YAML: \(error)")
        }
        guard let root, case .mapping(let top) = root else {
            throw MTError(.config, "\(source): expected a mapping with `scales:` at the top level")
        }
        func fail(_ node: Node?, _ what: String) -> MTError {
            MTError(.config, "\(source):\(node?.mark?.line ?? 0): \(what)", hint: "see the comments at the top of config/scales.yaml")
        }
        func strings(_ n: Node?) -> [String] {
            guard let n else { return [] }
            if case .sequence(let s) = n { return s.compactMap(\.string) }
            return n.string.map { [$0] } ?? []
        }
        func ints(_ n: Node?, _ what: String) throws -> [Int] {
            try strings(n).map { s in
                guard let i = Int(s) else { throw fail(n, "\(what) must be whole numbers, not '\(s)'") }
                return i
            }
        }
        let columns = top["columns"]
        var scales: [ScaleSpec] = []
        if let sNode = top["scales"] {
            guard case .mapping(let m) = sNode else { throw fail(sNode, "`scales` must map scale names to their facts") }
            for (k, v) in m {
                guard let name = k.string, case .mapping(let f) = v else { throw fail(k, "each scale must be a mapping") }
                var rules: [ValueRule] = []
                if let vNode = f["valid"] {
                    guard case .sequence(let seq) = vNode else { throw fail(vNode, "scale \(name): `valid` must be a list of rules") }
                    for r in seq {
                        guard case .mapping(let rm) = r else { throw fail(r, "scale \(name): each rule must be a mapping") }
                        let selector: ValueRule.Selector
                        if rm["items"] != nil { selector = .items(Set(strings(rm["items"]))) }
                        else if rm["match"] != nil { selector = .match(strings(rm["match"])) }
                        else { selector = .rest }
                        let check: ValueRule.Check
                        if let range = rm["range"] {
                            let b = try ints(range, "range")
                            guard b.count == 2, b[0] <= b[1] else { throw fail(range, "scale \(name): range must be [lo, hi]") }
                            check = .range(lower: b[0], upper: b[1], codes: try ints(rm["codes"], "codes"))
                        } else if let values = rm["values"] {
                            check = .values(strings(values))
                        } else if let type = rm["type"]?.string {
                            switch type {
                            case "text": check = .text
                            case "list": check = .list
                            default: throw fail(rm["type"], "scale \(name): unknown rule type '\(type)' (text or list)")
                            }
                        } else {
                            throw fail(r, "scale \(name): a rule needs range, values or type")
                        }
                        rules.append(ValueRule(selector: selector, check: check))
                    }
                }
                var scores: [ScoreSpec] = []
                if case .sequence(let seq)? = f["scores"] {
                    for s in seq {
                        guard let sname = s["name"]?.string, let kindText = s["kind"]?.string,
                              let kind = ScoreSpec.Kind(rawValue: kindText) else {
                            throw fail(s, "scale \(name): a score needs a name and a kind (scaledSum, mean or ratio)")
                        }
                        let spec = ScoreSpec(name: sname, kind: kind, items: strings(s["items"]), match: strings(s["match"]),
                                             over: strings(s["over"]), overMatch: strings(s["overMatch"]))
                        if kind == .ratio && spec.over.isEmpty && spec.overMatch.isEmpty {
                            throw fail(s, "scale \(name): ratio score \(sname) needs `over` or `overMatch`")
                        }
                        scores.append(spec)
                    }
                }
                let deleteable = f["deleteable"]?.string.map { ["true", "yes"].contains($0.lowercased()) } ?? true
                scales.append(ScaleSpec(name: name, title: f["title"]?.string ?? name, deleteable: deleteable,
                                        participant: f["participant"]?.string, items: strings(f["items"]),
                                        rules: rules, scores: scores))
            }
        }
        return ScaleCatalogue(
            notItems: Set(strings(columns?["notItems"])),
            participantColumns: strings(columns?["participant"]),
            missingCodes: try ints(top["missingCodes"], "missingCodes"),
            sessions: strings(top["sessions"]),
            scales: scales,
            sources: [source])
    }
}
