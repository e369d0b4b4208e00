/// Server entries (JSON objects) as CSV rows: the header is the union of field names, sorted (schema drift never
/// misaligns columns), and every cell follows `CSVCell.text`.
public enum EntryCSV {
    public static func header(for entries: [JSONValue]) -> [String] {
        var names = Set<String>()
        for e in entries { for (k, _) in e.objectFields ?? [] { names.insert(k) } }
        return CSVCell.sortedHeader(names)
    }

    /// One row in `header` order; fields the entry lacks are empty. Fields not in the header are the caller's
    /// problem (see `missingColumns`).
    public static func row(_ entry: JSONValue, header: [String]) -> [String] {
        let fields = entry.objectFields ?? []
        if fields.count < 16 {
            return header.map { h in fields.first { $0.0 == h }.map { CSVCell.text($0.1) } ?? "" }
        }
        var byName: [String: JSONValue] = [:]
        for (k, v) in fields where byName[k] == nil { byName[k] = v }
        return header.map { byName[$0].map(CSVCell.text) ?? "" }
    }

    /// Field names present in entries but absent from an existing header (the file must be rewritten).
    public static func missingColumns(_ entries: [JSONValue], header: [String]) -> [String] {
        let have = Set(header)
        var missing = Set<String>()
        for e in entries { for (k, _) in e.objectFields ?? [] where !have.contains(k) { missing.insert(k) } }
        return CSVCell.sortedHeader(missing)
    }

    /// A whole CSV document: header then rows.
    public static func document(_ entries: [JSONValue], header: [String]? = nil) -> [UInt8] {
        let h = header ?? Self.header(for: entries)
        var out: [UInt8] = []
        CSVWriter.appendRow(h, to: &out)
        for e in entries { CSVWriter.appendRow(row(e, header: h), to: &out) }
        return out
    }
}
