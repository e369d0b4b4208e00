import MTCore

/// Data quality of one scale (`mt stats summary`), counted in one streaming pass: per-column counters, and hash
/// sets only for identity keys and participants.
///
/// Definitions (they match pandas reading the same files with `dtype=str, keep_default_na=False,
/// na_values=[""]`, so only an empty cell is missing and identities compare as text):
/// entries = data rows (blank lines skipped); participants = distinct non-empty participant links;
/// duplicates = entries − distinct identities (IdentityRule); missing = empty cells (a cell absent from a short
/// row or from a file without that column is empty); out of range = non-empty cells that fail the catalogue's
/// rule; sessions = rows per non-empty session value.
struct ScaleSummary: Sendable {
    var scale: String
    var files: [String]
    var columns: [String]
    var entries = 0
    /// nil when no participant column was found.
    var participants: Int?
    /// nil when no participant column was found (unknown, not 0).
    var duplicates: Int?
    var identity: String
    /// Per column: whether it holds answers (the catalogue's items), the cells whose missing share counts.
    var isItem: [Bool]
    /// The study design's part for this table (participant table, TaskLog), nil for a questionnaire.
    var role: StudyDesign.TableRole?
    /// Per column, as `columns`.
    var missing: [Int]
    /// Per column; nil for columns without a range rule (not items, free text, unknown to the catalogue).
    var outOfRange: [Int?]
    /// Rows per session, catalogue session order first, then in order of appearance.
    var sessions: [(String, Int)] = []
    var firstDate: Int64?
    var lastDate: Int64?
    /// Rows per day (days since 1970, UTC), for the report.
    var perDay: [Int: Int] = [:]
    /// Distinct participants per session, in `sessions` order (the attrition funnel).
    var participantsPerSession: [(String, Int)] = []
    var warnings: [String] = []
}

/// How one column's cells are checked, prepared once per table from the catalogue's rule. Plain values (no
/// references) so the per-cell loop copies nothing that needs retaining; unusual cells go to the rule itself.
struct CellCheck {
    enum Kind: UInt8 { case range, values, other }
    var kind: Kind
    var lower = 0, upper = 0
    /// The rule's extra codes (555, -1) when there are at most three; otherwise `manyCodes` sends them to the rule.
    var code0 = Int.min, code1 = Int.min, code2 = Int.min
    var manyCodes = false
    /// The rule takes true/false, so `\001`/`\000` (booleans exported as a byte) are read as true/false.
    var booleans = false

    init?(_ rule: ValueRule?) {
        guard let rule else { return nil }
        switch rule.check {
        case .text: return nil
        case let .range(lo, hi, codes):
            kind = .range
            lower = lo
            upper = hi
            if codes.count > 0 { code0 = codes[0] }
            if codes.count > 1 { code1 = codes[1] }
            if codes.count > 2 { code2 = codes[2] }
            manyCodes = codes.count > 3
        case .values(let v):
            kind = .values
            booleans = v.contains("true") || v.contains("false")
        case .list: kind = .other
        }
    }

