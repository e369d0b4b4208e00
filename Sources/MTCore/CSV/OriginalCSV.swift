import Foundation

/// The one tolerant reader for CSV files the original Python tool left behind, used wherever mt reads an
/// analysts' CSV (stats, verify, scales check, stats mend).
///
/// The original wrote cells joined by a separator without quoting, so its files come in shapes RFC 4180 does
/// not describe:
/// - tab-separated files (header and rows), told apart by the header: one comma-separated field holding tabs;
/// - comma files whose RFC 2822 dates (`Tue, 25 Aug 2015 08:54:35 -0500`) were split by their own comma into
///   `Tue` and ` 25 Aug 2015 08:54:35 -0500`, one extra cell per date column;
/// - Python's `None` for a null cell (`[]`, an empty list, is what mt writes for one too, so it stays), and
///   Python's lists of text (`[u'GAD', u'Panic']`), which become the compact JSON mt writes for a list.
///
/// A file is read tolerantly only when it proves to be in that shape: tab-separated, or a comma file where a
/// row wider than the header holds a split date among its first `probeRows` data rows. Every other file
/// (mt's own) is read exactly as `CSVReader` reads it. In a file of the original's shape a row is mended only when joining its split
/// dates makes it exactly as wide as the header; a row that still does not line up (a date cell repeated, a
/// cell with its own unquoted comma) is never guessed at: it is left out, counted, and its line listed.
public struct OriginalCSVReader {
    public enum Shape: Sendable, Equatable {
        /// RFC 4180, read exactly as `CSVReader` reads it.
        case rfc4180
        /// The original's comma files with split dates.
        case originalComma
        /// The original's tab-separated files.
        case originalTab

        public var isOriginal: Bool { self != .rfc4180 }

        /// "comma" or "tab", as reports print it.
        public var separatorName: String { self == .originalTab ? "tab" : "comma" }
    }

    /// Data rows probed for a split date before the file is taken to be in the original's shape.
    public static let probeRows = 1000
    /// Lines of left-out rows kept for reports; beyond that they are only counted.
    public static let listedLines = 10_000

    public let path: String
    public let header: [String]
    public let shape: Shape
    /// Rows whose split dates were joined back.
    public private(set) var mended = 0
    /// Rows beyond mending: how many, and the first `listedLines` of their line numbers.
    public private(set) var leftOut = 0
    public private(set) var leftOutLines: [Int] = []
    /// Cells that held Python's `None`, read as empty.
    public private(set) var noneCells = 0
    /// Cells that held a Python list of text, read as JSON.
    public private(set) var pythonLists = 0
    private var reader: CSVReader

    public init(path: String) throws {
        self.path = path
        var probe = try CSVReader(path: path)
        defer { probe.close() }
        var row = CSVRawRow()
        var header: [String] = []
        var shape = Shape.rfc4180
        if try probe.next(into: &header), header.count == 1, header[0].contains("\t") {
            shape = .originalTab
        } else if header.count > 1 {
            var n = 0
            while n < Self.probeRows, try probe.next(raw: &row) {
                n += 1
                // mt's own rows are never wider than their header, so a wider row with a split date proves it.
                if row.count > header.count, !Self.splitDates(in: row).isEmpty { shape = .originalComma; break }
            }
        }
        var reader = try CSVReader(path: path)
        if shape == .originalTab { reader.separator = UInt8(ascii: "\t") }
        var fields: [String] = []
        do { _ = try reader.next(into: &fields) } catch { reader.close(); throw error }
        self.header = fields
        self.shape = shape
        self.reader = reader
    }

    public func close() { reader.close() }

    /// Line number (1-based) where the row last returned started.
    public var rowLine: Int { reader.rowLine }
    public var bytesConsumed: Int { reader.bytesConsumed }

    /// The next data row (the header is already read), mended; rows beyond mending are skipped and counted.
    /// A blank line comes back as one empty field, as `CSVReader` returns it.
    @discardableResult
    public mutating func next(raw row: inout CSVRawRow) throws -> Bool {
        while try reader.next(raw: &row) {
            guard shape.isOriginal, !(row.count == 1 && row.isEmpty(0)) else { return true }
            var linesUp = row.count == header.count
            if shape == .originalComma {
                let splits = Self.splitDates(in: row)
                // A row as wide as the header that still holds a split date has lost a cell somewhere else.
                linesUp = row.count - splits.count == header.count
                if linesUp && !splits.isEmpty {
                    // The separator byte between the halves is the date's own comma: dropping the field end
                    // there joins them back byte for byte.
                    for i in splits.reversed() { row.ends.remove(at: i) }
                    mended += 1
                }
            }
            guard linesUp else {
                leftOut += 1
                if leftOutLines.count < Self.listedLines { leftOutLines.append(reader.rowLine) }
                continue
            }
            var i = row.count - 1
            while i >= 0 {
                if row.range(i).count == 4, row.withField(i, { $0.elementsEqual("None".utf8) }) {
                    Self.replace(&row, field: i, with: [])
                    noneCells += 1
                } else if let items = row.withField(i, Self.pythonList) {
                    Self.replace(&row, field: i, with: JSONWriter.bytes(.array(items.map(JSONValue.string))))
                    pythonLists += 1
                }
                i -= 1
            }
            return true
        }
        return false
    }

