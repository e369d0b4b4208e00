/// Serialises `JSONValue` compactly (or indented for people), numbers as written, non-ASCII as raw UTF-8.
public enum JSONWriter {
    public static func bytes(_ value: JSONValue, pretty: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        write(value, into: &out, pretty: pretty, indent: 0)
        return out
    }

    public static func string(_ value: JSONValue, pretty: Bool = false) -> String {
        String(decoding: bytes(value, pretty: pretty), as: UTF8.self)
    }

    public static func write(_ value: JSONValue, into out: inout [UInt8], pretty: Bool = false, indent: Int = 0) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                write(item, into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty && !items.isEmpty { newline(&out, indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (k, (key, v)) in fields.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                write(v, into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty && !fields.isEmpty { newline(&out, indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], _ indent: Int) {
        out.append(0x0A)
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// JSON escaping, plus \u escapes for DEL and the C1 controls (U+0080–U+009F, such as the one-character
    /// CSI): they are valid raw in JSON, but `jq -r` would hand them to a terminal. The value read back is the same.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var lead = false // the byte before was 0xC2, the lead byte of U+0080–U+00BF
        for c in s.utf8 {
            if lead {
                lead = false
                if c <= 0x9F { writeCharacter(c, into: &out); continue }
                out.append(0xC2)
            }
            if c == 0xC2 { lead = true; continue }
            if c < 0x80 { writeCharacter(c, into: &out) } else { out.append(c) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The character U+0000–U+009F `c` inside a string: itself, or its escape.
    static func writeCharacter(_ c: UInt8, into out: inout [UInt8]) {
        switch c {
        case 0x22: out.append(contentsOf: [0x5C, 0x22])
        case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
        case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
        case 0..<0x20, 0x7F...0x9F:
            out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
        default: out.append(c)
        }
    }
}

extension JSONValue {
    /// Convenience for building `--json` output.
    public static func int<I: BinaryInteger>(_ n: I) -> JSONValue { .number(String(n)) }
    public static func double(_ d: Double) -> JSONValue {
        d.isFinite ? .number(d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)) : .null
    }
    public static func optionalString(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
}
