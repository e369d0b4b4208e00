import Foundation
import MTCore

/// The catalogue and a server's list, for people (`mt scales`, `--local`, `show`) and for `--json`.
enum CatalogueText {
    static let identityRule = "participant + session + tag (+ sessionId when present); else participant + session + trial_index when present; else participant + session; with no session, participant alone"

    static func spec(_ name: String, in catalogue: ScaleCatalogue) throws -> ScaleSpec {
        if let s = catalogue.spec(for: name) { return s }
        let names = catalogue.scales.map(\.name)
        var hint = "scales in the catalogue: \(names.joined(separator: ", "))"
        if let close = Suggest.closest(to: name, in: names) { hint = "did you mean '\(close)'? " + hint }
        throw MTError(.usage, "no scale named '\(name)' in the catalogue (\(catalogue.sources.joined(separator: " + ")))", hint: hint)
    }

    /// Which study's definitions apply, for the first line of the listing and `show`.
    static func studyLine(_ c: ScaleCatalogue) -> String {
        guard let study = c.study else {
            let known = c.studies.map(\.study.name).joined(separator: ", ")
            return "study: none chosen, the shared base (choose with STUDY in the config or --study: \(known))"
        }
        let title = c.studies.first { $0.study == study }?.title
        return "study: \(study.name)\(title.map { " (\($0))" } ?? "")"
    }

    /// Where a scale's definition comes from: the study's own, the shared base, or a lab file.
    static func definedBy(_ s: ScaleSpec, catalogue c: ScaleCatalogue) -> String {
        switch s.origin {
        case "base":
            if let study = c.study { return "the shared base (\(study.name) defines no own \(s.name))" }
            return "the shared base"
        case let o where c.studies.contains { $0.study.name == o }: return "study \(o)'s own definition"
        default: return s.origin
        }
    }

    static func list(_ c: ScaleCatalogue) -> String {
        let w = max(5, c.scales.map(\.name.count).max() ?? 0)
        var out = studyLine(c) + "\n"
        out += "\(pad("SCALE", w))  ITEMS  SCORES                    DELETEABLE  TITLE\n"
        for s in c.scalesOfStudy {
            let scores = s.scores.map(\.name).joined(separator: ",")
            out += "\(pad(s.name, w))  \(pad(String(s.items.count), 5))  \(pad(scores.isEmpty ? "-" : scores, 24))  \(pad(s.deleteable ? "yes" : "no", 10))  \(s.title)\n"
        }
        return out + "(\(c.scalesOfStudy.count) scales from \(c.sources.joined(separator: " + ")))\n"
    }

    static func show(_ s: ScaleSpec, catalogue c: ScaleCatalogue) -> String {
        var out = "\(s.name) — \(s.title)\n"
        out += "  \(studyLine(c))\n"
        out += "  definition     \(definedBy(s, catalogue: c))\n"
        out += "  source         \(s.source ?? "not recorded")\n"
        if !s.studies.isEmpty { out += "  in studies     \(s.studies.joined(separator: ", "))\n" }
        out += "  deleteable     \(s.deleteable ? "yes" : "no") (usually; the server's own list decides)\n"
        let participant = (s.participant.map { [$0] } ?? []) + c.participantColumns.filter { $0 != s.participant }
        out += "  participant    \(participant.joined(separator: ", ")) (the first found; else a column whose name contains \"participant\")\n"
        out += "  identity       \(identityRule)\n"
        out += "  \(pad("items (\(s.items.count))", 13))  \(s.items.isEmpty ? "not known (no source lists them)" : s.items.joined(separator: ", "))\n"
        if !s.metadata.isEmpty { out += "  metadata       \(s.metadata.joined(separator: ", ")) (not items: never checked or scored)\n" }
        out += "  valid values\n"
        if s.rules.isEmpty { out += "    (no rule: nothing is checked)\n" }
        for (k, r) in s.rules.enumerated() {
            out += "    \(describe(r.selector, first: k == 0)): \(describe(r.check))\n"
        }
        let noAnswer = s.noAnswer ?? NoAnswer(codes: c.missingCodes)
        out += "  no answer      \(noAnswer.description) (\"prefer not to answer\": valid where a rule lists them, excluded from scores)\n"
        if s.scores.isEmpty {
            out += "  scores         none\n"
        } else {
            out += "  scores\n"
            for score in s.scores {
                out += "    \(score.name): \(describe(score, spec: s))\n"
                if let note = score.note { out += "      source: \(note)\n" }
            }
        }
        if let l = s.labels {
            out += "  labels         from \(l.study)'s question page, TeachmanLab/MT-Java \(l.source)\n"
            if !l.noAnswer.isEmpty {
                out += "    no answer: " + l.noAnswer.map { "\($0.0) \"\($0.1)\"" }.joined(separator: ", ") + "\n"
            }
            if let d = l.disagrees { out += "    the page and its class disagree: \(d)\n" }
            for item in s.items {
                guard let i = l.items[item] else { continue }
                out += "    \(item): \(i.text ?? "(no question text)")\n"
                if !i.values.isEmpty { out += "      " + i.values.map { "\($0.0) \"\($0.1)\"" }.joined(separator: ", ") + "\n" }
            }
        }
        return out
    }

