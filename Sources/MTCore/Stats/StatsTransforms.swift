import Foundation

/// The analysts' transformations of one scale (the original's clean, scores and long-to-wide tools): dedupe,
/// scores in long form, and the wide form. Each writes CSV (RFC 4180, `\r\n`) through `write`.
public enum StatsTransforms {
    public enum Keep: String, Sendable, CaseIterable { case first, last }

    /// The session whose repeated screenings count by their last entry (SCALES.md).
    public static let lastCountsSession = "ELIGIBLE"

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
                          hint: "a participant column is one of participantRSA, participantDAO, participantId, participant; or add `participant:` to the scale in the catalogue")
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
    public static func dedupe(_ source: ScaleFiles, catalogue: ScaleCatalogue, keep: Keep,
                              write: ([UInt8]) throws -> Void) throws -> Result {
        let table = try StatsTable(source, catalogue: catalogue)
        var warnings = StatsWarnings()
        let (kept, entries) = try keptRows(table, identity: IdentityRule(table: table), keep: keep, warnings: &warnings)
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

    /// One answer per participant and session (the first; ELIGIBLE's last): participant, session, and per
    /// `names` a value — the items' cells, or the catalogue's scores.
    public struct LongForm: Sendable {
        public var names: [String]
        public var rows: [(participant: String, session: String, values: [String])]
        public var entries: Int
        public var warnings: [String]
    }

    public static func longForm(_ source: ScaleFiles, catalogue: ScaleCatalogue, scores: Bool) throws -> LongForm {
        let table = try StatsTable(source, catalogue: catalogue)
        let spec = catalogue.spec(for: source.scale)
        var warnings = StatsWarnings()
        if scores && (spec?.scores.isEmpty ?? true) {
            let scored = catalogue.scales.filter { !$0.scores.isEmpty }.map(\.name)
            throw MTError(.usage, "\(source.scale) has no scores in the scale catalogue",
                          hint: "scales with scores: \(scored.joined(separator: ", ")); see mt scales show \(source.scale)")
        }
        let identity = IdentityRule(sessionOnly: table)
        let (kept, entries) = try keptRows(table, identity: identity, keep: .first, warnings: &warnings)
        let items = spec.map { $0.itemColumns(table.columns, catalogue: catalogue) }
            ?? table.columns.filter { catalogue.isItem($0) && !catalogue.participantColumns.contains($0) }
        let names: [String]
        var compute: ([String: String]) -> [String]
        if scores, let spec {
            let numeric = items.filter { if case .range? = spec.rule(for: $0)?.check { return true } else { return false } }
            let missingCodes = Set(catalogue.missingCodes.map(Double.init))
            names = spec.scores.map(\.name)
            compute = { cells in
                func mean(_ cols: [String]) -> Double? {
                    var sum = 0.0, n = 0
                    for c in cols {
                        guard let text = cells[c], let v = Double(text.trimmingCharacters(in: .whitespaces)),
                              v.isFinite, !missingCodes.contains(v) else { continue }
                        sum += v
                        n += 1
                    }
                    return n == 0 ? nil : sum / Double(n)
                }
                return spec.scores.map { s in
                    let num = s.numerator(in: numeric)
                    let value: Double?
                    switch s.kind {
                    case .scaledSum: value = mean(num).map { $0 * Double(num.count) }
                    case .mean: value = mean(num)
                    case .ratio:
                        if let a = mean(num), let b = mean(s.denominator(in: numeric)), b != 0 { value = a / b } else { value = nil }
                    }
                    return value.map(format) ?? ""
                }
            }
        } else {
            names = items
            compute = { cells in items.map { cells[$0] ?? "" } }
        }
        let sessionCol = table.column("session")
        let wanted = Set(items)
        var rows: [(participant: String, session: String, values: [String])] = []
        var ordinal = 0
        var ignored = StatsWarnings()
        try table.forEachRow(warnings: &ignored) { row in
            defer { ordinal += 1 }
            guard kept[ordinal] else { return }
            var cells: [String: String] = [:]
            for (c, name) in table.columns.enumerated() where wanted.contains(name) { cells[name] = try row.text(c) }
            rows.append((row.participant, sessionCol.map { row.string($0) } ?? "", compute(cells)))
        }
        return LongForm(names: names, rows: rows, entries: entries, warnings: warnings.messages)
    }

    /// `mt stats score`: participant, session, one column per score.
    public static func scores(_ source: ScaleFiles, catalogue: ScaleCatalogue, write: ([UInt8]) throws -> Void) throws -> Result {
        let long = try longForm(source, catalogue: catalogue, scores: true)
        var out = CSVWriter.row(["participant", "session"] + long.names)
        for r in long.rows { CSVWriter.appendRow([r.participant, r.session] + r.values, to: &out) }
        try write(out)
        return Result(rowsIn: long.entries, rowsOut: long.rows.count, warnings: long.warnings)
    }

    /// `mt stats wide`: one row per participant, one column per item (or score) and session,
    /// `<Scale>_<item>_<session>`; sessions in the catalogue's order, then as they appear.
    public static func wide(_ source: ScaleFiles, catalogue: ScaleCatalogue, scores: Bool,
                            write: ([UInt8]) throws -> Void) throws -> Result {
        let long = try longForm(source, catalogue: catalogue, scores: scores)
        var seen: [String] = []
        var seenSet = Set<String>()
        for r in long.rows where !seenSet.contains(r.session) { seenSet.insert(r.session); seen.append(r.session) }
        let sessions = catalogue.sessions.filter(seenSet.contains) + seen.filter { !catalogue.sessions.contains($0) }
        let sessionIndex = Dictionary(uniqueKeysWithValues: sessions.enumerated().map { ($1, $0) })
        var people: [String] = []
        var cells: [String: [String]] = [:]
        let width = long.names.count * sessions.count
        for r in long.rows {
            if cells[r.participant] == nil { people.append(r.participant); cells[r.participant] = [String](repeating: "", count: width) }
            let s = sessionIndex[r.session]!
            for (k, v) in r.values.enumerated() { cells[r.participant]![k * sessions.count + s] = v }
        }
        var header = ["participant"]
        for n in long.names { for s in sessions { header.append("\(source.scale)_\(n)_\(s)") } }
        var out = CSVWriter.row(header)
        for p in people { CSVWriter.appendRow([p] + cells[p]!, to: &out) }
        try write(out)
        return Result(rowsIn: long.entries, rowsOut: people.count, warnings: long.warnings)
    }

    /// Shortest text that reads back as the same number (`2.5`, `10`, `0.3333333333333333`).
    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
