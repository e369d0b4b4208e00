/// A strict JSON (RFC 8259) parser over bytes, with positions in its errors and a depth limit, since its input
/// comes from the network and from old files.
public struct JSONParseError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public var line: Int
    public var column: Int
    public var offset: Int

    public var description: String { "\(message) at line \(line), column \(column)" }
}

public enum JSONParser {
    public static let maxDepth = 256

    /// Exactly one JSON value (surrounding whitespace allowed).
    public static func parse<C: Collection>(_ bytes: C) throws(JSONParseError) -> JSONValue where C.Element == UInt8 {
        try withContiguous(bytes) { (buf) throws(JSONParseError) -> JSONValue in
            var p = Cursor(buf)
            p.skipWhitespace()
            let v = try p.value(depth: 0)
            p.skipWhitespace()
            guard p.atEnd else { throw p.error("unexpected data after the JSON value") }
            return v
        }
    }

    /// Several JSON values one after another (the legacy raw files appended arrays; JSON lines too).
    public static func parseSequence<C: Collection>(_ bytes: C) throws(JSONParseError) -> [JSONValue] where C.Element == UInt8 {
        try withContiguous(bytes) { (buf) throws(JSONParseError) -> [JSONValue] in
            var p = Cursor(buf)
            var out: [JSONValue] = []
            p.skipWhitespace()
            while !p.atEnd {
                out.append(try p.value(depth: 0))
                p.skipWhitespace()
            }
            return out
        }
    }

    private static func withContiguous<C: Collection, R>(
        _ bytes: C, _ body: (UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> R
    ) throws(JSONParseError) -> R where C.Element == UInt8 {
        let result: Result<R, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buf in
            do throws(JSONParseError) { return .success(try body(buf)) } catch { return .failure(error) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { (buf) throws(JSONParseError) -> R in try body(buf) }
    }

    struct Cursor {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0
        init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

        var atEnd: Bool { i >= b.count }

        func error(_ message: String) -> JSONParseError {
            var line = 1, col = 1
            var j = 0
            let end = min(i, b.count)
            while j < end {
                if b[j] == 0x0A { line += 1; col = 1 } else if b[j] & 0xC0 != 0x80 { col += 1 }
                j += 1
            }
            return JSONParseError(message: message, line: line, column: col, offset: i)
        }

        mutating func skipWhitespace() {
            while i < b.count {
                switch b[i] {
                case 0x20, 0x0A, 0x0D, 0x09: i += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth < JSONParser.maxDepth else { throw error("JSON nested deeper than \(JSONParser.maxDepth) levels") }
            guard i < b.count else { throw error("unexpected end of JSON") }
            switch b[i] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw error("unexpected character '\(Self.show(b[i]))'")
            }
        }

        static func show(_ c: UInt8) -> String {
            c >= 0x20 && c < 0x7F ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
        }

        mutating func literal(_ word: StaticString) throws(JSONParseError) {
            let n = word.utf8CodeUnitCount
            guard i + n <= b.count else { throw error("unexpected end of JSON") }
            let w = word.utf8Start
            for k in 0..<n where b[i + k] != w[k] { throw error("invalid literal") }
            i += n
        }

        mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
            i += 1
            var fields: [(String, JSONValue)] = []
            skipWhitespace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
            while true {
                skipWhitespace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw error("expected a field name in quotes") }
                let key = try string()
                skipWhitespace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw error("expected ':' after field name") }
                i += 1
                skipWhitespace()
                fields.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard i < b.count else { throw error("unexpected end of JSON inside an object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
                throw error("expected ',' or '}' in an object")
            }
        }

        mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
            i += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard i < b.count else { throw error("unexpected end of JSON inside an array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw error("expected ',' or ']' in an array")
            }
        }

        mutating func number() throws(JSONParseError) -> String {
            let r = try scanNumber()
            return String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self)
        }

        /// Where the number at `i` lies, checked against the grammar; `i` ends after it.
        mutating func scanNumber() throws(JSONParseError) -> Range<Int> {
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
            return start..<i
        }

        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

        mutating func string() throws(JSONParseError) -> String {
            i += 1
            let start = i
            // Fast path: no escapes.
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    let s = try utf8(start, i)
                    i += 1
                    return s
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 { throw error("control character in a string (must be escaped)") }
                i += 1
            }
            var bytes = Array(UnsafeBufferPointer(rebasing: b[start..<i]))
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    guard let s = String(validating: bytes, as: UTF8.self) else {
                        throw error("string is not valid UTF-8")
                    }
                    return s
                }
                if c < 0x20 { throw error("control character in a string (must be escaped)") }
                if c != UInt8(ascii: "\\") { bytes.append(c); i += 1; continue }
                i += 1
                guard i < b.count else { break }
                switch b[i] {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try unicodeEscape()
                    bytes.append(contentsOf: Array(String(Character(UnicodeScalar(scalar)!)).utf8))
                default: throw error("invalid escape in a string")
                }
                i += 1
            }
            throw error("unterminated string")
        }

        /// The character of a `\u` escape (`i` on the `u`), a surrogate pair joined; `i` ends on its last digit.
        mutating func unicodeEscape() throws(JSONParseError) -> UInt32 {
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
            return scalar
        }

        /// Reads 4 hex digits after `\u`, leaving `i` on the last one.
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

        func utf8(_ from: Int, _ to: Int) throws(JSONParseError) -> String {
            let slice = UnsafeBufferPointer(rebasing: b[from..<to])
            guard let s = String(validating: slice, as: UTF8.self) else { throw error("string is not valid UTF-8") }
            return s
        }
    }
}
