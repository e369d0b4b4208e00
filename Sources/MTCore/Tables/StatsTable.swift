import Foundation

/// The CSV files of one scale, read as one table (the original's master file).
public struct ScaleFiles: Sendable, Equatable {
    public var scale: String
    public var files: [String]

    public init(scale: String, files: [String]) {
        self.scale = scale
        self.files = files
    }

    /// A server's CSVs: `active_data` (or `recovered_data`), grouped by the scale in `<Scale>_<DATE>.csv`,
    /// files of a scale in name order, scales by name.
    public static func server(_ layout: DataLayout, recovered: Bool, scale: String?) throws -> [ScaleFiles] {
        let dir = recovered ? layout.recovered : layout.active
        guard FileSystem.isDirectory(dir) else {
            throw MTError(.noInput, "\(dir) does not exist",
                          hint: recovered ? "run mt recover first" : "run mt export (or mt decrypt) first, or use --recovered")
        }
        var groups: [String: [String]] = [:]
        for name in try FileSystem.list(dir) {
            guard let s = (recovered ? layout.scale(ofRecoveredCSV: name) : nil) ?? layout.scale(ofActiveCSV: name) else { continue }
            groups[s, default: []].append(dir + "/" + name)
        }
        if let scale {
            guard let files = groups[scale] else {
                var hint = "scales with CSV files there: \(groups.keys.sorted().joined(separator: ", "))"
                if let close = Suggest.closest(to: scale, in: Array(groups.keys)) { hint = "did you mean '\(close)'? " + hint }
                throw MTError(.noInput, "no CSV file of scale \(scale) in \(dir)", hint: hint)
            }
            return [ScaleFiles(scale: scale, files: files.sorted())]
        }
        guard !groups.isEmpty else { throw MTError(.noInput, "no <Scale>_<DATE>.csv file in \(dir)") }
        return groups.keys.sorted().map { ScaleFiles(scale: $0, files: groups[$0]!.sorted()) }
    }

    /// The scale of `<Scale>_<DATE>.csv`, and of mt recover's `<Scale>_recovered_<DATE>.csv`.
    public static func scale(ofFile name: String) -> String? {
        CSVName.recoveredScale(of: name) ?? CSVName.scale(of: name)
    }

    /// CSV paths given by hand, grouped by the scale of their names (`<Scale>_<DATE>.csv`; otherwise the name
    /// without `.csv`), in the order given; `scale` puts them all in one table.
    public static func paths(_ paths: [String], scale: String?) throws -> [ScaleFiles] {
        var order: [String] = []
        var groups: [String: [String]] = [:]
        for p in paths {
            guard FileSystem.exists(p) else { throw MTError(.noInput, "\(p) does not exist") }
            let base = (p as NSString).lastPathComponent
            let s = scale ?? Self.scale(ofFile: base) ?? (base.hasSuffix(".csv") ? String(base.dropLast(4)) : base)
            if groups[s] == nil { order.append(s) }
            groups[s, default: []].append(p)
        }
        return order.map { ScaleFiles(scale: $0, files: groups[$0]!) }
    }
}

/// Things in the data worth a look that do not stop the work: each counted once per kind and file, with the
/// first line where it was seen.
public struct StatsWarnings: Sendable {
    private var order: [String] = []
    private var counts: [String: (count: Int, firstLine: Int)] = [:]

    public init() {}

    public mutating func add(_ what: String, line: Int) {
        if let c = counts[what] { counts[what] = (c.count + 1, c.firstLine) } else {
            order.append(what)
            counts[what] = (1, line)
        }
    }

    public mutating func note(_ what: String) {
        if counts[what] == nil { order.append(what); counts[what] = (0, 0) }
    }

    /// One sentence per kind: `what` (N times, first at line L) — `what` names the file.
    public var messages: [String] {
        order.map { w in
            let c = counts[w]!
            if c.count == 0 { return w }
            return c.count == 1 ? "\(w) (line \(c.firstLine))" : "\(w) (\(c.count) times, first at line \(c.firstLine))"
        }
    }
}

/// One row of a combined table: the file's raw row plus where each table column is in it.
public struct TableRow {
    public internal(set) var raw = CSVRawRow()
    /// Table column → field index in this file's rows, or -1 when the file lacks that column.
    public internal(set) var fieldOf: [Int] = []
    /// The field index of this file's participant column, or -1.
    public internal(set) var participantField = -1
    public internal(set) var file = ""
    public internal(set) var line = 0

    /// Whether table column `c` is empty here (absent columns and short rows are empty).
    @inline(__always)
    public func isEmpty(_ c: Int) -> Bool {
        let f = fieldOf[c]
        return f < 0 || f >= raw.count || raw.isEmpty(f)
    }

    /// Table column `c` as text ("" when empty; invalid UTF-8 is replaced, it was already reported).
    public func string(_ c: Int) -> String {
        let f = fieldOf[c]
        guard f >= 0, f < raw.count else { return "" }
        return raw.withField(f) { String(decoding: $0, as: UTF8.self) }
    }

