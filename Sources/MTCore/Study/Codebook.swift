import Foundation

/// One column of one scale in the codebook (`mt scales codebook`): what the catalogue says of it, and what the
/// data shows.
public struct CodebookEntry: Sendable, Equatable {
    public var scale: String
    public var column: String
    /// item, metadata, "item (not in the catalogue)", or "unknown scale".
    public var role: String
    public var valid: String
    public var noAnswer: String
    public var scores: String
    /// The scale's identity rule; the column's own part in it is marked by `inIdentity`.
    public var identity: String
    public var inIdentity: Bool
    /// From the data (nil/empty when the column is in the catalogue but not in the data).
    public var inData: Bool
    public var type: String
    public var range: String
    public var distinct: Int
    public var missing: Int
    public var firstDate: String
    public var lastDate: String
    /// From the study's question page (config/labels.yaml): the question as the participant saw it, the labels
    /// of its coded answers and no-answer codes (`0=No anxiety; …; 555=Prefer not to answer (no answer)`), the
    /// page they were read from, and where the page and its Java class disagree.
    public var question = ""
    public var labels = ""
    public var labelSource = ""
    public var disagrees = ""

    public static let header = ["scale", "column", "role", "valid", "noAnswer", "scores", "identity", "inIdentity",
                                "type", "range", "distinct", "missing", "firstDate", "lastDate",
                                "question", "labels", "labelSource", "disagrees"]

    public var fields: [String] {
        [scale, column, role, valid, noAnswer, scores, identity, inIdentity ? "yes" : "no",
         type, range, inData ? String(distinct) : "", inData ? String(missing) : "", firstDate, lastDate,
         question, labels, labelSource, disagrees]
    }
}

/// The data dictionary of a study: one entry per scale and column, catalogue facts beside observed ones.
public enum Codebook {
    /// Observed kinds of non-empty cells; the column's type is the narrowest that holds them all.
    struct Observed {
        var integer = 0, decimal = 0, boolean = 0, date = 0, list = 0, text = 0
        var lo = Double.infinity, hi = -Double.infinity
        var shortest = Int.max, longest = 0
        /// The earliest and latest date among the cells (a date column's own range).
        var earliest = Int64.max, latest = Int64.min
        /// The dates of the first and last entry (the row's `date`) where the column is filled.
        var firstDate: Int64?, lastDate: Int64?
        var values = Set<String>()
        var missing = 0

        mutating func add(_ cell: String) {
            values.insert(cell)
            shortest = min(shortest, cell.count)
            longest = max(longest, cell.count)
            if cell == "\u{1}" || cell == "\u{0}" || cell == "true" || cell == "false" { boolean += 1 }
            else if let n = Int(cell) { integer += 1; lo = min(lo, Double(n)); hi = max(hi, Double(n)) }
            else if let d = Double(cell), d.isFinite { decimal += 1; lo = min(lo, d); hi = max(hi, d) }
            else if let t = EntryDate.parse(cell) {
                date += 1
                earliest = min(earliest, t)
                latest = max(latest, t)
            } else if cell.hasPrefix("["), case .array? = try? JSONParser.parse(Array(cell.utf8)) { list += 1 }
            else { text += 1 }
        }

        var type: String {
            let total = integer + decimal + boolean + date + list + text
            if total == 0 { return "empty" }
            if integer == total { return "integer" }
            if integer + decimal == total { return "decimal" }
            if boolean == total { return "boolean" }
            if date == total { return "date" }
            if list == total { return "list" }
            return "text"
        }

        var range: String {
            switch type {
            case "integer", "decimal": return lo == hi ? num(lo) : "\(num(lo))–\(num(hi))"
            case "date": return "\(EntryDate.iso(earliest)) – \(EntryDate.iso(latest))"
            case "boolean": return values.sorted().joined(separator: ", ") // how the export spelled them
            case "empty": return ""
            default: return shortest == longest ? "length \(shortest)" : "length \(shortest)–\(longest)"
            }
        }

        func num(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }
    }

    /// The role of a column of the study's own tables (participant table, TaskLog), from the `designs:` block.
    static func studyRole(_ scale: String, _ column: String, design: StudyDesign?) -> String? {
        guard let d = design, let role = d.role(of: scale) else { return nil }
        if role == .participantTable {
            if d.participantID.contains(column) { return "participant id (participant table)" }
            if d.conditions.contains(column) { return "arm (participant table)" }
            if [d.adminFlag, d.testAccountFlag, d.over18Flag].contains(column) { return "exclusion flag (participant table)" }
            return "metadata (participant table)"
        }
        for (names, part) in [(d.taskLogParticipant, "participant"), (d.taskLogSession, "session"),
                              (d.taskLogTask, "task"), (d.taskLogDate, "date")] where names.contains(column) {
            return "\(part) (TaskLog)"
        }
        return "metadata (TaskLog)"
    }