    static func describe(_ sel: ValueRule.Selector, first: Bool) -> String {
        switch sel {
        case .items(let set): return set.sorted().joined(separator: ", ")
        case .match(let patterns): return "items matching " + patterns.joined(separator: ", ")
        case .rest: return first ? "all items" : "all other items"
        }
    }

    static func describe(_ check: ValueRule.Check) -> String {
        switch check {
        case let .range(lo, hi, codes):
            return "\(lo)–\(hi)" + (codes.isEmpty ? "" : ", or " + codes.map(String.init).joined(separator: ", "))
        case .values(let v): return "one of " + v.joined(separator: ", ")
        case .text: return "free text (not checked)"
        case .list: return "a JSON array (multiple choice)"
        }
    }

    static func describe(_ score: ScoreSpec, spec: ScaleSpec) -> String {
        func part(_ items: [String], _ match: [String]) -> String {
            if !items.isEmpty { return items.count > 4 ? "\(items.count) items (\(items.prefix(3).joined(separator: ", ")), …)" : items.joined(separator: ", ") }
            return "items matching " + match.joined(separator: ", ")
        }
        let whole = score.items.isEmpty && score.match.isEmpty
        let factor = score.factor == 1 ? "" : " × " + StatsNumber.text(score.factor)
        switch score.kind {
        case .scaledSum:
            return "mean of the answered items × number of items (\(score.numerator(in: spec.items).count))"
        case .mean: return "mean of the answered " + (whole ? "items" : part(score.items, score.match)) + factor
        case .ratio: return "mean of " + part(score.items, score.match) + " / mean of " + part(score.over, score.overMatch) + factor
        case .difference: return "mean of " + part(score.items, score.match) + " − mean of " + part(score.over, score.overMatch) + factor
        }
    }

    static func json(_ s: ScaleSpec, catalogue c: ScaleCatalogue) -> JSONValue {
        let strings = { (a: [String]) in JSONValue.array(a.map(JSONValue.string)) }
        let rules: [JSONValue] = s.rules.map { r in
            var fields: [(String, JSONValue)] = []
            switch r.selector {
            case .items(let set): fields.append(("items", strings(set.sorted())))
            case .match(let p): fields.append(("match", strings(p)))
            case .rest: break
            }
            switch r.check {
            case let .range(lo, hi, codes):
                fields.append(("range", .array([.int(lo), .int(hi)])))
                if !codes.isEmpty { fields.append(("codes", .array(codes.map { .int($0) }))) }
            case .values(let v): fields.append(("values", strings(v)))
            case .text: fields.append(("type", .string("text")))
            case .list: fields.append(("type", .string("list")))
            }
            return .object(fields)
        }
        let scores: [JSONValue] = s.scores.map { sc in
            var fields: [(String, JSONValue)] = [("name", .string(sc.name)), ("kind", .string(sc.kind.rawValue))]
            if !sc.items.isEmpty { fields.append(("items", strings(sc.items))) }
            if !sc.match.isEmpty { fields.append(("match", strings(sc.match))) }
            if !sc.over.isEmpty { fields.append(("over", strings(sc.over))) }
            if !sc.overMatch.isEmpty { fields.append(("overMatch", strings(sc.overMatch))) }
            if sc.factor != 1 { fields.append(("factor", .number(StatsNumber.text(sc.factor)))) }
            if let note = sc.note { fields.append(("source", .string(note))) }
            return .object(fields)
        }
        let noAnswer = s.noAnswer ?? NoAnswer(codes: c.missingCodes)
        return .object([
            ("name", .string(s.name)), ("title", .string(s.title)),
            ("study", c.study.map { .string($0.name) } ?? .null), ("definition", .string(s.origin)),
            ("source", s.source.map(JSONValue.string) ?? .null), ("studies", strings(s.studies)),
            ("deleteable", .bool(s.deleteable)),
            ("participant", strings((s.participant.map { [$0] } ?? []) + c.participantColumns.filter { $0 != s.participant })),
            ("items", strings(s.items)), ("metadata", strings(s.metadata)), ("valid", .array(rules)),
            ("noAnswer", .array(noAnswer.codes.map { .int($0) } + (noAnswer.negative ? [.string("negative")] : []))),
            ("scores", .array(scores)),
            ("identity", .string(identityRule)),
        ])
    }