    /// Table column `c` as text for output ("" when empty); bytes that are not UTF-8 stop the work rather than
    /// being replaced in what analysts get.
    public func text(_ c: Int) throws -> String {
        let f = fieldOf[c]
        guard f >= 0, f < raw.count else { return "" }
        guard let s = raw.string(f) else {
            throw MTError(.dataError, "\(file): line \(line): text is not valid UTF-8 (was the file saved in another encoding?)",
                          hint: "convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8")
        }
        return s
    }

    /// The participant link ("" when absent).
    public var participant: String {
        guard participantField >= 0, participantField < raw.count else { return "" }
        return raw.withField(participantField) { String(decoding: $0, as: UTF8.self) }
    }

    /// Table column `c`'s bytes (empty when absent).
    @inline(__always)
    public func withBytes<R>(_ c: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let f = fieldOf[c]
        guard f >= 0, f < raw.count else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try raw.withField(f, body)
    }
}

/// The files of one scale as one table: the header is the union of the files' headers by name (never by
/// position), in first-seen order; a file that lacks a column reads as empty there.
public struct StatsTable: Sendable {
    public let scale: String
    public let files: [String]
    public let columns: [String]
    /// The participant column of each file (its name changed between study versions), nil when it has none.
    public let participantColumns: [String?]
    private let fileHeaders: [[String]]

    /// `design`: the participant table's participant is its id column (the design's `participantId`).
    public init(_ source: ScaleFiles, catalogue: ScaleCatalogue, design: StudyDesign? = nil) throws {
        scale = source.scale
        files = source.files
        var columns: [String] = []
        var index: [String: Int] = [:]
        var headers: [[String]] = []
        var participants: [String?] = []
        for f in source.files {
            let r = try OriginalCSVReader(path: f)
            r.close()
            let header = r.header
            headers.append(header)
            for h in header where index[h] == nil {
                index[h] = columns.count
                columns.append(h)
            }
            participants.append(design?.participantColumn(scale: source.scale, columns: header)
                                ?? catalogue.participantColumn(in: header, scale: source.scale))
        }
        self.columns = columns
        self.fileHeaders = headers
        self.participantColumns = participants
    }

    public func column(_ name: String) -> Int? { columns.firstIndex(of: name) }

    /// The files' total size in bytes (for progress bars).
    public static func size(of files: [String]) -> Int {
        files.reduce(0) { total, f in
            var st = stat()
            return total + (stat(f, &st) == 0 ? Int(st.st_size) : 0)
        }
    }

    /// The participant column's name(s), as found.
    public var participantNames: [String] {
        var seen: [String] = []
        for p in participantColumns { if let p, !seen.contains(p) { seen.append(p) } }
        return seen
    }

    /// Calls `body` with every data row of every file, in order. Blank lines are skipped (as pandas does);
    /// ragged rows, duplicate header names and files without a header are reported to `warnings`. Files the
    /// original tool wrote are read by `OriginalCSVReader` (mended rows; rows beyond mending never reach
    /// `body`), and what it did is reported once per file.
    /// `progress` hears of the bytes parsed, every few thousand rows and at the end of each file.
    public func forEachRow(warnings: inout StatsWarnings, progress: ((Int) -> Void)? = nil,
                           _ body: (TableRow) throws -> Void) throws {
        var row = TableRow()
        for (k, file) in files.enumerated() {
            let header = fileHeaders[k]
            if header.isEmpty || header == [""] {
                warnings.note("\(file): empty file, no header")
                continue
            }
            var firstOf: [String: Int] = [:]
            for (i, h) in header.enumerated() {
                if firstOf[h] == nil { firstOf[h] = i } else { warnings.note("\(file): column \(h) appears twice in the header; the first is read") }
            }
            row.fieldOf = columns.map { firstOf[$0] ?? -1 }
            row.participantField = participantColumns[k].flatMap { firstOf[$0] } ?? -1
            row.file = file
            var reader = try OriginalCSVReader(path: file)
            defer { reader.close() }
            var reported = 0, rows = 0
            defer { progress?(reader.bytesConsumed - reported) }
            defer { for n in reader.notes { warnings.note(n) } }
            while try reader.next(raw: &row.raw) {
                row.line = reader.rowLine
                rows += 1
                if let progress, rows & 0x3FFF == 0 {
                    progress(reader.bytesConsumed - reported)
                    reported = reader.bytesConsumed
                }
                let n = row.raw.count
                if n == 1 && row.raw.isEmpty(0) { continue }
                if n != header.count {
                    warnings.add(n < header.count
                        ? "\(file): rows shorter than the header (\(header.count) columns); the missing cells count as empty"
                        : "\(file): rows longer than the header (\(header.count) columns); the extra cells are ignored",
                        line: row.line)
                }
                try body(row)
            }
        }
    }
}

extension ScaleSpec {
    /// The item columns of a table: the columns the catalogue counts as items.
    public func itemColumns(_ columns: [String], catalogue: ScaleCatalogue) -> [String] {
        columns.filter { catalogue.isItem($0) && !catalogue.participantColumns.contains($0) && $0 != participant }
    }
}