    /// Valid, invalid, or nil when only the full rule can tell.
    @inline(__always)
    func quickCheck(_ b: UnsafeBufferPointer<UInt8>) -> Bool? {
        switch kind {
        case .range:
            guard let n = Self.integer(b) else { return nil }
            if n >= lower && n <= upper || n == code0 || n == code1 || n == code2 { return true }
            return manyCodes ? nil : false
        case .values:
            if b.count == 1, b[0] <= 1 { return booleans }
            return nil
        case .other: return nil
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

enum StatsSummarizer {
    /// Counts one scale's files. `detail` also counts rows per day and participants per session (the report).
    /// `progress` hears of the bytes read (see `StatsTable.size(of:)` for the total).
    static func summarize(_ source: ScaleFiles, catalogue: ScaleCatalogue, design: StudyDesign? = nil,
                          detail: Bool = false, progress: ((Int) -> Void)? = nil) throws -> ScaleSummary {
        let table = try StatsTable(source, catalogue: catalogue, design: design)
        let spec = catalogue.spec(for: source.scale)
        var warnings = StatsWarnings()
        let role = design?.role(of: source.scale)
        if spec == nil && role == nil {
            warnings.note("\(source.scale): not in the scale catalogue, so no value is checked for range")
        }
        let columns = table.columns
        let items = Set(spec.map { s in s.items.isEmpty ? s.itemColumns(columns, catalogue: catalogue) : s.items } ?? [])
        let rules: [ValueRule?] = columns.map { c in
            guard let spec, catalogue.isItem(c), c != spec.participant else { return nil }
            return spec.rule(for: c)
        }
        let checks = rules.map(CellCheck.init)
        let checked = checks.map { $0 != nil }
        let rsaColumns = columns.map { $0.hasSuffix("RSA") }
        let names = table.participantNames
        if names.isEmpty {
            warnings.note("\(source.scale): no participant column (looked for \(catalogue.participantColumns.joined(separator: ", "))); participants and duplicates are unknown (null), not 0; a column whose name contains \"participant\" would be taken")
        } else if names.count > 1 {
            warnings.note("\(source.scale): the participant column is named \(names.joined(separator: " in some files, ")) in others (renamed between study versions); all are read as the participant")
        }
        StatsTransforms.noteParticipant(table, catalogue: catalogue, design: design, warnings: &warnings)
        let identity = IdentityRule(table: table, design: design)
        let sessionCol = table.column(design?.sessionColumn(scale: source.scale, columns: columns) ?? "session")
        let dateCol = table.column(design?.dateColumn(scale: source.scale, columns: columns) ?? "date")

        var missing = [Int](repeating: 0, count: columns.count)
        var outOfRange = [Int](repeating: 0, count: columns.count)
        var byteBooleans = [Int](repeating: 0, count: columns.count)
        var entries = 0
        let hasParticipant = !names.isEmpty
        let distinct = hasParticipant ? DistinctCounter() : nil
        var batch = DistinctCounter.Batch()
        var sessionCounts = ValueTally()
        var sessionParticipants = Set<String>()
        var perDay: [Int: Int] = [:]
        var first: Int64?, last: Int64?
        var scratch: [UInt8] = []
        scratch.reserveCapacity(256)
        var cellWarnings = StatsWarnings()

        defer { if let distinct { _ = distinct.finish() } } // also on errors: the counting thread must end
        try table.forEachRow(warnings: &warnings, progress: progress) { row in
            entries += 1
            // The per-cell loop runs twenty million times on a large file: plain pointers, no bounds checks
            // beyond the explicit ones, nothing retained.
            let n = row.raw.count
            var ciphertextIn: [Int] = []
            row.raw.bytes.withUnsafeBufferPointer { bytes in
            row.raw.ends.withUnsafeBufferPointer { ends in
            row.fieldOf.withUnsafeBufferPointer { fieldOf in
                for c in 0..<fieldOf.count {
                    let f = fieldOf[c]
                    guard f >= 0 && f < n else { missing[c] += 1; continue }
                    let start = f == 0 ? 0 : ends[f - 1] + 1
                    if start == ends[f] { missing[c] += 1; continue }
                    if checked[c] {
                        let b = UnsafeBufferPointer(rebasing: bytes[start..<ends[f]])
                        if b.count == 1 && b[0] <= 1 { byteBooleans[c] += 1 }
                        let valid = checks[c]!.quickCheck(b) ?? rules[c]!.isValid(String(decoding: b, as: UTF8.self))
                        if !valid { outOfRange[c] += 1 }
                    } else if rsaColumns[c] && Self.looksLikeCiphertext(UnsafeBufferPointer(rebasing: bytes[start..<ends[f]])) {
                        ciphertextIn.append(c)
                    }
                }
            }
            }
            }
            for c in ciphertextIn {
                cellWarnings.add("\(row.file): column \(columns[c]) holds RSA ciphertext left undecrypted (a key did not match); run mt decrypt or mt recover with the right key", line: row.line)
            }
            var participant = ""
            if hasParticipant {
                let participantLength = identity.fill(row, into: &scratch)
                batch.add(identity: scratch, participantLength: participantLength)
                if detail && participantLength > 0 { participant = row.participant }
                if batch.rows == DistinctCounter.batchRows {
                    distinct!.submit(batch)
                    batch = DistinctCounter.Batch()
                }
            }
            if let s = sessionCol, !row.isEmpty(s) {
                row.withBytes(s) { sessionCounts.add($0) }
                if detail && !participant.isEmpty { sessionParticipants.insert(participant + "\u{1F}" + row.string(s)) }
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
        var counted: (participants: Int, identities: Int)?
        if let distinct {
            if batch.rows > 0 { distinct.submit(batch) }
            counted = distinct.finish()
        }
        for (c, n) in byteBooleans.enumerated() where n > 0 {
            let reading = checks[c]?.booleans == true ? "read as true/false" : "counted out of range"
            warnings.note("\(source.scale): column \(columns[c]): \(n) cells hold the byte \\001 or \\000 (a boolean exported as a byte); \(reading)")
        }
        let known = catalogue.sessions
        let ordered = known.filter { sessionCounts.count($0) != nil } + sessionCounts.order.filter { !known.contains($0) }
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
            participants: counted?.participants,
            duplicates: counted.map { entries - $0.identities }, identity: identity.description,
            isItem: columns.map(items.contains), role: role,
            missing: missing, outOfRange: checked.enumerated().map { $0.element ? outOfRange[$0.offset] : nil },
            sessions: ordered.map { ($0, sessionCounts.count($0)!) }, firstDate: first, lastDate: last,
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
    var json: JSONValue {
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
            ("duplicates", duplicates.map { JSONValue.int($0) } ?? .null),
            ("missing", .object(miss)),
            ("outOfRange", .object(range)),
            ("sessions", .object(perSession)),
            ("firstDate", firstText),
            ("lastDate", lastText),
        ])
    }
}
