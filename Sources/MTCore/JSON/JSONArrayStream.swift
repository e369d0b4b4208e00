/// Reads JSON text holding top-level arrays as it arrives, chunk by chunk, and hands over the bytes of each item
/// of the arrays as soon as the item is complete. Only the item being read is ever held, so memory follows the
/// largest entry, not the size of the answer or the archive.
///
/// The splitter checks the arrays' own syntax (brackets, commas, what lies between items); each item is checked by
/// `JSONParser` when the caller parses it (`forEachValue`). Positions in errors are absolute: line and column
/// (in bytes) of the whole text, whichever chunk they fall in.
public struct JSONArrayStream {
    public enum Shape: Sendable {
        /// Exactly one array: a server's answer, an archive written by `mt export`.
        case oneArray
        /// Zero or more arrays one after another: the original tool appended arrays to one raw file.
        case arrays
    }

    private enum State { case start, open, needItem, inItem, afterItem, afterArray }
    private enum Item { case container, string, scalar }

    public let shape: Shape
    private var state = State.start
    private var item = Item.scalar
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// The start of an item that began in an earlier chunk.
    private var carry: [UInt8] = []
    /// Bytes consumed before the current chunk, and where the current line began, for error positions.
    private var consumed = 0
    private var line = 1
    private var lineStart = 0
    private var itemLine = 1
    private var itemColumn = 1
    /// Items handed over so far.
    public private(set) var count = 0

    public init(shape: Shape) { self.shape = shape }

    /// The position of an item, for errors found while parsing it.
    public struct Position: Sendable, Equatable {
        public var line: Int
        public var column: Int
        public var index: Int
    }

    /// Feeds the next chunk; `onItem` gets the bytes of each completed item (valid only during the call).
    public mutating func feed(_ chunk: UnsafeRawBufferPointer,
                              _ onItem: (UnsafeBufferPointer<UInt8>, Position) throws -> Void) throws {
        let b = UnsafeBufferPointer(start: chunk.baseAddress?.assumingMemoryBound(to: UInt8.self), count: chunk.count)
        let n = b.count
        var i = 0
        var start = state == .inItem ? 0 : -1
        // Lines are counted up to a position only when one is needed (an item's start, an error, the chunk's end).
        var counted = 0
        func countLines(to end: Int) {
            while counted < end {
                if b[counted] == 0x0A { line += 1; lineStart = consumed + counted + 1 }
                counted += 1
            }
        }
        func fail(_ at: Int, _ message: String) -> JSONParseError {
            countLines(to: at)
            return error(at: at, message)
        }
        func emit(_ end: Int) throws {
            let at = Position(line: itemLine, column: itemColumn, index: count)
            count += 1
            if carry.isEmpty {
                try onItem(UnsafeBufferPointer(rebasing: b[start..<end]), at)
            } else {
                carry.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<end]))
                try carry.withUnsafeBufferPointer { try onItem($0, at) }
                carry.removeAll(keepingCapacity: carry.count <= 1 << 20)
            }
            state = .afterItem
        }
        while i < n {
            let c = b[i]
            switch state {
            case .inItem:
                switch item {
                case .container:
                    // The hot loop: most bytes of an answer are inside an entry.
                    while i < n {
                        if inString {
                            if escaped {
                                escaped = false
                            } else {
                                while i < n && b[i] != 0x22 && b[i] != 0x5C { i += 1 }
                                guard i < n else { break }
                                if b[i] == 0x5C { escaped = true } else { inString = false }
                            }
                        } else {
                            let d = b[i]
                            if d == 0x22 {
                                inString = true
                            } else if d == 0x7B || d == 0x5B {
                                depth += 1
                            } else if d == 0x7D || d == 0x5D {
                                depth -= 1
                                if depth == 0 { try emit(i + 1); i += 1; break }
                            }
                        }
                        i += 1
                    }
                    continue
                case .string:
                    if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { try emit(i + 1) }
                case .scalar:
                    if c == 0x2C || c == 0x5D || Self.isSpace(c) {
                        try emit(i)
                        continue
                    }
                }
            case .start, .afterArray:
                if Self.isSpace(c) { break }
                guard c == 0x5B else {
                    throw fail(i, state == .start ? "expected a JSON array of entries" : "unexpected data after the JSON array")
                }
                guard state == .start || shape == .arrays else { throw fail(i, "unexpected data after the JSON array") }
                state = .open
            case .open, .needItem:
                if Self.isSpace(c) { break }
                if c == 0x5D {
                    guard state == .open else { throw fail(i, "expected a value after ',' in an array") }
                    state = .afterArray
                    break
                }
                guard c != 0x2C else { throw fail(i, "expected a value in an array") }
                start = i
                countLines(to: i)
                itemLine = line
                itemColumn = consumed + i - lineStart + 1
                state = .inItem
                switch c {
                case 0x7B, 0x5B: item = .container; depth = 1; inString = false; escaped = false
                case 0x22: item = .string; escaped = false
                default: item = .scalar
                }
            case .afterItem:
                if Self.isSpace(c) { break }
                if c == 0x2C { state = .needItem } else if c == 0x5D { state = .afterArray } else {
                    throw fail(i, "expected ',' or ']' in an array")
                }
            }
            i += 1
        }
        if state == .inItem { carry.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<n])) }
        countLines(to: n)
        consumed += n
    }

    /// Call after the last chunk: the text must have ended after a whole array (or, for `.arrays`, be empty).
    public mutating func finish() throws(JSONParseError) {
        switch state {
        case .afterArray: return
        case .start where shape == .arrays: return
        case .start: throw error(at: 0, "no JSON array: the text is empty", chunkRelative: false)
        default: throw error(at: 0, "unexpected end of JSON inside an array (truncated?)", chunkRelative: false)
        }
    }

    /// Every item parsed, with parse errors placed in the whole text.
    public mutating func feedValues(_ chunk: UnsafeRawBufferPointer, _ body: (JSONValue, Position) throws -> Void) throws {
        try feed(chunk) { bytes, at in try body(try Self.parse(bytes, at: at), at) }
    }

    /// One item's bytes parsed; a parse error names its place in the whole text.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, at: Position) throws(JSONParseError) -> JSONValue {
        do throws(JSONParseError) { return try JSONParser.parse(bytes) } catch { throw place(error, at: at) }
    }

    /// An error found inside an item, moved to its place in the whole text.
    public static func place(_ error: JSONParseError, at: Position) -> JSONParseError {
        var e = error
        e.column = e.line == 1 ? at.column + e.column - 1 : e.column
        e.line = at.line + e.line - 1
        return e
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    private func error(at i: Int, _ message: String, chunkRelative: Bool = true) -> JSONParseError {
        let offset = chunkRelative ? consumed + i : consumed
        return JSONParseError(message: message, line: line, column: offset - lineStart + 1, offset: offset)
    }
}
