/// One JSON value checked and rewritten compactly straight from its bytes, without building a `JSONValue`: what
/// `mt export` needs of every entry of an answer (hundreds of thousands of them) at the speed the network brings
/// them.
///
/// Two promises, held by a property test against the tree route: `scan` accepts exactly what `JSONParser.parse`
/// accepts (the same grammar, escapes, UTF-8 and depth limit), and `out` receives exactly
/// `JSONWriter.bytes(JSONParser.parse(bytes))`, so the content hash of an entry (`WrittenSet`) is the same
/// whichever route computed it.
public enum JSONCompact {
    /// The facts of a top-level object that export needs; absent for any other value.
    public struct Facts: Sendable, Equatable {
        public var isObject = false
        /// The first `id` field, when it is a whole number that fits Int64 (`JSONValue.int64Value`).
        public var id: Int64?
        /// The first `date` field is a non-empty string.
        public var dated = false
    }

    /// Checks `bytes` as exactly one JSON value (white space around it allowed) and appends its compact form to `out`.
    public static func scan(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) throws(JSONParseError) -> Facts {
        var w = Compactor(b: bytes)
        swap(&w.out, &out)
        defer { swap(&w.out, &out) }
        w.skipWhitespace()
        try w.value(depth: 0)
        w.skipWhitespace()
        guard w.i == bytes.count else { throw w.error("unexpected data after the JSON value") }
        return w.facts
    }

    /// The parser's own cursor (its grammar, escapes and errors), writing instead of building values.
    struct Compactor {
        var c: JSONParser.Cursor
        var out: [UInt8] = []
        var facts = Facts()
        var b: UnsafeBufferPointer<UInt8> { c.b }

        init(b: UnsafeBufferPointer<UInt8>) { c = JSONParser.Cursor(b) }

        var i: Int { c.i }
        func error(_ message: String) -> JSONParseError { c.error(message) }
        mutating func skipWhitespace() { c.skipWhitespace() }

