import Foundation
import MTCore

/// `mt stats dataset`: the study as one table, as analysts build it by hand (the lab's combineData.R): every
/// questionnaire's scores (and, with `--items`, its items) per participant and session, the arm from the
/// participant table, the session's first entry date, exclusions applied as `mt stats flow` applies them.
/// Duplicates follow each scale's identity rule and keep what `mt stats dedupe` keeps.
struct Dataset: Sendable {
    enum Shape: String, Sendable, CaseIterable { case long, wide }

    struct Options: Sendable {
        var shape = Shape.long
        var items = false
        var includeExcluded = false
        /// Keep every answer of every scale (`scales`), as the study database needs; the other formats need only
        /// the joined table.
        var keepAnswers = false
    }

    enum Kind: String, Sendable { case text, integer, decimal }

    /// One column, with what typed formats need: a type, a label, value labels and no-answer codes.
    struct Column: Sendable {
        var name: String
        var label: String
        var kind: Kind
        var valueLabels: [(Int, String)] = []
        /// No-answer codes (user-missing in SPSS, `.a` in Stata, missingValues in the data package).
        var missing: [(Int, String)] = []
        /// Valid coded answers (an enum constraint), when the catalogue's rule is a short range.
        var codes: [Int] = []
    }

    /// One questionnaire's kept answers, for the study database's per-scale tables.
    struct ScaleTable: Sendable {
        var scale: String
        var title: String
        var keyNames: [String]
        var columns: [Column]
        var rows: [(participant: String, key: [String], date: Int64?, values: [String], file: String, id: String)]
        /// Per row: whether it is the answer the dataset joined for its participant and session.
        var joined: [Bool] = []
        /// The key column holding the session.
        var sessionAt: Int
    }

    var columns: [Column] = []
    var rows: [[String]] = []
    var scales: [ScaleTable] = []
    /// participant → (arm, exclusion reason or "")
    var participants: [(id: String, arm: String, excluded: String)] = []
    var sessions: [(participant: String, session: String, firstDate: Int64?)] = []
    /// The study's session order (the catalogue's).
    var sessionOrder: [String] = []
    var warnings: [String] = []