    static func table(server: String, _ scales: [RemoteScale], catalogue: ScaleCatalogue) -> String {
        let w = max(5, scales.map(\.name.count).max() ?? 0)
        var out = "\(server): \(scales.count) scale\(scales.count == 1 ? "" : "s")\n"
        out += "  \(pad("SCALE", w))  \(lpad("SIZE", 8))  DELETEABLE  CATALOGUE\n"
        for s in scales {
            let size = s.size.map(String.init) ?? "?"
            let del = s.deleteable.map { $0 ? "yes" : "no" } ?? "?"
            let known = catalogue.spec(for: s.name) == nil ? "unknown" : "yes"
            let unsafe = SafeName.isValidScale(s.name) ? "" : "  (unsafe name: mt export skips it)"
            out += "  \(pad(printable(s.name), w))  \(lpad(size, 8))  \(pad(del, 10))  \(known)\(unsafe)\n"
        }
        return out
    }

    static func json(server: String, _ scales: [RemoteScale], catalogue: ScaleCatalogue) -> JSONValue {
        .object([
            ("server", .string(server)),
            ("scales", .array(scales.map { s in
                .object([
                    ("name", .string(s.name)), ("size", s.size.map { .int($0) } ?? .null),
                    ("deleteable", s.deleteable.map(JSONValue.bool) ?? .null),
                    ("inCatalogue", .bool(catalogue.spec(for: s.name) != nil)),
                ])
            })),
        ])
    }

    /// A name from the network as text that cannot drive the terminal: control characters shown as \u{…}.
    static func printable(_ s: String) -> String { Untrusted.text(s) }

    static func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    static func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
}

/// `mt scales check`: a CSV header against the catalogue's items of its scale.
struct ColumnCheck {
    var file: String
    var scale: String
    var missing: [String]
    var unknown: [String]
    var participant: String?

    var isClean: Bool { missing.isEmpty && unknown.isEmpty && participant != nil }

    static func run(file: String, scale given: String?, catalogue: ScaleCatalogue) throws -> ColumnCheck {
        let base = (file as NSString).lastPathComponent
        guard let scale = given ?? CSVName.scale(of: base) else {
            throw MTError.usage("check: cannot tell the scale of \(file) from its name (<Scale>_<DATE>.csv)",
                                usage: "mt scales check --scale NAME \(file)")
        }
        let spec = try CatalogueText.spec(scale, in: catalogue)
        let reader = try OriginalCSVReader(path: file)
        reader.close()
        let header = reader.header
        let have = Set(header)
        let known = Set(spec.items)
        let participant = catalogue.participantColumn(in: header, scale: scale)
        return ColumnCheck(
            file: file, scale: scale,
            missing: spec.items.filter { !have.contains($0) },
            unknown: header.filter { catalogue.isItem($0) && !known.contains($0) && !spec.metadata.contains($0)
                && $0 != participant && !$0.isEmpty },
            participant: participant)
    }

    var text: String {
        var out = "\(file) (\(scale)): "
        if isClean { return out + "ok, every column is known\n" }
        out += "\n"
        if participant == nil { out += "  no participant column\n" }
        if !missing.isEmpty { out += "  missing from the file (\(missing.count)): \(missing.joined(separator: ", "))\n" }
        if !unknown.isEmpty { out += "  unknown to the catalogue (\(unknown.count)): \(unknown.joined(separator: ", "))\n" }
        return out
    }

    var json: JSONValue {
        .object([
            ("file", .string(file)), ("scale", .string(scale)),
            ("participant", participant.map(JSONValue.string) ?? .null),
            ("missing", .array(missing.map(JSONValue.string))), ("unknown", .array(unknown.map(JSONValue.string))),
        ])
    }
}
