import Foundation
import MTCore

/// The analysts' transformations of one scale (the original's clean, scores and long-to-wide tools): dedupe,
/// scores in long form, and the wide form. Each writes CSV (RFC 4180, `\r\n`) through `write`.
public enum StatsTransforms {
    enum Keep: String, Sendable, CaseIterable { case first, last }

    /// The session whose repeated screenings count by their last entry (mt-stats(1), "dedupe, score and wide").
    static let lastCountsSession = "ELIGIBLE"

    // Public for mt-sim's tests, which score its generated studies against the studies' own formulas.
    public struct Result: Sendable {
        public var rowsIn = 0
        public var rowsOut = 0
        public var warnings: [String] = []
    }

    /// Which rows (ordinals in reading order) survive: per identity the first (or, with `.last`, the last) entry;
    /// ELIGIBLE screenings always by their last entry.
    static func keptRows(_ table: StatsTable, identity: IdentityRule, keep: Keep,
                         warnings: inout StatsWarnings) throws -> (kept: [Bool], entries: Int) {
        guard !table.participantNames.isEmpty else {
            throw MTError(.dataError, "\(table.scale): no participant column in \(table.files.joined(separator: ", "))",
                          hint: "a participant column is one of participantRSA, participantDAO, participantId, participant, or any column whose name contains \"participant\"; or add `participant:` to the scale in the catalogue")
        }
        let sessionCol = table.column("session")
        var chosen: [String: Int] = [:]
        var ordinal = 0
        var scratch: [UInt8] = []
        try table.forEachRow(warnings: &warnings) { row in
            let key = identity.key(row, scratch: &scratch)
            let last = keep == .last || sessionCol.map { row.string($0) == lastCountsSession } ?? false
            if last || chosen[key] == nil { chosen[key] = ordinal }
            ordinal += 1
        }
        var kept = [Bool](repeating: false, count: ordinal)
        for i in chosen.values { kept[i] = true }
        return (kept, ordinal)
    }

    /// `mt stats dedupe`: the table (union header) without repeated answers, in reading order.
    static func dedupe(_ source: ScaleFiles, catalogue: ScaleCatalogue, keep: Keep, design: StudyDesign? = nil,
                              write: ([UInt8]) throws -> Void) throws -> Result {
        let table = try StatsTable(source, catalogue: catalogue, design: design)
        var warnings = StatsWarnings()
        noteParticipant(table, catalogue: catalogue, design: design, warnings: &warnings)
        let (kept, entries) = try keptRows(table, identity: IdentityRule(table: table, design: design), keep: keep, warnings: &warnings)
        var out = CSVWriter.row(table.columns)
        var ordinal = 0, written = 0
        var ignored = StatsWarnings() // the first pass reported them
        try table.forEachRow(warnings: &ignored) { row in
            defer { ordinal += 1 }
            guard kept[ordinal] else { return }
            CSVWriter.appendRow(try table.columns.indices.map { try row.text($0) }, to: &out)
            written += 1
            if out.count >= 1 << 20 { try write(out); out.removeAll(keepingCapacity: true) }
        }
        try write(out)
        return Result(rowsIn: entries, rowsOut: written, warnings: warnings.messages)
    }

    /// The kept answers in long form: one row per identity (dedupe's rule: participant + session + tag
    /// (+ sessionId) …), with the identity's columns and, per `names`, a value — the items' cells, or the
    /// catalogue's scores. Rows with an empty participant or session (anonymous screenings) are left out and
    /// counted in a warning.
    /// One kept answer: where it came from (its id and file, for a dataset's provenance) and its date.
    struct LongRow: Sendable {
        var participant: String
        var key: [String]
        var values: [String]
        var id = ""
        var file = ""
        var date: Int64?
    }

    struct LongForm: Sendable {
        var names: [String]
        /// The identity's columns after the participant (session, tag, sessionId, …).
        var keyNames: [String]
        var rows: [LongRow]
        var entries: Int
        var warnings: [String]
    }