    static func build(_ sources: [ScaleFiles], catalogue: ScaleCatalogue, design: StudyDesign,
                      exclusions: ExclusionList, options: Options) throws -> Dataset {
        var d = Dataset()
        var warnings = StatsWarnings()
        var rowWarnings = StatsWarnings()
        let byName = Dictionary(sources.map { ($0.scale, $0) }, uniquingKeysWith: { a, _ in a })
        var roster: Roster?
        if let pt = design.participantTables.first(where: { byName[$0] != nil }) {
            roster = try Roster.read(byName[pt]!, catalogue: catalogue, design: design, exclusions: exclusions,
                                     warnings: &warnings, rowWarnings: &rowWarnings)
        } else {
            warnings.note("no participant table (\(design.participantTables.joined(separator: ", "))) among the input: no arm, and only the exclusion list excludes")
        }
        func reason(_ p: String) -> String? { roster.map { $0.reasonOf[p] } ?? exclusions.reason(for: p) }
        let order = catalogue.sessions
        d.sessionOrder = order
        let position = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        func isCiphertext(_ s: String) -> Bool { Array(s.utf8).withUnsafeBufferPointer { StatsSummarizer.looksLikeCiphertext($0) } }

        // Per participant and session, per scale (by its place in `d.scales`): the joined answer's scores and
        // items, its date (the session's first entry is the earliest of them) and its row in the scale's table.
        struct Joined { var values: [String]; var date: Int64?; var row: Int }
        struct Slot {
            var joined: [Int: Joined] = [:]
            var first: Int64? { joined.values.compactMap(\.date).min() }
        }
        var slots: [String: [Int: Slot]] = [:]   // participant → session position → slot
        var unscored: [String] = []
        for source in sources.sorted(by: { $0.scale < $1.scale }) where design.role(of: source.scale) == nil {
            guard let spec = catalogue.spec(for: source.scale) else {
                warnings.note("\(source.scale): not in the scale catalogue, so it has no scores or items to join")
                continue
            }
            if spec.scores.isEmpty && !options.items {
                if !spec.items.isEmpty { unscored.append(source.scale) }
                continue
            }
            var long: StatsTransforms.LongForm?, itemsLong: StatsTransforms.LongForm?
            do {
                if !spec.scores.isEmpty { long = try StatsTransforms.longForm(source, catalogue: catalogue, scores: true, design: design) }
                if options.items { itemsLong = try StatsTransforms.longForm(source, catalogue: catalogue, scores: false, design: design) }
            } catch let e as MTError where e.exitCode == .dataError {
                warnings.note("\(source.scale): not joined: \(e.message)")
                continue
            }
            let base = (long ?? itemsLong)!
            guard let sessionAt = base.keyNames.firstIndex(of: "session") else {
                warnings.note("\(source.scale): not joined: no session column")
                continue
            }
            for w in base.warnings where !w.contains("anonymous screenings") { warnings.note(w) }
            // Columns: scores, then items.
            var columns: [Column] = []
            let scoreNames = long?.names ?? []
            for n in scoreNames {
                let note = spec.scores.first { $0.name == n }?.note
                columns.append(Column(name: "\(source.scale)_\(n)", label: "\(spec.title): \(n)" + (note.map { " (\($0))" } ?? ""), kind: .decimal))
            }
            let itemNames = itemsLong?.names ?? []
            let noAnswer = spec.noAnswer ?? NoAnswer(codes: catalogue.missingCodes)
            for n in itemNames {
                var c = Column(name: "\(source.scale)_\(n)", label: spec.labels?.items[n]?.text.map { "\(source.scale) \(n): \($0)" } ?? "\(spec.title): \(n)",
                               kind: .integer)
                c.valueLabels = spec.labels?.items[n]?.values ?? []
                let pageCodes = spec.labels?.noAnswer ?? []
                c.missing = noAnswer.codes.map { code in (code, pageCodes.first { $0.0 == code }?.1 ?? "no answer") }
                if let rule = spec.rule(for: n), case let .range(lo, hi, _) = rule.check, hi - lo <= 20 { c.codes = Array(lo...hi) }
                columns.append(c)
            }
            // Rows of both passes line up: the same kept rows in the same order.
            var table = ScaleTable(scale: source.scale, title: spec.title, keyNames: base.keyNames, columns: columns, rows: [],
                                   sessionAt: sessionAt)
            var outside = 0, unknown = 0, cipher = 0, shared = 0
            for (k, r) in base.rows.enumerated() {
                var values = long?.rows[k].values ?? []
                if let itemsLong { values += itemsLong.rows[k].values }
                if options.keepAnswers {
                    table.rows.append((r.participant, r.key, r.date, values, r.file, r.id))
                    table.joined.append(false)
                }
                if isCiphertext(r.participant) { cipher += 1; continue }
                guard let p = position[r.key[sessionAt]] else { outside += 1; continue }
                if let roster, roster.armOf[r.participant] == nil { unknown += 1; continue }
                if reason(r.participant) != nil && !options.includeExcluded { continue }
                let scale = d.scales.count
                if let previous = slots[r.participant]?[p]?.joined[scale] {
                    shared += 1
                    if r.key[sessionAt] != StatsTransforms.lastCountsSession { continue }
                    if options.keepAnswers { table.joined[previous.row] = false }
                }
                if options.keepAnswers { table.joined[k] = true }
                slots[r.participant, default: [:]][p, default: Slot()].joined[scale] = Joined(values: values, date: r.date, row: k)
            }
            if cipher > 0 { warnings.note("\(source.scale): \(cipher) answer(s) whose participant holds RSA ciphertext left undecrypted are not joined (run mt decrypt or mt recover with the right key)") }
            if outside > 0 { warnings.note("\(source.scale): \(outside) answer(s) in a session outside the study's order (\(order.joined(separator: ", "))) are not joined") }
            if unknown > 0 { warnings.note("\(source.scale): \(unknown) answer(s) of participants not in the participant table are not joined") }
            if shared > 0 { warnings.note("\(source.scale): \(shared) answer(s) share a participant and session with another (another tag or sessionId); the first is joined, at \(StatsTransforms.lastCountsSession) the last") }
            d.columns += columns
            d.scales.append(table)
        }
        if !unscored.isEmpty { warnings.note("scales without scores in the catalogue join with --items only: \(unscored.joined(separator: ", "))") }
        let values = d.columns
        let widths = d.scales.map(\.columns.count)
        func cells(_ slot: Slot?) -> [String] {
            var out: [String] = []
            out.reserveCapacity(values.count)
            for (k, n) in widths.enumerated() {
                if let v = slot?.joined[k]?.values { out += v } else { out += repeatElement("", count: n) }
            }
            return out
        }
        // Participants: the participant table's order when there is one, else by id.
        let people: [String]
        if let roster {
            people = roster.order.filter { options.includeExcluded || roster.reasonOf[$0] == nil }
            d.participants = roster.order.map { ($0, roster.armOf[$0] ?? "", roster.reasonOf[$0] ?? "") }
        } else {
            people = slots.keys.filter { options.includeExcluded || reason($0) == nil }.sorted(by: Self.idOrder)
            d.participants = people.map { ($0, "", reason($0) ?? "") }
        }
        for p in people {
            for (pos, slot) in (slots[p] ?? [:]).sorted(by: { $0.key < $1.key }) { d.sessions.append((p, order[pos], slot.first)) }
        }
        var head = [Column(name: "participant", label: "participant id", kind: people.allSatisfy { Int64($0) != nil } ? .integer : .text),
                    Column(name: "arm", label: "arm: \(design.conditions.joined(separator: "/"))", kind: .text)]
        if options.includeExcluded { head.append(Column(name: "excluded", label: "why the participant is excluded (empty: included)", kind: .text)) }
        let armOf = roster?.armOf ?? [:]
        func lead(_ p: String) -> [String] {
            [p, armOf[p] ?? ""] + (options.includeExcluded ? [reason(p) ?? ""] : [])
        }
        switch options.shape {
        case .long:
            d.columns = head + [Column(name: "session", label: "session", kind: .text),
                                Column(name: "date", label: "the session's first entry (ISO 8601, UTC)", kind: .text)] + values
            for p in people {
                for (pos, slot) in (slots[p] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    d.rows.append(lead(p) + [order[pos], slot.first.map(EntryDate.iso) ?? ""]
                                  + cells(slot))
                }
            }
        case .wide:
            let present = Set(slots.values.flatMap(\.keys)).sorted()
            var wide = head
            for pos in present {
                let s = order[pos]
                wide.append(Column(name: "date_\(s)", label: "\(s): first entry (ISO 8601, UTC)", kind: .text))
                for var c in values {
                    c.name += "_\(s)"
                    c.label = "\(s): \(c.label)"
                    wide.append(c)
                }
            }
            d.columns = wide
            for p in people {
                var row = lead(p)
                for pos in present {
                    let slot = slots[p]?[pos]
                    row.append(slot?.first.map(EntryDate.iso) ?? "")
                    row += cells(slot)
                }
                d.rows.append(row)
            }
        }
        // A column of whole numbers stays integer; one with fractions is decimal; anything else is text.
        for c in d.columns.indices where d.columns[c].kind == .integer || d.columns[c].kind == .decimal {
            var kind = d.columns[c].kind
            for r in d.rows where !r[c].isEmpty {
                if kind == .integer && Int64(r[c]) == nil { kind = .decimal }
                if kind == .decimal && Double(r[c]) == nil { kind = .text; break }
            }
            d.columns[c].kind = kind
            if kind == .text { d.columns[c].valueLabels = []; d.columns[c].missing = []; d.columns[c].codes = [] }
        }
        d.warnings = warnings.messages + rowWarnings.messages
        return d
    }

