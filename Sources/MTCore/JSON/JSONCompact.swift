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
        var c = Compactor(b: bytes)
        swap(&c.out, &out)
        defer { swap(&c.out, &out) }
        c.skipWhitespace()
        try c.value(depth: 0)
        c.skipWhitespace()
        guard c.i == bytes.count else { throw c.error("unexpected data after the JSON value") }
        return c.facts
    }

    struct Compactor {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0
        var out: [UInt8] = []
        var facts = Facts()
        private static let hex = Array("0123456789abcdef".utf8)

        init(b: UnsafeBufferPointer<UInt8>) { self.b = b }

        func error(_ message: String) -> JSONParseError {
            var cursor = JSONParser.Cursor(b)
            cursor.i = min(i, b.count)
            return cursor.error(message)
        }

        mutating func skipWhitespace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }

        mutating func value(depth: Int) throws(JSONParseError) {
            guard depth < JSONParser.maxDepth else { throw error("JSON nested deeper than \(JSONParser.maxDepth) levels") }
            guard i < b.count else { throw error("unexpected end of JSON") }
            switch b[i] {
            case UInt8(ascii: "{"): try object(depth: depth)
            case UInt8(ascii: "["): try array(depth: depth)
            case UInt8(ascii: "\""): try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default: throw error("unexpected character '\(JSONParser.Cursor.show(b[i]))'")
            }
        }

        mutating func literal(_ word: StaticString) throws(JSONParseError) {
            let n = word.utf8CodeUnitCount
            guard i + n <= b.count else { throw error("unexpected end of JSON") }
            let w = word.utf8Start
            for k in 0..<n where b[i + k] != w[k] { throw error("invalid literal") }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<i + n]))
            i += n
        }

        mutating func object(depth: Int) throws(JSONParseError) {
            if depth == 0 { facts.isObject = true }
            var seenID = false, seenDate = false
            i += 1
            out.append(UInt8(ascii: "{"))
            skipWhitespace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; out.append(UInt8(ascii: "}")); return }
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
                i += 1
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
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; out.append(UInt8(ascii: "}")); return }
                throw error("expected ',' or '}' in an object")
            }
        }

        mutating func array(depth: Int) throws(JSONParseError) {
            i += 1
            out.append(UInt8(ascii: "["))
            skipWhitespace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; out.append(UInt8(ascii: "]")); return }
            var first = true
            while true {
                skipWhitespace()
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                try value(depth: depth + 1)
                skipWhitespace()
                guard i < b.count else { throw error("unexpected end of JSON inside an array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; out.append(UInt8(ascii: "]")); return }
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

        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

        mutating func number() throws(JSONParseError) {
            let start = i
            if b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, isDigit(b[i]) else { throw error("invalid number") }
            if b[i] == UInt8(ascii: "0") { i += 1 } else { while i < b.count, isDigit(b[i]) { i += 1 } }
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                guard i < b.count, isDigit(b[i]) else { throw error("invalid number: digits expected after '.'") }
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
            if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                i += 1
                if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                guard i < b.count, isDigit(b[i]) else { throw error("invalid number: digits expected in exponent") }
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i]))
        }

        /// A string, decoded and written back as `JSONWriter.writeString` writes it. Runs of bytes the writer
        /// keeps as they are are copied in one piece.
        mutating func string() throws(JSONParseError) {
            i += 1
            out.append(UInt8(ascii: "\""))
            var run = i
            while i < b.count {
                let c = b[i]
                if c >= 0x20 && c < 0x7F && c != 0x22 && c != 0x5C { i += 1; continue }
                if c >= 0x80 {
                    let n = try sequence(at: i)
                    if c == 0xC2 && b[i + 1] <= 0x9F {
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<i]))
                        writeEscaped(UInt32(b[i + 1]))
                        run = i + n
                    }
                    i += n
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<i]))
                if c == 0x22 { i += 1; out.append(c); return }
                if c == 0x5C { try escape() } else if c == 0x7F { writeEscaped(0x7F); i += 1 } else {
                    throw error("control character in a string (must be escaped)")
                }
                run = i
            }
            throw error("unterminated string")
        }

        /// The length of the well-formed UTF-8 sequence at `k` (what `String(validating:)` accepts).
        func sequence(at k: Int) throws(JSONParseError) -> Int {
            let c = b[k]
            func cont(_ j: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool { j < b.count && b[j] >= lo && b[j] <= hi }
            switch c {
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

        mutating func escape() throws(JSONParseError) {
            i += 1
            guard i < b.count else { throw error("unterminated string") }
            switch b[i] {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case UInt8(ascii: "f"): out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case UInt8(ascii: "n"): out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case UInt8(ascii: "r"): out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case UInt8(ascii: "t"): out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 2 < b.count, b[i + 1] == UInt8(ascii: "\\"), b[i + 2] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid surrogate pair in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("unpaired surrogate in \\u escape")
                }
                writeScalar(scalar)
            default: throw error("invalid escape in a string")
            }
            i += 1
        }

        /// As `JSONParser`: 4 hex digits after `\u`, leaving `i` on the last one.
        mutating func hex4() throws(JSONParseError) -> UInt32 {
            guard i + 4 < b.count else { throw error("truncated \\u escape") }
            var v: UInt32 = 0
            for k in 1...4 {
                let c = b[i + k]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw error("invalid hex digit in \\u escape")
                }
                v = v << 4 | d
            }
            i += 4
            return v
        }

        /// A decoded character as the writer writes it.
        mutating func writeScalar(_ s: UInt32) {
            switch s {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0..<0x20, 0x7F...0x9F: writeEscaped(s)
            case 0..<0x80: out.append(UInt8(s))
            case 0..<0x800:
                out.append(UInt8(0xC0 | (s >> 6)))
                out.append(UInt8(0x80 | (s & 0x3F)))
            case 0..<0x10000:
                out.append(UInt8(0xE0 | (s >> 12)))
                out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
                out.append(UInt8(0x80 | (s & 0x3F)))
            default:
                out.append(UInt8(0xF0 | (s >> 18)))
                out.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
                out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
                out.append(UInt8(0x80 | (s & 0x3F)))
            }
        }

        mutating func writeEscaped(_ s: UInt32) {
            out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, Self.hex[Int(s >> 4)], Self.hex[Int(s & 0xF)]])
        }
    }
}