    static func longForm(_ source: ScaleFiles, catalogue: ScaleCatalogue, scores: Bool,
                         design: StudyDesign? = nil) throws -> LongForm {
        let table = try StatsTable(source, catalogue: catalogue, design: design)
        let spec = catalogue.spec(for: source.scale)
        var warnings = StatsWarnings()
        if scores && (spec?.scores.isEmpty ?? true) {
            let scored = catalogue.scales.filter { !$0.scores.isEmpty }.map(\.name)
            throw MTError(.usage, "\(source.scale) has no scores in the scale catalogue",
                          hint: "scales with scores: \(scored.joined(separator: ", ")); see mt scales show \(source.scale)")
        }
        noteParticipant(table, catalogue: catalogue, design: design, warnings: &warnings)
        let identity = IdentityRule(table: table, design: design)
        let (kept, entries) = try keptRows(table, identity: identity, keep: .first, warnings: &warnings)
        // Only the catalogue's items: a table's metadata, counters and free text never become item columns. Scores
        // use the scale's whole list (an absent column is unanswered); the wide form, the items the files have.
        let listed: [String] = spec.map { s in s.items.isEmpty ? s.itemColumns(table.columns, catalogue: catalogue) : s.items }
            ?? table.columns.filter { catalogue.isItem($0) && !table.participantNames.contains($0) }
        let present = Set(table.columns)
        let items = scores ? listed : listed.filter(present.contains)
        let names: [String]
        // A row's cells are an array in `items` order (empty where the table lacks the item): no hashing per row.
        let compute: ([String], inout ScoreTally) -> [String]
        let itemIndex = Dictionary(items.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        if scores, let spec {
            names = spec.scores.map(\.name)
            let noAnswer = spec.noAnswer ?? NoAnswer(codes: catalogue.missingCodes)
            let plans = spec.scores.map { ($0, $0.numerator(in: items).map { itemIndex[$0]! }, $0.denominator(in: items).map { itemIndex[$0]! }) }
            compute = { cells, tally in
                plans.enumerated().map { k, plan in
                    let (score, num, den) = plan
                    let value = Self.score(score, numerator: num, denominator: den, cells: cells, noAnswer: noAnswer)
                    switch value {
                    case .value(let v): return format(v)
                    case .nothingAnswered: tally.nothingAnswered[k] += 1
                    case .zeroDenominator: tally.zeroDenominator[k] += 1
                    }
                    return ""
                }
            }
        } else {
            names = items
            compute = { cells, _ in cells }
        }
        let itemColumns = items.map { table.column($0) }
        let sessionCol = table.column("session")
        var tally = ScoreTally(count: names.count)
        var rows: [LongRow] = []
        let idCol = table.column("id")
        let dateCol = table.column(design?.dateColumn(scale: source.scale, columns: table.columns) ?? "date")
        var anonymous = 0
        var ordinal = 0
        var ignored = StatsWarnings()
        try table.forEachRow(warnings: &ignored) { row in
            defer { ordinal += 1 }
            guard kept[ordinal] else { return }
            let participant = row.participant
            if participant.isEmpty || (sessionCol.map { row.isEmpty($0) } ?? false) { anonymous += 1; return }
            let cells = try itemColumns.map { c in try c.map { try row.text($0) } ?? "" }
            rows.append(LongRow(participant: participant, key: try identity.columns.map { try row.text($0) },
                                values: compute(cells, &tally), id: try idCol.map { try row.text($0) } ?? "",
                                file: row.file, date: dateCol.flatMap { row.isEmpty($0) ? nil : EntryDate.parse(row.string($0)) }))
        }
        if anonymous > 0 {
            warnings.note("\(source.scale): \(anonymous) kept row\(anonymous == 1 ? "" : "s") with an empty participant or session (anonymous screenings) left out: no participant to put them under")
        }
        for (k, name) in names.enumerated() where scores {
            if tally.nothingAnswered[k] > 0 {
                warnings.note("\(source.scale): score \(name) is empty in \(tally.nothingAnswered[k]) row(s): no item answered (empty or a no-answer code)")
            }
            if tally.zeroDenominator[k] > 0 {
                warnings.note("\(source.scale): score \(name) is empty in \(tally.zeroDenominator[k]) row(s): its denominator's mean is 0")
            }
        }
        return LongForm(names: names, keyNames: identity.names, rows: rows, entries: entries, warnings: warnings.messages)
    }

    /// Per score, the rows left empty and why.
    struct ScoreTally {
        var nothingAnswered: [Int]
        var zeroDenominator: [Int]
        init(count: Int) {
            nothingAnswered = Array(repeating: 0, count: count)
            zeroDenominator = Array(repeating: 0, count: count)
        }
    }

    enum ScoreValue: Equatable { case value(Double), nothingAnswered, zeroDenominator }

    /// One score of one row. Means are kept as exact sums and counts until the one final division, so the
    /// result is the correctly rounded value of the formula (84 / 5 gives 16.8, where 2.4 × 7 gives
    /// 16.799999999999997).
    /// `numerator` and `denominator` index `cells`.
    static func score(_ s: ScoreSpec, numerator: [Int], denominator: [Int], cells: [String],
                      noAnswer: NoAnswer) -> ScoreValue {
        func total(_ cols: [Int]) -> (sum: Double, n: Double) {
            var sum = 0.0, n = 0.0
            for c in cols {
                let text = cells[c]
                // Trimming goes through NSString: only a cell that does not parse as it is pays for it.
                guard !text.isEmpty, let v = Double(text) ?? Double(text.trimmingCharacters(in: .whitespaces)),
                      v.isFinite, !noAnswer.excludes(v) else { continue }
                sum += v
                n += 1
            }
            return (sum, n)
        }
        let a = total(numerator)
        guard a.n > 0 else { return .nothingAnswered }
        switch s.kind {
        case .scaledSum: return .value(a.sum * Double(numerator.count) / a.n)
        case .mean: return .value(a.sum * s.factor / a.n)
        case .ratio:
            let b = total(denominator)
            guard b.n > 0 else { return .nothingAnswered }
            guard b.sum != 0 else { return .zeroDenominator }
            return .value(a.sum * b.n * s.factor / (b.sum * a.n))
        case .difference:
            let b = total(denominator)
            guard b.n > 0 else { return .nothingAnswered }
            return .value((a.sum * b.n - b.sum * a.n) * s.factor / (a.n * b.n))
        }
    }

    /// Tells which column was taken for the participant when only its name ("…participant…") chose it.
    static func noteParticipant(_ table: StatsTable, catalogue: ScaleCatalogue, design: StudyDesign?,
                                warnings: inout StatsWarnings) {
        let designs = design?.participantColumn(scale: table.scale, columns: table.columns)
        for name in table.participantNames where name != designs && catalogue.isGuessedParticipant(name, scale: table.scale) {
            warnings.note("\(table.scale): the participant column is \(name) (its name contains \"participant\"; the usual names \(catalogue.participantColumns.joined(separator: ", ")) are absent)")
        }
    }

    /// `mt stats score`: participant, the identity's other columns (session, tag, sessionId when the table has
    /// them), one column per score.
    public static func scores(_ source: ScaleFiles, catalogue: ScaleCatalogue, design: StudyDesign? = nil,
                              write: ([UInt8]) throws -> Void) throws -> Result {
        let long = try longForm(source, catalogue: catalogue, scores: true, design: design)
        var out = CSVWriter.row(["participant"] + long.keyNames + long.names)
        for r in long.rows { CSVWriter.appendRow([r.participant] + r.key + r.values, to: &out) }
        try write(out)
        return Result(rowsIn: long.entries, rowsOut: long.rows.count, warnings: long.warnings)
    }

    /// `mt stats wide`: one row per participant, one column per item (or score) and session,
    /// `<Scale>_<item>_<session>` (`…_<session>_<tag>` for a tagged answer); sessions in the catalogue's order,
    /// then as they appear. Answers that differ only by sessionId (repeated screenings) share a cell: the
    /// first counts, at ELIGIBLE the last, and a warning counts them.
    static func wide(_ source: ScaleFiles, catalogue: ScaleCatalogue, scores: Bool, design: StudyDesign? = nil,
                            write: ([UInt8]) throws -> Void) throws -> Result {
        let long = try longForm(source, catalogue: catalogue, scores: scores, design: design)
        var warnings = long.warnings
        let sessionAt = long.keyNames.firstIndex(of: "session")
        let tagAt = long.keyNames.firstIndex(of: "tag")
        func slot(_ key: [String]) -> (session: String, label: String) {
            let session = sessionAt.map { key[$0] } ?? ""
            let tag = tagAt.map { key[$0] } ?? ""
            return (session, tag.isEmpty ? session : session + "_" + tag)
        }
        var seen: [String] = []
        var seenSet = Set<String>()
        var sessionOf: [String: String] = [:]
        for r in long.rows {
            let s = slot(r.key)
            if !seenSet.contains(s.label) { seenSet.insert(s.label); seen.append(s.label); sessionOf[s.label] = s.session }
        }
        // Catalogue session order; a session's tagged columns follow its untagged one.
        let order = Dictionary(uniqueKeysWithValues: catalogue.sessions.enumerated().map { ($1, $0) })
        let labels = seen.enumerated().sorted { a, b in
            let ka = order[sessionOf[a.element]!] ?? Int.max, kb = order[sessionOf[b.element]!] ?? Int.max
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
        let labelIndex = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        var people: [String] = []
        var cells: [String: [String]] = [:]
        var filled = Set<String>()
        var collisions = 0
        let width = long.names.count * labels.count
        for r in long.rows {
            if cells[r.participant] == nil { people.append(r.participant); cells[r.participant] = [String](repeating: "", count: width) }
            let s = slot(r.key)
            let cellKey = r.participant + "\u{1F}" + s.label
            if filled.contains(cellKey) {
                collisions += 1
                if s.session != lastCountsSession { continue }
            }
            filled.insert(cellKey)
            let col = labelIndex[s.label]!
            for (k, v) in r.values.enumerated() { cells[r.participant]![k * labels.count + col] = v }
        }
        if collisions > 0 {
            warnings.append("\(source.scale): \(collisions) answer(s) share a participant, session and tag with another (different sessionId); the wide form keeps the first, at \(lastCountsSession) the last")
        }
        var header = ["participant"]
        for n in long.names { for l in labels { header.append("\(source.scale)_\(n)_\(l)") } }
        var out = CSVWriter.row(header)
        for p in people { CSVWriter.appendRow([p] + cells[p]!, to: &out) }
        try write(out)
        return Result(rowsIn: long.entries, rowsOut: people.count, warnings: warnings)
    }

    static func format(_ v: Double) -> String { StatsNumber.text(v) }
}
