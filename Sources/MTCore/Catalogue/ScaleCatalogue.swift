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

/// A score, as the study's own code (a Java `score()`) or the analysts' scripts compute it. Scores read only the
/// scale's listed items (never "every other column"), skip empty cells and the scale's no-answer codes, and
/// compute from exact sums (so 84 / 5 prints as 16.8).
public struct ScoreSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// mean of the answered items × the number of items in the score (MTData's `SUM`)
        case scaledSum
        /// mean of the answered items × `factor` (1 unless given)
        case mean
        /// mean of `items`/`match` ÷ mean of `over`/`overMatch`
        case ratio
        /// mean of `items`/`match` − mean of `over`/`overMatch`
        case difference
    }
    public var name: String
    public var kind: Kind
    public var items: [String]
    public var match: [String]
    public var over: [String]
    public var overMatch: [String]
    public var factor: Double
    /// Where the formula comes from (a Java method, an R script), for `mt scales show`.
    public var note: String?

    public init(name: String, kind: Kind, items: [String] = [], match: [String] = [], over: [String] = [],
                overMatch: [String] = [], factor: Double = 1, note: String? = nil) {
        self.name = name
        self.kind = kind
        self.items = items
        self.match = match
        self.over = over
        self.overMatch = overMatch
        self.factor = factor
        self.note = note
    }

    /// The numerator's items among the scale's items (all of them when the score names none).
    public func numerator(in items: [String]) -> [String] {
        select(self.items, match, in: items) ?? items
    }

    /// The denominator's (ratio) or subtrahend's (difference) items among the scale's items.
    public func denominator(in items: [String]) -> [String] {
        select(over, overMatch, in: items) ?? []
    }

    private func select(_ names: [String], _ patterns: [String], in items: [String]) -> [String]? {
        if names.isEmpty && patterns.isEmpty { return nil }
        let set = Set(names)
        return items.filter { c in set.contains(c) || patterns.contains { ValueRule.glob($0, c) } }
    }
}

/// Which answers mean "prefer not to answer" when scoring: listed codes, and (r34's DASS21_AS, whose Java
/// `score()` counts only answers >= 0) every negative number.
public struct NoAnswer: Sendable, Equatable {
    public var codes: [Int]
    public var negative: Bool

    public init(codes: [Int], negative: Bool = false) {
        self.codes = codes
        self.negative = negative
    }

    public func excludes(_ v: Double) -> Bool {
        (negative && v < 0) || codes.contains { Double($0) == v }
    }

    public var description: String {
        (codes.map(String.init) + (negative ? ["any negative number"] : [])).joined(separator: ", ")
    }
}

/// One questionnaire.
public struct ScaleSpec: Sendable, Equatable {
    public var name: String
    public var title: String
    public var deleteable: Bool
    /// The participant column when it differs from the catalogue's usual names.
    public var participant: String?
    /// The item columns, exactly as the study's domain class names its fields.
    public var items: [String]
    /// Columns of this table that are neither items nor the catalogue's usual metadata (`over18`).
    public var metadata: [String]
    public var rules: [ValueRule]
    public var scores: [ScoreSpec]
    /// "Prefer not to answer" when scoring; nil: the catalogue's `missingCodes`.
    public var noAnswer: NoAnswer?
    /// Where the definition was read (a Java class, a CSV header), from the catalogue's `source:`.
    public var source: String?
    /// Which definition this is: `base`, a study's name, or a lab file.
    public var origin: String
    /// The studies whose server has this table (empty: not recorded).
    public var studies: [String]
    /// Question texts and answer labels from the study's question page (config/labels.yaml), when known.
    public var labels: ScaleLabels?

    public init(name: String, title: String, deleteable: Bool = true, participant: String? = nil, items: [String],
                metadata: [String] = [], rules: [ValueRule] = [], scores: [ScoreSpec] = [], noAnswer: NoAnswer? = nil,
                source: String? = nil, origin: String = "base", studies: [String] = []) {
        self.name = name
        self.title = title
        self.deleteable = deleteable
        self.participant = participant
        self.items = items
        self.metadata = metadata
        self.rules = rules
        self.scores = scores
        self.noAnswer = noAnswer
        self.source = source
        self.origin = origin
        self.studies = studies
    }

    /// The first rule that applies to `item`, or nil when the scale has no rule for it. Only listed items are
    /// checked: a column the catalogue does not list (free text, a counter, `over18`) is never range-checked.
    public func rule(for item: String) -> ValueRule? {
        guard items.isEmpty || items.contains(item) else { return nil }
        return rules.first { $0.applies(to: item) }
    }
}

