/// Data quality of one scale (`mt stats summary`), counted in one streaming pass: per-column counters, and hash
/// sets only for identity keys and participants.
///
/// Definitions (they match pandas reading the same files with `dtype=str, keep_default_na=False,
/// na_values=[""]`, so only an empty cell is missing and identities compare as text):
/// entries = data rows (blank lines skipped); participants = distinct non-empty participant links;
/// duplicates = entries − distinct identities (IdentityRule); missing = empty cells (a cell absent from a short
/// row or from a file without that column is empty); out of range = non-empty cells that fail the catalogue's
/// rule; sessions = rows per non-empty session value.
public struct ScaleSummary: Sendable {
    public var scale: String
    public var files: [String]
    public var columns: [String]
    public var entries = 0
    /// nil when no participant column was found.
    public var participants: Int?
    public var duplicates = 0
    public var identity: String
    /// Per column, as `columns`.
    public var missing: [Int]
    /// Per column; nil for columns without a range rule (not items, free text, unknown to the catalogue).
    public var outOfRange: [Int?]
    /// Rows per session, catalogue session order first, then in order of appearance.
    public var sessions: [(String, Int)] = []
    public var firstDate: Int64?
    public var lastDate: Int64?
    /// Rows per day (days since 1970, UTC), for the report.
    public var perDay: [Int: Int] = [:]
    /// Distinct participants per session, in `sessions` order (the attrition funnel).
    public var participantsPerSession: [(String, Int)] = []
    public var warnings: [String] = []
}

/// How one column's cells are checked, prepared once per table from the catalogue's rule.
enum CellCheck {
    case range(lower: Int, upper: Int, codes: [Int], rule: ValueRule)
    case values(Set<String>, booleans: Bool)
    case other(ValueRule)

    init?(_ rule: ValueRule?) {
        guard let rule else { return nil }
        switch rule.check {
        case .text: return nil
        case let .range(lo, hi, codes): self = .range(lower: lo, upper: hi, codes: codes, rule: rule)
        case .values(let v): self = .values(Set(v), booleans: v.contains("true") || v.contains("false"))
        case .list: self = .other(rule)
        }
    }

    /// Whether a non-empty cell is valid. `\001`/`\000` (booleans exported as a byte) count as true/false where
    /// the rule takes booleans.
    @inline(__always)
    func isValid(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        switch self {
        case let .range(lo, hi, codes, rule):
            if let n = Self.integer(b) { return (n >= lo && n <= hi) || codes.contains(n) }
            return rule.isValid(String(decoding: b, as: UTF8.self))
        case let .values(set, booleans):
            if b.count == 1, b[0] <= 1 { return booleans }
            return set.contains(String(decoding: b, as: UTF8.self))
        case .other(let rule):
            return rule.isValid(String(decoding: b, as: UTF8.self))
        }
    }

    /// Plain decimal integers (`-1`, `555`); anything else goes to the catalogue's slower, wider parser.
    @inline(__always)
    static func integer(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0, neg = false
        if b.count > 0, b[0] == 45 { neg = true; i = 1 }
        guard i < b.count, b.count - i <= 9 else { return nil }
        var v = 0
        while i < b.count {
            let c = b[i]
            guard c >= 48, c <= 57 else { return nil }
            v = v * 10 + Int(c - 48)
            i += 1
        }
        return neg ? -v : v
    }
}

extension ScaleSpec {
    /// The item columns of a table: the columns the catalogue counts as items.
    public func itemColumns(_ columns: [String], catalogue: ScaleCatalogue) -> [String] {
        columns.filter { catalogue.isItem($0) && !catalogue.participantColumns.contains($0) && $0 != participant }
    }
}