        mutating func value(depth: Int) throws(JSONParseError) {
            guard depth < JSONParser.maxDepth else { throw error("JSON nested deeper than \(JSONParser.maxDepth) levels") }
            guard i < b.count else { throw error("unexpected end of JSON") }
            let start = i
            switch b[i] {
            case UInt8(ascii: "{"): try object(depth: depth); return
            case UInt8(ascii: "["): try array(depth: depth); return
            case UInt8(ascii: "\""): try string(); return
            case UInt8(ascii: "t"): try c.literal("true")
            case UInt8(ascii: "f"): try c.literal("false")
            case UInt8(ascii: "n"): try c.literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try c.scanNumber()
            default: throw error("unexpected character '\(JSONParser.Cursor.show(b[i]))'")
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i]))
        }

        mutating func object(depth: Int) throws(JSONParseError) {
            if depth == 0 { facts.isObject = true }
            var seenID = false, seenDate = false
            c.i += 1
            out.append(UInt8(ascii: "{"))
            skipWhitespace()
            if i < b.count, b[i] == UInt8(ascii: "}") { c.i += 1; out.append(UInt8(ascii: "}")); return }
            var first = true
            while true {
                skipWhitespace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw error("expected a field name in quotes") }
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                let keyStart = out.count
                try string()
                let key = out.count - keyStart
                skipWhitespace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw error("expected ':' after field name") }
                c.i += 1
                out.append(UInt8(ascii: ":"))
                skipWhitespace()
                // The first field of each name counts, as `JSONValue`'s subscript reads it.
                let isID = depth == 0 && !seenID && key == 4 && out[keyStart + 1] == UInt8(ascii: "i") && out[keyStart + 2] == UInt8(ascii: "d")
                let isDate = depth == 0 && !seenDate && key == 6 && out[(keyStart + 1)..<(keyStart + 5)].elementsEqual("date".utf8)
                let valueStart = out.count
                try value(depth: depth + 1)
                if isID {
                    seenID = true
                    facts.id = Self.int64(out[valueStart...])
                } else if isDate {
                    seenDate = true
                    facts.dated = out[valueStart] == UInt8(ascii: "\"") && out.count - valueStart > 2
                }
                skipWhitespace()
                guard i < b.count else { throw error("unexpected end of JSON inside an object") }
                if b[i] == UInt8(ascii: ",") { c.i += 1; continue }
                if b[i] == UInt8(ascii: "}") { c.i += 1; out.append(UInt8(ascii: "}")); return }
                throw error("expected ',' or '}' in an object")
            }
        }

        mutating func array(depth: Int) throws(JSONParseError) {
            c.i += 1
            out.append(UInt8(ascii: "["))
            skipWhitespace()
            if i < b.count, b[i] == UInt8(ascii: "]") { c.i += 1; out.append(UInt8(ascii: "]")); return }
            var first = true
            while true {
                skipWhitespace()
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                try value(depth: depth + 1)
                skipWhitespace()
                guard i < b.count else { throw error("unexpected end of JSON inside an array") }
                if b[i] == UInt8(ascii: ",") { c.i += 1; continue }
                if b[i] == UInt8(ascii: "]") { c.i += 1; out.append(UInt8(ascii: "]")); return }
                throw error("expected ',' or ']' in an array")
            }
        }

        /// `Int64(text)` of a JSON number's text: digits with an optional minus, in range.
        static func int64(_ text: ArraySlice<UInt8>) -> Int64? {
            var k = text.startIndex
            let negative = k < text.endIndex && text[k] == UInt8(ascii: "-")
            if negative { k += 1 }
            guard k < text.endIndex else { return nil }
            var v: Int64 = 0
            while k < text.endIndex {
                let d = text[k]
                guard d >= 0x30 && d <= 0x39 else { return nil }
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(d - 0x30)) : m.addingReportingOverflow(Int64(d - 0x30))
                guard !o1 && !o2 else { return nil }
                v = s
                k += 1
            }
            return v
        }

        /// A string, decoded and written back as `JSONWriter.writeString` writes it. Runs of bytes the writer
        /// keeps as they are are copied in one piece.
        mutating func string() throws(JSONParseError) {
            c.i += 1
            out.append(UInt8(ascii: "\""))
            var run = i
            while i < b.count {
                let ch = b[i]
                if ch >= 0x20 && ch < 0x7F && ch != 0x22 && ch != 0x5C { c.i += 1; continue }
                if ch >= 0x80 {
                    let n = try sequence(at: i)
                    if ch == 0xC2 && b[i + 1] <= 0x9F {
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<i]))
                        JSONWriter.writeCharacter(b[i + 1], into: &out)
                        run = i + n
                    }
                    c.i += n
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<i]))
                if ch == 0x22 { c.i += 1; out.append(ch); return }
                if ch == 0x5C { try escape() } else if ch == 0x7F { JSONWriter.writeCharacter(ch, into: &out); c.i += 1 } else {
                    throw error("control character in a string (must be escaped)")
                }
                run = i
            }
            throw error("unterminated string")
        }

        /// The length of the well-formed UTF-8 sequence at `k` (what `String(validating:)` accepts).
        func sequence(at k: Int) throws(JSONParseError) -> Int {
            let lead = b[k]
            func cont(_ j: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool { j < b.count && b[j] >= lo && b[j] <= hi }
            switch lead {
            case 0xC2...0xDF: if cont(k + 1) { return 2 }
            case 0xE0: if cont(k + 1, 0xA0) && cont(k + 2) { return 3 }
            case 0xE1...0xEC, 0xEE, 0xEF: if cont(k + 1) && cont(k + 2) { return 3 }
            case 0xED: if cont(k + 1, 0x80, 0x9F) && cont(k + 2) { return 3 }
            case 0xF0: if cont(k + 1, 0x90) && cont(k + 2) && cont(k + 3) { return 4 }
            case 0xF1...0xF3: if cont(k + 1) && cont(k + 2) && cont(k + 3) { return 4 }
            case 0xF4: if cont(k + 1, 0x80, 0x8F) && cont(k + 2) && cont(k + 3) { return 4 }
            default: break
            }
            throw error("string is not valid UTF-8")
        }

        /// An escape (`i` on the backslash), decoded and written as the writer writes the character.
        mutating func escape() throws(JSONParseError) {
            c.i += 1
            guard i < b.count else { throw error("unterminated string") }
            let scalar: UInt32
            switch b[i] {
            case UInt8(ascii: "\""): scalar = 0x22
            case UInt8(ascii: "\\"): scalar = 0x5C
            case UInt8(ascii: "/"): scalar = 0x2F
            case UInt8(ascii: "b"): scalar = 0x08
            case UInt8(ascii: "f"): scalar = 0x0C
            case UInt8(ascii: "n"): scalar = 0x0A
            case UInt8(ascii: "r"): scalar = 0x0D
            case UInt8(ascii: "t"): scalar = 0x09
            case UInt8(ascii: "u"): scalar = try c.unicodeEscape()
            default: throw error("invalid escape in a string")
            }
            if scalar < 0xA0 {
                JSONWriter.writeCharacter(UInt8(scalar), into: &out)
            } else {
                out.append(contentsOf: Array(String(Character(UnicodeScalar(scalar)!)).utf8))
            }
            c.i += 1
        }
    }
}
