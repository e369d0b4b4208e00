/// RFC 4180 output as analysts' tools expect it: `\r\n` line ends, UTF-8, quotes only where needed.
public enum CSVWriter {
    public static func appendRow<S: Sequence>(_ fields: S, to out: inout [UInt8]) where S.Element == String {
        var first = true
        for f in fields {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            appendField(f, to: &out)
        }
        out.append(0x0D)
        out.append(0x0A)
    }

    public static func row<S: Sequence>(_ fields: S) -> [UInt8] where S.Element == String {
        var out: [UInt8] = []
        appendRow(fields, to: &out)
        return out
    }

    public static func appendField(_ f: String, to out: inout [UInt8]) {
        var needsQuotes = false
        for c in f.utf8 where c == UInt8(ascii: ",") || c == UInt8(ascii: "\"") || c == 0x0A || c == 0x0D {
            needsQuotes = true
            break
        }
        guard needsQuotes else { out.append(contentsOf: f.utf8); return }
        out.append(UInt8(ascii: "\""))
        for c in f.utf8 {
            if c == UInt8(ascii: "\"") { out.append(c) }
            out.append(c)
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// How a server value becomes one CSV cell (documented in mt-decrypt(1) and README "CSV files").
public enum CSVCell {
    /// null → empty; numbers exactly as written; booleans `true`/`false`; arrays and objects as compact JSON.
    public static func text(_ v: JSONValue) -> String {
        switch v {
        case .null: ""
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n
        case .string(let s): s
        case .array, .object: JSONWriter.string(v)
        }
    }

    /// Field names in the original's order: sorted by code point (Python's `sorted`).
    public static func sortedHeader<S: Sequence>(_ names: S) -> [String] where S.Element == String {
        Array(Set(names)).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }
}