    /// Whole-number ids by value, then the rest as text.
    static func idOrder(_ a: String, _ b: String) -> Bool {
        switch (Int64(a), Int64(b)) {
        case let (x?, y?): return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        default: return a < b
        }
    }

    /// RFC 4180, as every CSV mt writes.
    func csv() -> [UInt8] {
        var out = CSVWriter.row(columns.map(\.name))
        for r in rows { CSVWriter.appendRow(r, to: &out) }
        return out
    }

    /// The Frictionless data package beside the CSV: a Table Schema with each field's type and label, the
    /// no-answer codes as the field's missingValues (a score of -1 stays a value), the coded answers as enum
    /// constraints and their labels as categories.
    func dataPackage(csvName: String, title: String) -> JSONValue {
        let fields: [JSONValue] = columns.map { c in
            var f: [(String, JSONValue)] = [("name", .string(c.name)), ("title", .string(c.label)),
                                            ("type", .string(c.kind == .text ? "string" : c.kind == .integer ? "integer" : "number"))]
            if c.name == "date" || c.name.hasPrefix("date_") { f[2] = ("type", .string("datetime")) }
            if !c.codes.isEmpty { f.append(("constraints", .object([("enum", .array(c.codes.map { .int($0) }))]))) }
            if !c.missing.isEmpty {
                f.append(("missingValues", .array([.string("")] + c.missing.map { .string(String($0.0)) })))
            }
            if !c.valueLabels.isEmpty || !c.missing.isEmpty {
                f.append(("categories", .array((c.valueLabels + c.missing).map { .object([("value", .int($0.0)), ("label", .string($0.1))]) })))
            }
            return .object(f)
        }
        let schema: JSONValue = .object([
            ("fields", .array(fields)),
            ("missingValues", .array([.string("")])),
        ])
        return .object([
            ("name", .string("mt-study-dataset")),
            ("title", .string(title)),
            ("resources", .array([.object([
                ("name", .string("dataset")), ("path", .string(csvName)), ("profile", .string("tabular-data-resource")),
                ("format", .string("csv")), ("mediatype", .string("text/csv")), ("encoding", .string("utf-8")),
                ("dialect", .object([("delimiter", .string(",")), ("lineTerminator", .string("\r\n")), ("header", .bool(true))])),
                ("schema", schema),
            ])])),
        ])
    }
}