public enum StatsSummarizer {
    /// Counts one scale's files. `detail` also counts rows per day and participants per session (the report).
    public static func summarize(_ source: ScaleFiles, catalogue: ScaleCatalogue, detail: Bool = false) throws -> ScaleSummary {
        let table = try StatsTable(source, catalogue: catalogue)
        let spec = catalogue.spec(for: source.scale)
        var warnings = StatsWarnings()
        if spec == nil {
            warnings.note("\(source.scale): not in the scale catalogue, so no value is checked for range")
        }
        let columns = table.columns
        let checks: [CellCheck?] = columns.map { c in
            guard let spec, catalogue.isItem(c), c != spec.participant else { return nil }
            return CellCheck(spec.rule(for: c))
        }
        let rsaColumns = columns.map { $0.hasSuffix("RSA") }
        let names = table.participantNames
        if names.isEmpty {
            warnings.note("\(source.scale): no participant column (looked for \(catalogue.participantColumns.joined(separator: ", "))); participants and duplicates are not counted")
        } else if names.count > 1 {
            warnings.note("\(source.scale): the participant column is named \(names.joined(separator: " in some files, ")) in others (renamed between study versions); all are read as the participant")
        }
        let identity = IdentityRule(table: table)
        let sessionCol = table.column("session")
        let dateCol = table.column("date")

        var missing = [Int](repeating: 0, count: columns.count)
        var outOfRange = [Int](repeating: 0, count: columns.count)
        var byteBooleans = [Int](repeating: 0, count: columns.count)
        var entries = 0
        var keys = Set<String>()
        var participants = Set<String>()
        var sessionCounts: [String: Int] = [:]
        var sessionOrder: [String] = []
        var sessionParticipants = Set<String>()
        var perDay: [Int: Int] = [:]
        var first: Int64?, last: Int64?
        var scratch: [UInt8] = []
        scratch.reserveCapacity(256)
        let hasParticipant = !names.isEmpty
        var cellWarnings = StatsWarnings()

        try table.forEachRow(warnings: &warnings) { row in
            entries += 1
            for c in 0..<columns.count {
                let f = row.fieldOf[c]
                if f < 0 || f >= row.raw.count || row.raw.isEmpty(f) { missing[c] += 1; continue }
                if let check = checks[c] {
                    row.raw.withField(f) { b in
                        if b.count == 1 && b[0] <= 1 { byteBooleans[c] += 1 }
                        if !check.isValid(b) { outOfRange[c] += 1 }
                    }
                } else if rsaColumns[c] {
                    row.raw.withField(f) { b in
                        if Self.looksLikeCiphertext(b) {
                            cellWarnings.add("\(row.file): column \(columns[c]) holds RSA ciphertext left undecrypted (a key did not match); run mt decrypt or mt recover with the right key", line: row.line)
                        }
                    }
                }
            }
            var participant = ""
            if hasParticipant {
                participant = row.participant
                if !participant.isEmpty { participants.insert(participant) }
                keys.insert(identity.key(row, scratch: &scratch))
            }
            if let s = sessionCol, !row.isEmpty(s) {
                let session = row.string(s)
                if let n = sessionCounts[session] { sessionCounts[session] = n + 1 } else {
                    sessionCounts[session] = 1
                    sessionOrder.append(session)
                }
                if detail && !participant.isEmpty { sessionParticipants.insert(participant + "\u{1F}" + session) }
            }
            if let d = dateCol, !row.isEmpty(d) {
                if let t = row.withBytes(d, EntryDate.parse) {
                    if first == nil || t < first! { first = t }
                    if last == nil || t > last! { last = t }
                    if detail { perDay[Int(t >= 0 ? t / 86400 : (t - 86399) / 86400), default: 0] += 1 }
                } else {
                    cellWarnings.add("\(row.file): dates that are not \"EEE, dd MMM yyyy HH:mm:ss Z\" nor ISO 8601 are left out of first/last date", line: row.line)
                }
            }
        }
        for (c, n) in byteBooleans.enumerated() where n > 0 {
            warnings.note("\(source.scale): column \(columns[c]): \(n) cells hold the byte \\001 or \\000 (a boolean exported as a byte)\(checks[c].map { if case .values(_, true) = $0 { return "; read as true/false" } else { return "; counted out of range" } } ?? "")")
        }
        let known = catalogue.sessions
        let ordered = known.filter { sessionCounts[$0] != nil } + sessionOrder.filter { !known.contains($0) }
        var perSession: [(String, Int)] = []
        if detail {
            var counts: [String: Int] = [:]
            for k in sessionParticipants {
                let s = String(k[k.index(after: k.lastIndex(of: "\u{1F}")!)...])
                counts[s, default: 0] += 1
            }
            perSession = ordered.map { ($0, counts[$0] ?? 0) }
        }
        return ScaleSummary(
            scale: source.scale, files: source.files, columns: columns, entries: entries,
            participants: hasParticipant ? participants.count : nil,
            duplicates: hasParticipant ? entries - keys.count : 0, identity: identity.description,
            missing: missing, outOfRange: checks.enumerated().map { $0.element == nil ? nil : outOfRange[$0.offset] },
            sessions: ordered.map { ($0, sessionCounts[$0]!) }, firstDate: first, lastDate: last,
            perDay: perDay, participantsPerSession: perSession, warnings: warnings.messages + cellWarnings.messages)
    }

    /// Base64 of an RSA block (1024-bit keys and up): long, base64 alphabet only, a multiple of 4.
    static func looksLikeCiphertext(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count >= 172, b.count % 4 == 0 else { return false }
        for c in b {
            let ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 43 || c == 47 || c == 61
            if !ok { return false }
        }
        return true
    }
}

extension ScaleSummary {
    /// The `--json` object: exactly `scale`, `entries`, `participants`, `duplicates`, `missing`, `outOfRange`,
    /// `sessions`, `firstDate`, `lastDate`.
    public var json: JSONValue {
        let miss: [(String, JSONValue)] = columns.indices.map { (columns[$0], JSONValue.int(missing[$0])) }
        var range: [(String, JSONValue)] = []
        for c in columns.indices { if let n = outOfRange[c] { range.append((columns[c], JSONValue.int(n))) } }
        let perSession: [(String, JSONValue)] = sessions.map { ($0.0, JSONValue.int($0.1)) }
        let people: JSONValue = participants.map { JSONValue.int($0) } ?? .null
        let firstText: JSONValue = firstDate.map { .string(EntryDate.iso($0)) } ?? .null
        let lastText: JSONValue = lastDate.map { .string(EntryDate.iso($0)) } ?? .null
        return .object([
            ("scale", .string(scale)),
            ("entries", JSONValue.int(entries)),
            ("participants", people),
            ("duplicates", JSONValue.int(duplicates)),
            ("missing", .object(miss)),
            ("outOfRange", .object(range)),
            ("sessions", .object(perSession)),
            ("firstDate", firstText),
            ("lastDate", lastText),
        ])
    }
}
