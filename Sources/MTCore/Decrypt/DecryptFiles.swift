import Foundation

/// The entries of one file given to `mt decrypt`: a server JSON array (several arrays one after another are
/// read too), JSON lines, or a CSV with `…RSA` columns; any of them gzip-compressed; `-` is standard input.
public struct DecryptInput: Sendable {
    public var source: String
    /// The scale the file belongs to (from an archive or CSV name), for failure reports.
    public var scale: String
    public var entries: [JSONValue]
    /// The column order of a CSV input, kept in the output.
    public var csvHeader: [String]?

    public static func read(path: String) throws -> DecryptInput {
        let isStdin = path == "-"
        var bytes = isStdin ? try readStandardInput() : try FileSystem.read(path)
        let source = isStdin ? "<stdin>" : path
        if Gzip.isGzip(bytes) { bytes = try Gzip.decompress(bytes, source: source) }
        let scale = isStdin ? "stdin" : scaleName(of: (path as NSString).lastPathComponent)
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        guard start < bytes.count else { return DecryptInput(source: source, scale: scale, entries: []) }
        switch bytes[start] {
        case UInt8(ascii: "["):
            var entries: [JSONValue] = []
            try ArchiveReader.forEachEntry(bytes: bytes, source: source) { entry in
                guard entry.objectFields != nil else {
                    throw MTError(.dataError, "\(source): array item \(entries.count + 1) is not an object (an entry)")
                }
                entries.append(entry)
            }
            return DecryptInput(source: source, scale: scale, entries: entries)
        case UInt8(ascii: "{"):
            let values: [JSONValue]
            do { values = try JSONParser.parseSequence(bytes) } catch {
                throw MTError(.dataError, "\(source): not valid JSON lines: \(error)")
            }
            for (n, v) in values.enumerated() where v.objectFields == nil {
                throw MTError(.dataError, "\(source): JSON value \(n + 1) is not an object (an entry)")
            }
            return DecryptInput(source: source, scale: scale, entries: values)
        default:
            return try readCSV(bytes, source: source, scale: scale)
        }
    }

    static func readCSV(_ bytes: [UInt8], source: String, scale: String) throws -> DecryptInput {
        var reader = CSVReader(bytes: bytes, source: source)
        guard let header = try reader.next() else { return DecryptInput(source: source, scale: scale, entries: []) }
        guard Set(header).count == header.count else {
            throw MTError(.dataError, "\(source): the CSV header names a column twice")
        }
        var entries: [JSONValue] = []
        var row: [String] = []
        while try reader.next(into: &row) {
            if row.count == 1 && row[0].isEmpty { continue }
            guard row.count == header.count else {
                throw MTError(.dataError, "\(source): line \(reader.rowLine): \(row.count) fields where the header has \(header.count)",
                              hint: "the CSV is damaged or its columns are misaligned")
            }
            entries.append(.object(zip(header, row).map { name, cell in
                // Ids stay numbers so that failure reports name them; every other cell is kept as written.
                (name, name == "id" && Int64(cell) != nil ? .number(cell) : .string(cell))
            }))
        }
        return DecryptInput(source: source, scale: scale, entries: entries, csvHeader: header)
    }

    static func scaleName(of file: String) -> String {
        if let a = ArchiveName.parse(file) { return a.scale }
        if let s = CSVName.scale(of: file) { return s }
        var base = file
        for ext in [".gz", ".json", ".jsonl", ".csv"] where base.hasSuffix(ext) { base.removeLast(ext.count) }
        return base
    }

    static func readStandardInput() throws -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { Foundation.read(STDIN_FILENO, $0.baseAddress!, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw MTError(.ioError, "cannot read standard input: \(String(cString: strerror(errno)))") }
            if n == 0 { return out }
            out.append(contentsOf: buf[0..<n])
        }
    }
}

/// How `mt decrypt` writes decrypted entries.
public enum DecryptFormat: String, Sendable, CaseIterable {
    case csv, json, jsonl

    /// CSV: the given column order (a CSV input's) or the sorted union of field names; JSON: one array with an
    /// entry per line; JSON lines: one compact entry per line.
    public func render(_ entries: [JSONValue], header: [String]? = nil) -> [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .csv:
            var h = header ?? EntryCSV.header(for: entries)
            h += EntryCSV.missingColumns(entries, header: h)
            CSVWriter.appendRow(h, to: &out)
            for e in entries { CSVWriter.appendRow(EntryCSV.row(e, header: h), to: &out) }
        case .json:
            out.append(UInt8(ascii: "["))
            for (i, e) in entries.enumerated() {
                out.append(contentsOf: Array((i == 0 ? "\n" : ",\n").utf8))
                JSONWriter.write(e, into: &out)
            }
            out.append(contentsOf: Array((entries.isEmpty ? "]\n" : "\n]\n").utf8))
        case .jsonl:
            for e in entries {
                JSONWriter.write(e, into: &out)
                out.append(0x0A)
            }
        }
        return out
    }
}