/// The scale catalogue (config/scales.yaml, optionally overridden by a lab's own file), resolved for one study
/// or, with none chosen, its shared base.
public struct ScaleCatalogue: Sendable {
    public var notItems: Set<String>
    public var participantColumns: [String]
    public var missingCodes: [Int]
    public var sessions: [String]
    /// In file order.
    public var scales: [ScaleSpec]
    /// The files it was read from, base first.
    public var sources: [String]
    /// The studies the file defines (`studies:`), in file order.
    public var studies: [StudyDefinition] = []
    /// The study the scales were resolved for; nil: the shared base.
    public var study: Study?

    public func spec(for name: String) -> ScaleSpec? { scales.first { $0.name == name } }

    /// Whether a column holds answers (everything but id, date, participant, session, tag, …).
    public func isItem(_ column: String) -> Bool { !notItems.contains(column) }

    /// The scales a study's server has (all of them when no study is chosen, or the scale does not say).
    public var scalesOfStudy: [ScaleSpec] {
        guard let study else { return scales }
        return scales.filter { $0.studies.isEmpty || $0.studies.contains(study.name) }
    }

    /// The participant column among `columns`: the scale's own name first, then the historic names, then (as
    /// the original tool did) the first column whose name contains "participant".
    public func participantColumn(in columns: [String], scale: String?) -> String? {
        if let s = scale.flatMap(spec(for:))?.participant, columns.contains(s) { return s }
        if let known = participantColumns.first(where: columns.contains) { return known }
        return columns.first { $0.contains("participant") }
    }

    /// Whether `column` is a participant column only by the "contains participant" rule (worth telling).
    public func isGuessedParticipant(_ column: String, scale: String?) -> Bool {
        !participantColumns.contains(column) && scale.flatMap(spec(for:))?.participant != column
    }

    /// Scales of `other` replace same-named ones here; new ones are appended.
    public func overridden(by other: ScaleCatalogue) -> ScaleCatalogue {
        var out = self
        for s in other.scales {
            if let i = out.scales.firstIndex(where: { $0.name == s.name }) { out.scales[i] = s } else { out.scales.append(s) }
        }
        out.sources += other.sources
        for d in other.studies where !out.studies.contains(where: { $0.study == d.study }) { out.studies.append(d) }
        return out
    }

    /// The catalogue with `study`'s definitions over the shared base (a study's scale replaces the base's
    /// whole). `required`: an unknown study is a configuration error.
    public func resolved(for study: Study?, required: Bool = true) throws -> ScaleCatalogue {
        guard let study else { return self }
        var out = self
        out.study = study
        guard let def = studies.first(where: { $0.study == study }) else {
            if !required { return out }
            let known = studies.map(\.study.name)
            var hint = "studies in the catalogue: \(known.joined(separator: ", "))"
            if let close = Suggest.closest(to: study.name, in: known) { hint = "did you mean '\(close)'? " + hint }
            throw MTError(.config, "unknown study '\(study.name)' (STUDY or --study); the catalogue \(sources.joined(separator: " + ")) does not define it",
                          hint: hint)
        }
        for s in def.scales {
            if let i = out.scales.firstIndex(where: { $0.name == s.name }) { out.scales[i] = s } else { out.scales.append(s) }
        }
        return out
    }

    public static func load(path: String) throws -> ScaleCatalogue {
        try parse(FileSystem.readString(path), source: path)
    }

    /// The shipped catalogue resolved for the study (`study`, else the server's `STUDY`), with the server's
    /// `CATALOGUE` override (if any, resolved for the same study) on top.
    public static func standard(server: ServerConfig? = nil, study: Study? = nil,
                                environment: [String: String]) throws -> ScaleCatalogue {
        let chosen = study ?? server?.study.map(Study.init)
        let path = try locate(environment: environment)
        let base = try load(path: path)
        let labelsFile = labelsPath(besides: path)
        let labels = FileSystem.exists(labelsFile) ? try ScaleLabels.load(path: labelsFile) : [:]
        guard let extra = server?.catalogue else { return try base.resolved(for: chosen).labelled(by: labels) }
        let lab = try load(path: extra)
        let labHas = chosen.map { c in lab.studies.contains { $0.study == c } } ?? false
        return try base.resolved(for: chosen, required: !labHas).overridden(by: lab.resolved(for: chosen, required: false))
            .labelled(by: labels)
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
                      hint: "set MT_CATALOGUE to its path, or reinstall mt (apt install --reinstall mt, or make install)")
    }

    /// The shipped catalogue as this binary finds it (installed or in its source tree), for hints that send the
    /// reader to its comments; the package's place when none is found.
    static var shippedForHints: String {
        (try? locate(environment: [:])) ?? "/usr/share/mt/scales.yaml"
    }

    /// Reads `columns`, `missingCodes`, `sessions`, `scales` and `studies`; other top-level sections, and other
    /// keys of a study, are ignored, so that later sections (study-level facts) do not break this reader.
    public static func parse(_ text: String, source: String) throws -> ScaleCatalogue {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw MTError(.config, "\(source): not valid YAML: \(error)")
        }
        guard let root, case .mapping(let top) = root else {
            throw MTError(.config, "\(source): expected a mapping with `scales:` at the top level")
        }
        let reader = CatalogueReader(source: source)
        let columns = top["columns"]
        let scales = try reader.scales(top["scales"], origin: "base")
        var studies: [StudyDefinition] = []
        if let sNode = top["studies"] {
            guard case .mapping(let m) = sNode else { throw reader.fail(sNode, "`studies` must map study names to their definitions") }
            for (k, v) in m {
                guard let name = k.string, !name.isEmpty, case .mapping(let f) = v else {
                    throw reader.fail(k, "each study must be a mapping (source:, scales:)")
                }
                studies.append(StudyDefinition(study: Study(name), title: f["title"]?.string ?? name,
                                               source: f["source"]?.string,
                                               scales: try reader.scales(f["scales"], origin: name)))
            }
        }
        return ScaleCatalogue(
            notItems: Set(reader.strings(columns?["notItems"])),
            participantColumns: reader.strings(columns?["participant"]),
            missingCodes: try reader.ints(top["missingCodes"], "missingCodes"),
            sessions: reader.strings(top["sessions"]),
            scales: scales,
            sources: [source],
            studies: studies)
    }
}