    /// The next data row as text; see `next(raw:)`.
    @discardableResult
    public mutating func next(into fields: inout [String]) throws -> Bool {
        var row = CSVRawRow()
        fields.removeAll(keepingCapacity: true)
        guard try next(raw: &row) else { return false }
        for i in 0..<row.count {
            guard let s = row.string(i) else {
                throw CSVParseError(message: "text is not valid UTF-8 (was the file saved in another encoding?)", line: rowLine, source: path)
            }
            fields.append(s)
        }
        return true
    }

    /// What was done to the file, one sentence each, naming it; empty for a file in mt's own shape.
    public var notes: [String] {
        guard shape.isOriginal else { return [] }
        var out: [String] = []
        let what = shape == .originalTab ? "tab-separated" : "with dates split by an unquoted comma"
        out.append("\(path): written by the original tool (\(what))\(mended > 0 ? "; \(mended) row(s) mended" : ""); mt stats mend writes a clean copy")
        if noneCells > 0 { out.append("\(path): \(noneCells) cell(s) hold Python's None, read as empty") }
        if pythonLists > 0 { out.append("\(path): \(pythonLists) cell(s) hold Python lists ([u'…']), read as JSON lists") }
        if leftOut > 0 {
            out.append("\(path): \(leftOut) row(s) beyond mending left out of every count (\(Self.lines(leftOutLines, total: leftOut)))")
        }
        return out
    }

    /// "line 3" or "lines 3, 9, 12, …" (at most 20 listed).
    public static func lines(_ lines: [Int], total: Int) -> String {
        let shown = lines.prefix(20).map(String.init).joined(separator: ", ")
        return (total == 1 ? "line " : "lines ") + shown + (total > min(lines.count, 20) ? ", …" : "")
    }

    /// Indices `i` where field `i` is a weekday abbreviation and field `i + 1` the rest of an RFC 2822 date
    /// (` 25 Aug 2015 08:54:35 -0500`): the two halves of one date cell. Pairs never overlap.
    static func splitDates(in row: CSVRawRow) -> [Int] {
        var out: [Int] = []
        var i = 0
        while i + 1 < row.count {
            if row.range(i).count == 3, row.withField(i, { weekdays.contains(String(decoding: $0, as: UTF8.self)) }),
               row.withField(i + 1, { $0.count > 2 && $0[0] == 32 && $0[1] >= 48 && $0[1] <= 57 }),
               row.bytes.withUnsafeBufferPointer({ EntryDate.parse(UnsafeBufferPointer(rebasing: $0[row.start(i)..<row.ends[i + 1]])) }) != nil {
                out.append(i)
                i += 2
            } else {
                i += 1
            }
        }
        return out
    }

    private static let weekdays: Set<String> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    /// Puts `bytes` in place of field `i`, keeping the others'.
    private static func replace(_ row: inout CSVRawRow, field i: Int, with bytes: [UInt8]) {
        let r = row.range(i)
        row.bytes.replaceSubrange(r, with: bytes)
        for j in i..<row.ends.count { row.ends[j] += bytes.count - r.count }
    }

    /// The items of a Python 2 list of text as `repr` writes it, `[u'GAD', u'Panic']` or `['a', "it's"]`;
    /// nil for anything else, `[]` included (it is already what mt writes). An item with a backslash escape
    /// is not decoded here (nil): the cell is then kept as found rather than guessed at.
    static func pythonList(_ b: UnsafeBufferPointer<UInt8>) -> [String]? {
        let end = b.count - 1
        guard b.count > 3, b[0] == UInt8(ascii: "["), b[end] == UInt8(ascii: "]") else { return nil }
        var items: [String] = []
        var i = 1
        while true {
            if b[i] == UInt8(ascii: "u") { i += 1 }
            guard i < end, b[i] == UInt8(ascii: "'") || b[i] == UInt8(ascii: "\"") else { return nil }
            let quote = b[i]
            i += 1
            let start = i
            while i < end, b[i] != quote {
                if b[i] == UInt8(ascii: "\\") { return nil }
                i += 1
            }
            guard i < end, let item = String(validating: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self) else { return nil }
            items.append(item)
            i += 1
            if i == end { return items }
            guard i + 2 < end, b[i] == UInt8(ascii: ","), b[i + 1] == UInt8(ascii: " ") else { return nil }
            i += 2
        }
    }
}
