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

/// How a server value becomes one CSV cell (documented in mt-export(1), mt-decrypt(1) and README "CSV files").
/// Export, decrypt and recover all write cells through `text`; the archive keeps the server's bytes.
public enum CSVCell {
    /// null → empty; numbers exactly as written; booleans `true`/`false`; arrays and objects as compact JSON;
    /// text as sent, except control bytes (see `analystText`).
    public static func text(_ v: JSONValue) -> String {
        switch v {
        case .null: ""
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n
        case .string(let s): analystText(s)
        case .array, .object: JSONWriter.string(v)
        }
    }

    /// The replacement for a C0 control byte that is not a one-byte boolean: U+FFFD, visible and never data.
    public static let replacement = "\u{FFFD}"

    /// MySQL BIT(1) columns reach JSON as the one-character strings `\u0000` / `\u0001`; a NUL in a cell makes
    /// R's read.csv stop at it ("embedded nul") and other C0 bytes confuse readers, so such booleans are written
    /// `0` / `1` and any other C0 byte except TAB, LF and CR (ordinary text, quoted where RFC 4180 asks) is
    /// replaced by U+FFFD.
    public static func analystText(_ s: String) -> String {
        guard hasControlByte(s) else { return s }
        if s == "\u{0}" { return "0" }
        if s == "\u{1}" { return "1" }
        var out = ""
        for u in s.unicodeScalars {
            if u.value < 0x20 && !isTextWhitespace(UInt8(u.value)) { out += replacement } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    /// Whether a cell breaks the rule of `analystText` (a CSV written before it, or by another tool).
    public static func hasControlByte(_ cell: String) -> Bool {
        for c in cell.utf8 where c < 0x20 && !isTextWhitespace(c) { return true }
        return false
    }

    private static func isTextWhitespace(_ c: UInt8) -> Bool { c == 0x09 || c == 0x0A || c == 0x0D }

    /// Field names in the original's order: sorted by code point (Python's `sorted`).
    public static func sortedHeader<S: Sequence>(_ names: S) -> [String] where S.Element == String {
        Array(Set(names)).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }
}
