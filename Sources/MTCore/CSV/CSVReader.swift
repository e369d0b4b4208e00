import Foundation

public struct CSVParseError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var source: String
    public var description: String { "\(source): line \(line): \(message)" }
}

/// A streaming RFC 4180 reader: reads its source in chunks, so memory follows the longest row, not the file.
///
/// Accepts `\r\n` and `\n`, quoted fields with doubled quotes and embedded newlines; a stray quote inside an
/// unquoted field is kept as text (as Python's csv module does). A UTF-8 byte-order mark is skipped.
public struct CSVReader {
    private let fd: Int32
    private let ownsFD: Bool
    private var buffer: [UInt8]
    private var pos = 0
    /// Bytes read from the source before the current buffer.
    private var before = 0
    private var end = 0
    private var eof = false
    private var started = false
    public let source: String
    /// Line number (1-based) where the row last returned by `next()` started.
    public private(set) var rowLine = 0
    private var line = 1
    private let chunk: Int
    private var scratch = CSVRawRow()
    /// The field separator: a comma, or a tab for the original tool's tab-separated files.
    public var separator = UInt8(ascii: ",")

    public init(path: String, chunkSize: Int = 1 << 20) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw MTError(errno == ENOENT ? .noInput : .ioError, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        self.init(fd: fd, owns: true, source: path, chunkSize: chunkSize)
    }

    public init(bytes: [UInt8], source: String = "<memory>") {
        self.fd = -1
        self.ownsFD = false
        self.buffer = bytes
        self.end = bytes.count
        self.eof = true
        self.source = source
        self.chunk = 0
    }

    public init(fd: Int32, owns: Bool, source: String, chunkSize: Int = 1 << 20) {
        self.fd = fd
        self.ownsFD = owns
        self.source = source
        self.chunk = chunkSize
        self.buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    public func close() { if ownsFD { _ = Foundation.close(fd) } }

    /// How many bytes of the source have been parsed so far (for progress bars).
    public var bytesConsumed: Int { before + pos }

    /// Makes sure at least one unread byte is buffered, unless the input is exhausted.
    private mutating func fill() throws -> Bool {
        if pos < end { return true }
        if eof { return false }
        before += end
        pos = 0
        end = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, chunk) }
            if n < 0 {
                if errno == EINTR { continue }
                throw MTError(.ioError, "\(source): read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { eof = true; return false }
            end = n
            return true
        }
    }

    /// The next row's fields, or nil at the end of input. An empty line is a row with one empty field.
    public mutating func next() throws -> [String]? {
        var fields: [String] = []
        return try next(into: &fields) ? fields : nil
    }

    /// Fills `fields` with the next row (reusing its storage); false at the end of input.
    @discardableResult
    public mutating func next(into fields: inout [String]) throws -> Bool {
        fields.removeAll(keepingCapacity: true)
        var row = scratch
        scratch = CSVRawRow()
        defer { scratch = row }
        guard try next(raw: &row) else { return false }
        for i in 0..<row.count {
            guard let s = row.string(i) else {
                throw CSVParseError(message: "text is not valid UTF-8 (was the file saved in another encoding?)", line: rowLine, source: source)
            }
            fields.append(s)
        }
        return true
    }

    private enum Stop { case needMore, rowEnd, quoteInQuotes, carriageReturn }

    /// The next row as unescaped bytes, without making Strings: the fast path for counting over large files.
    /// Same rules as `next()`; the bytes are not checked for UTF-8 (`CSVRawRow.string` does that).
    @discardableResult
    public mutating func next(raw row: inout CSVRawRow) throws -> Bool {
        row.bytes.removeAll(keepingCapacity: true)
        row.ends.removeAll(keepingCapacity: true)
        guard try fill() else { return false }
        if !started {
            started = true
            if end - pos >= 3, buffer[pos] == 0xEF, buffer[pos + 1] == 0xBB, buffer[pos + 2] == 0xBF { pos += 3 }
            guard try fill() else { return false }
        }
        rowLine = line
        var state = FieldState()
        while true {
            guard try fill() else {
                if state.inQuotes {
                    throw CSVParseError(message: "a quoted field opened here never closes (missing \")", line: rowLine, source: source)
                }
                row.ends.append(row.bytes.count)
                return true
            }
            switch scan(&row, &state) {
            case .needMore: continue
            case .rowEnd: return true
            case .quoteInQuotes:
                // A quote inside quotes: doubled means a literal quote, otherwise the quoted part ends.
                if try fill(), buffer[pos] == UInt8(ascii: "\"") { row.bytes.append(UInt8(ascii: "\"")); pos += 1 } else { state.inQuotes = false }
            case .carriageReturn:
                if try fill(), buffer[pos] == 0x0A { pos += 1 }
                line += 1
                return true
            }
        }
    }