    public static func build(_ sources: [ScaleFiles], catalogue: ScaleCatalogue,
                             design: StudyDesign? = nil) throws -> (entries: [CodebookEntry], warnings: [String]) {
        var out: [CodebookEntry] = []
        var warnings = StatsWarnings()
        for source in sources {
            let table = try StatsTable(source, catalogue: catalogue, design: design)
            let spec = catalogue.spec(for: source.scale)
            let identity = IdentityRule(table: table, design: design)
            var observed = [Observed](repeating: Observed(), count: table.columns.count)
            let dateCol = table.column(design?.dateColumn(scale: source.scale, columns: table.columns) ?? "date")
            try table.forEachRow(warnings: &warnings) { row in
                let rowDate = dateCol.flatMap { row.isEmpty($0) ? nil : EntryDate.parse(row.string($0)) }
                for c in table.columns.indices {
                    if row.isEmpty(c) { observed[c].missing += 1; continue }
                    observed[c].add(row.string(c))
                    if let t = rowDate {
                        if observed[c].firstDate == nil || t < observed[c].firstDate! { observed[c].firstDate = t }
                        if observed[c].lastDate == nil || t > observed[c].lastDate! { observed[c].lastDate = t }
                    }
                }
            }
            let participants = Set(table.participantNames)
            let items = spec.map { $0.itemColumns(table.columns, catalogue: catalogue) } ?? []
            var names = table.columns
            for i in spec?.items ?? [] where !names.contains(i) { names.append(i) }
            for name in names {
                let c = table.column(name)
                var e = CodebookEntry(scale: source.scale, column: name, role: "", valid: "", noAnswer: "", scores: "",
                                      identity: identity.description,
                                      inIdentity: participants.contains(name) || identity.names.contains(name),
                                      inData: c != nil, type: "not in the data", range: "", distinct: 0, missing: 0,
                                      firstDate: "", lastDate: "")
                let isMeta = !catalogue.isItem(name) || participants.contains(name) || name == spec?.participant
                if let spec {
                    e.role = isMeta ? "metadata" : (spec.items.contains(name) ? "item" : "item (not in the catalogue)")
                    if !isMeta, let rule = spec.rule(for: name) { (e.valid, e.noAnswer) = describe(rule) }
                    let scoreColumns = items.isEmpty ? spec.items : items
                    if !isMeta, let l = spec.labels, let item = l.items[name] {
                        e.question = item.text ?? ""
                        e.labels = (item.values.map { "\($0.0)=\($0.1)" } + l.noAnswer.map { "\($0.0)=\($0.1) (no answer)" })
                            .joined(separator: "; ")
                        e.labelSource = "TeachmanLab/MT-Java " + l.source
                        e.disagrees = l.disagrees ?? ""
                    }
                    e.scores = spec.scores.filter { s in
                        !isMeta && (s.numerator(in: scoreColumns).contains(name) || s.denominator(in: scoreColumns).contains(name))
                    }.map(\.name).joined(separator: ", ")
                } else {
                    e.role = studyRole(source.scale, name, design: design) ?? (isMeta ? "metadata" : "unknown scale")
                }
                if let c {
                    let o = observed[c]
                    e.type = o.type
                    e.range = o.range
                    e.distinct = o.values.count
                    e.missing = o.missing
                    e.firstDate = o.firstDate.map(EntryDate.iso) ?? ""
                    e.lastDate = o.lastDate.map(EntryDate.iso) ?? ""
                }
                out.append(e)
            }
        }
        return (out, warnings.messages)
    }

    /// Valid values and no-answer codes of a rule, as a person reads them.
    static func describe(_ rule: ValueRule) -> (String, String) {
        switch rule.check {
        case let .range(lo, hi, codes): return ("\(lo)–\(hi)", codes.map(String.init).joined(separator: ", "))
        case .values(let v): return (v.joined(separator: ", "), "")
        case .text: return ("free text", "")
        case .list: return ("list of choices (JSON array)", "")
        }
    }

    public static func csv(_ entries: [CodebookEntry]) -> [UInt8] {
        var out = CSVWriter.row(CodebookEntry.header)
        for e in entries { CSVWriter.appendRow(e.fields, to: &out) }
        return out
    }

    public static func markdown(_ entries: [CodebookEntry], title: String) -> String {
        var h = "# Codebook — \(title)\n"
        var scale: String?
        for e in entries {
            if e.scale != scale {
                scale = e.scale
                h += "\n## \(e.scale)\n\nIdentity rule: \(e.identity)\n\n"
                h += "| " + CodebookEntry.header.dropFirst().joined(separator: " | ") + " |\n"
                h += "|" + String(repeating: " --- |", count: CodebookEntry.header.count - 1) + "\n"
            }
            h += "| " + e.fields.dropFirst().map(md).joined(separator: " | ") + " |\n"
        }
        return h
    }

    public static func html(_ entries: [CodebookEntry], title: String) -> String {
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Codebook — \(HTMLText.escape(title))</title>
            <style>body{font-family:system-ui,sans-serif;margin:24px}table{border-collapse:collapse;font-size:13px}
            td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}h2{margin-top:28px}</style></head><body>
            <h1>Codebook — \(HTMLText.escape(title))</h1>

            """
        var scale: String?
        for e in entries {
            if e.scale != scale {
                if scale != nil { h += "</table>\n" }
                scale = e.scale
                h += "<h2>\(HTMLText.escape(e.scale))</h2><p>Identity rule: \(HTMLText.escape(e.identity))</p>\n<table><tr>"
                h += CodebookEntry.header.dropFirst().map { "<th>\($0)</th>" }.joined() + "</tr>\n"
            }
            h += "<tr>" + e.fields.dropFirst().map { "<td>\(HTMLText.escape(visible($0)))</td>" }.joined() + "</tr>\n"
        }
        if scale != nil { h += "</table>\n" }
        return h + "</body></html>\n"
    }

    /// Control characters (the byte \001 of exported booleans) shown as escapes in text output.
    static func visible(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if u.value < 0x20 && u != "\n" { out += String(format: "\\%03o", u.value) } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    static func md(_ s: String) -> String {
        visible(s).replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
