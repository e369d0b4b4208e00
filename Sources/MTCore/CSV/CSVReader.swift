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
    private var end = 0
    private var eof = false
    private var started = false
    public let source: String
    /// Line number (1-based) where the row last returned by `next()` started.
    public private(set) var rowLine = 0
    private var line = 1
    private let chunk: Int

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

    /// Makes sure at least one unread byte is buffered, unless the input is exhausted.
    private mutating func fill() throws -> Bool {
        if pos < end { return true }
        if eof { return false }
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
        guard try fill() else { return false }
        if !started {
            started = true
            if end - pos >= 3, buffer[pos] == 0xEF, buffer[pos + 1] == 0xBB, buffer[pos + 2] == 0xBF { pos += 3 }
            guard try fill() else { return false }
        }
        rowLine = line
        var field: [UInt8] = []
        var quoted = false
        var inQuotes = false
        while true {
            guard try fill() else {
                if inQuotes {
                    throw CSVParseError(message: "a quoted field opened here never closes (missing \")", line: rowLine, source: source)
                }
                fields.append(try text(field))
                return true
            }
            if !inQuotes && !quoted && field.isEmpty {
                // Fast path: copy an unquoted field straight out of the buffer.
                var j = pos
                while j < end {
                    let c = buffer[j]
                    if c == UInt8(ascii: ",") || c == 0x0A || c == 0x0D || c == UInt8(ascii: "\"") { break }
                    j += 1
                }
                if j > pos {
                    field.append(contentsOf: buffer[pos..<j])
                    pos = j
                    continue
                }
            }
            let c = buffer[pos]
            pos += 1
            if inQuotes {
                if c == UInt8(ascii: "\"") {
                    if try fill(), buffer[pos] == UInt8(ascii: "\"") { field.append(c); pos += 1 } else { inQuotes = false }
                } else {
                    if c == 0x0A { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case UInt8(ascii: ","):
                fields.append(try text(field))
                field.removeAll(keepingCapacity: true)
                quoted = false
            case UInt8(ascii: "\""):
                if field.isEmpty && !quoted { inQuotes = true; quoted = true } else { field.append(c) }
            case 0x0D:
                if try fill(), buffer[pos] == 0x0A { pos += 1 }
                line += 1
                fields.append(try text(field))
                return true
            case 0x0A:
                line += 1
                fields.append(try text(field))
                return true
            default:
                field.append(c)
            }
        }
    }

    private func text(_ bytes: [UInt8]) throws -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw CSVParseError(message: "text is not valid UTF-8 (was the file saved in another encoding?)", line: rowLine, source: source)
        }
        return s
    }
}