/// Reads the scale mappings of a catalogue file (the base's `scales:` and each study's).
struct CatalogueReader {
    var source: String

    func fail(_ node: Node?, _ what: String) -> MTError {
        MTError(.config, "\(source):\(node?.mark?.line ?? 0): \(what)", hint: "see the comments at the top of \(ScaleCatalogue.shippedForHints)")
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

    func scales(_ sNode: Node?, origin: String) throws -> [ScaleSpec] {
        guard let sNode else { return [] }
        guard case .mapping(let m) = sNode else { throw fail(sNode, "`scales` must map scale names to their facts") }
        var out: [ScaleSpec] = []
        for (k, v) in m {
            guard let name = k.string, case .mapping(let f) = v else { throw fail(k, "each scale must be a mapping") }
            out.append(try scale(name, f, origin: origin))
        }
        return out
    }

    func scale(_ name: String, _ f: Node.Mapping, origin: String) throws -> ScaleSpec {
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
        let items = strings(f["items"])
        let known = Set(items)
        var scores: [ScoreSpec] = []
        if case .sequence(let seq)? = f["scores"] {
            let kinds = ScoreSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            for s in seq {
                guard let sname = s["name"]?.string, let kindText = s["kind"]?.string,
                      let kind = ScoreSpec.Kind(rawValue: kindText) else {
                    throw fail(s, "scale \(name): a score needs a name and a kind (\(kinds))")
                }
                var factor = 1.0
                if let fNode = s["factor"] {
                    guard let text = fNode.string, let v = Double(text), v.isFinite else {
                        throw fail(fNode, "scale \(name): score \(sname): factor must be a number")
                    }
                    factor = v
                }
                let spec = ScoreSpec(name: sname, kind: kind, items: strings(s["items"]), match: strings(s["match"]),
                                     over: strings(s["over"]), overMatch: strings(s["overMatch"]), factor: factor,
                                     note: s["source"]?.string)
                if (kind == .ratio || kind == .difference) && spec.over.isEmpty && spec.overMatch.isEmpty {
                    throw fail(s, "scale \(name): \(kindText) score \(sname) needs `over` or `overMatch`")
                }
                // Scores read the listed items only: a name that is not one of them is a typo, not a column.
                if let stray = (spec.items + spec.over).first(where: { !known.contains($0) }) {
                    throw fail(s, "scale \(name): score \(sname) names '\(stray)', which is not one of the scale's items")
                }
                scores.append(spec)
            }
        }
        var noAnswer: NoAnswer?
        if let nNode = f["noAnswer"] {
            let words = strings(nNode)
            let codes = try words.filter { $0 != "negative" }.map { w -> Int in
                guard let i = Int(w) else { throw fail(nNode, "scale \(name): noAnswer lists whole numbers or `negative`, not '\(w)'") }
                return i
            }
            noAnswer = NoAnswer(codes: codes, negative: words.contains("negative"))
        }
        let deleteable = f["deleteable"]?.string.map { ["true", "yes"].contains($0.lowercased()) } ?? true
        return ScaleSpec(name: name, title: f["title"]?.string ?? name, deleteable: deleteable,
                         participant: f["participant"]?.string, items: items, metadata: strings(f["metadata"]),
                         rules: rules, scores: scores, noAnswer: noAnswer, source: f["source"]?.string,
                         origin: origin, studies: strings(f["studies"]))
    }
}