    private struct FieldState {
        var inQuotes = false
        /// The current field began with a quote (a later quote is then plain text).
        var quoted = false
        /// Where the current field's bytes begin in the row.
        var start = 0
    }

    /// Consumes buffered bytes until the row ends, the buffer runs out, or a byte needs one byte of lookahead.
    /// Unquoted text is copied in runs (separators included, outside any field's range), so a plain row costs
    /// one copy rather than one per field.
    private mutating func scan(_ row: inout CSVRawRow, _ state: inout FieldState) -> Stop {
        var p = pos
        var lines = 0
        let e = end
        let separator = self.separator
        let stop: Stop = buffer.withUnsafeBufferPointer { buf in
            let quote = UInt8(ascii: "\""), comma = separator
            // buf[run..<p] is not copied yet; buf[x] will sit at row.bytes.count + (x - run).
            var run = p
            func flush(_ upTo: Int) {
                if upTo > run { row.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buf[run..<upTo])) }
                run = upTo
            }
            while p < e {
                if state.inQuotes {
                    var j = p
                    while j < e, buf[j] != quote {
                        if buf[j] == 0x0A { lines += 1 }
                        j += 1
                    }
                    flush(j)
                    if j == e { p = j; return .needMore }
                    p = j + 1
                    return .quoteInQuotes
                }
                var j = p
                while j < e {
                    let c = buf[j]
                    if c == comma || c == 0x0A || c == 0x0D || c == quote { break }
                    j += 1
                }
                p = j
                if j == e { break }
                let at = row.bytes.count + (j - run)
                p = j + 1
                switch buf[j] {
                case comma:
                    row.ends.append(at)
                    state.start = at + 1
                    state.quoted = false
                case quote:
                    if at == state.start && !state.quoted {
                        flush(j)
                        run = p // the opening quote is not part of the field
                        state.inQuotes = true
                        state.quoted = true
                    }
                case 0x0A:
                    flush(j)
                    lines += 1
                    row.ends.append(at)
                    return .rowEnd
                default:
                    flush(j)
                    row.ends.append(at)
                    return .carriageReturn
                }
            }
            flush(p)
            return .needMore
        }
        pos = p
        line += lines
        return stop
    }
}

/// One row as unescaped bytes. Fields are separated by exactly one byte (the comma, kept in `bytes`; quotes
/// are not), so field `i` is `bytes[ends[i-1]+1..<ends[i]]`, from 0 for the first.
public struct CSVRawRow: Sendable {
    public var bytes: [UInt8] = []
    public var ends: [Int] = []

    public init() {}

    public var count: Int { ends.count }

    @inline(__always)
    public func start(_ i: Int) -> Int { i == 0 ? 0 : ends[i - 1] + 1 }

    @inline(__always)
    public func range(_ i: Int) -> Range<Int> { start(i)..<ends[i] }

    @inline(__always)
    public func isEmpty(_ i: Int) -> Bool { start(i) == ends[i] }

    /// Field `i` as text, or nil when it is not valid UTF-8.
    public func string(_ i: Int) -> String? {
        let r = range(i)
        return bytes.withUnsafeBufferPointer { String(validating: UnsafeBufferPointer(rebasing: $0[r]), as: UTF8.self) }
    }

    /// Field `i`'s bytes, without copying.
    @inline(__always)
    public func withField<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let r = range(i)
        return try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[r])) }
    }
}
