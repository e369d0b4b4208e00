import MTCore

/// `mt stats summary` as a table for people, or CSV for spreadsheets.
enum StatsSummaryText {
    static func table(_ summaries: [ScaleSummary]) -> [UInt8] {
        var out = ""
        for (k, s) in summaries.enumerated() {
            if k > 0 { out += "\n" }
            out += "\(s.scale)  (\(s.files.count) file\(s.files.count == 1 ? "" : "s"))\(s.role.map { ", the study's \($0.rawValue)" } ?? "")\n"
            let people = s.participants.map(String.init) ?? "-"
            out += "  entries \(s.entries)   participants \(people)   duplicates \(s.duplicates.map(String.init) ?? "-")  (identity: \(s.identity))\n"
            if let f = s.firstDate, let l = s.lastDate {
                out += "  dates   \(EntryDate.iso(f)) … \(EntryDate.iso(l))\n"
            }
            if !s.sessions.isEmpty {
                out += "  sessions " + s.sessions.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + "\n"
            }
            let width = max(6, s.columns.map(\.count).max() ?? 0)
            out += "  " + pad("column", width) + "  " + lpad("missing", 8) + "  " + lpad("out of range", 12) + "\n"
            for (c, name) in s.columns.enumerated() {
                let range = s.outOfRange[c].map(String.init) ?? "-"
                out += "  " + pad(name, width) + "  " + lpad(String(s.missing[c]), 8) + "  " + lpad(range, 12) + "\n"
            }
        }
        return Array(out.utf8)
    }

    /// One row per scale and column; the scale's own figures repeat on each of its rows.
    static func csv(_ summaries: [ScaleSummary]) -> [UInt8] {
        var out = CSVWriter.row(["scale", "entries", "participants", "duplicates", "firstDate", "lastDate", "sessions",
                                 "column", "missing", "outOfRange"])
        for s in summaries {
            let duplicates: String = s.duplicates.map(String.init) ?? ""
            let common: [String] = [s.scale, String(s.entries), s.participants.map(String.init) ?? "", duplicates,
                                    s.firstDate.map(EntryDate.iso) ?? "", s.lastDate.map(EntryDate.iso) ?? "",
                                    s.sessions.map { "\($0.0)=\($0.1)" }.joined(separator: ";")]
            for (c, name) in s.columns.enumerated() {
                CSVWriter.appendRow(common + [name, String(s.missing[c]), s.outOfRange[c].map(String.init) ?? ""], to: &out)
            }
        }
        return out
    }

    static func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    static func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
}
