import Foundation

/// One analysts' CSV read back: its ids with their lines, and what is wrong with it.
public struct CSVSummary: Sendable {
    public struct Occurrence: Sendable, Equatable {
        public var id: Int64
        public var line: Int
    }

    public var path: String
    /// The scale the file name belongs to, if it follows `<Scale>_<DATE>.csv` or `<Scale>_recovered_<DATE>.csv`.
    public var scale: String?
    public var recovered: Bool
    /// Data rows (the header not counted).
    public var rows: Int
    public var ids: [Occurrence]
    public var findings: [VerifyFinding]
}

public enum CSVScan {
    /// Every CSV of the active and recovered folders, sorted by path.
    public static func files(layout: DataLayout) throws -> [(path: String, scale: String?, recovered: Bool)] {
        let active = try FileSystem.list(layout.active).filter { $0.hasSuffix(".csv") }.sorted()
            .map { (path: layout.active + "/" + $0, scale: layout.scale(ofActiveCSV: $0), recovered: false) }
        let recovered = try FileSystem.list(layout.recovered).filter { $0.hasSuffix(".csv") }.sorted()
            .map { (path: layout.recovered + "/" + $0, scale: layout.scale(ofRecoveredCSV: $0), recovered: true) }
        return active + recovered
    }

    /// Reads a CSV to the end: RFC 4180 parse, one column count, the `id` column, and (when `inspect`) no
    /// ciphertext left in `…RSA` columns.
    public static func summarize(path: String, scale: String?, recovered: Bool, inspect: Bool = true) -> CSVSummary {
        var s = CSVSummary(path: path, scale: scale, recovered: recovered, rows: 0, ids: [], findings: [])
        do {
            var reader = try OriginalCSVReader(path: path)
            defer { reader.close() }
            let header = reader.header
            guard !header.isEmpty else {
                s.findings.append(VerifyFinding(.csvUnreadable, path: path, scale: scale, message: "empty file: no header row",
                                                hint: "remove it, or rebuild the scale's CSV with mt recover"))
                return s
            }
            let idColumn = header.firstIndex(of: "id")
            if idColumn == nil && scale != nil {
                s.findings.append(VerifyFinding(.csvColumns, path: path, line: 1, scale: scale,
                                                message: "the header has no id column, so its rows cannot be matched with the archives",
                                                hint: "rebuild the scale's CSV with mt recover"))
            }
            let rsaColumns = inspect ? header.indices.filter { header[$0].hasSuffix("RSA") } : []
            var badLines: [Int] = []
            var badCount = 0
            var controlLines: [Int] = []
            var controlCount = 0, controlRows = 0
            var controlColumns = Set<String>()
            var fields: [String] = []
            while try reader.next(into: &fields) {
                s.rows += 1
                if fields.count != header.count {
                    badCount += 1
                    if badLines.count < 5 { badLines.append(reader.rowLine) }
                    continue
                }
                let id = idColumn.flatMap { Int64(fields[$0]) }
                if let id { s.ids.append(.init(id: id, line: reader.rowLine)) }
                let before = controlCount
                for c in fields.indices where CSVCell.hasControlByte(fields[c]) {
                    controlCount += 1
                    controlColumns.insert(header[c])
                }
                if controlCount > before {
                    controlRows += 1
                    if controlLines.count < 5 { controlLines.append(reader.rowLine) }
                }
                for c in rsaColumns where looksLikeCiphertext(fields[c]) {
                    s.findings.append(VerifyFinding(
                        .ciphertextLeft, path: path, line: reader.rowLine, scale: scale, id: id,
                        message: "column \(header[c])\(id.map { " of id \($0)" } ?? "") still holds RSA ciphertext",
                        hint: "decrypt it with the key that matches (mt decrypt --key OLD.pem FILE), or rebuild the scale with mt recover"))
                }
            }
            if reader.shape.isOriginal {
                let what = reader.shape == .originalTab ? "is tab-separated" : "has dates split by an unquoted comma"
                var message = "written by the original tool: it \(what), so tools that read RFC 4180 misread it"
                if reader.mended > 0 { message += "; \(reader.mended) row(s) mended in reading" }
                if reader.leftOut > 0 { message += "; \(reader.leftOut) row(s) beyond mending (\(OriginalCSVReader.lines(reader.leftOutLines, total: reader.leftOut)))" }
                s.findings.append(VerifyFinding(
                    .csvOriginal, path: path, line: reader.leftOutLines.first, scale: scale, message: message,
                    hint: "write a clean copy for analysts: mt stats mend \(FileSystem.shellQuote(path)) -o DIR (the file itself is left as it is)"))
            }
            if badCount > 0 {
                s.findings.append(VerifyFinding(
                    .csvColumns, path: path, line: badLines.first, scale: scale,
                    message: "\(badCount) row(s) do not have the header's \(header.count) columns (lines \(badLines.map(String.init).joined(separator: ", "))\(badCount > badLines.count ? ", …" : ""))",
                    hint: "the file was edited or cut short; rebuild the scale's CSV with mt recover"))
            }
            if controlCount > 0 {
                let columns = controlColumns.sorted().prefix(5).joined(separator: ", ")
                s.findings.append(VerifyFinding(
                    .csvControl, path: path, line: controlLines.first, scale: scale,
                    message: "\(controlCount) cell(s) hold a control byte (NUL, or another below 0x20 but TAB, LF, CR) in \(columns)\(controlColumns.count > 5 ? ", …" : "") (lines \(controlLines.map(String.init).joined(separator: ", "))\(controlRows > controlLines.count ? ", …" : "")): R's read.csv stops at a NUL; mt writes one-byte booleans as 0/1 and other control bytes as U+FFFD",
                    hint: "the file was written before that rule or by another tool: mt recover rebuilds the scale's CSV from the archives under it (mt stats mend FILE -o DIR for the original tool's files)"))
            }
        } catch let e as CSVParseError {
            s.findings.append(VerifyFinding(.csvUnreadable, path: path, line: e.line, scale: scale, message: e.message,
                                            hint: "the file is damaged; rebuild the scale's CSV with mt recover"))
        } catch {
            s.findings.append(VerifyFinding(.csvUnreadable, path: path, scale: scale, message: error.asMTError.message,
                                            hint: "check the file's owner and permissions"))
        }
        return s
    }

    public static func summarize(_ files: [(path: String, scale: String?, recovered: Bool)], inspect: Bool = true,
                                 progress: CheckProgress? = nil) -> [CSVSummary] {
        WorkerPool().map(files.count) { i in
            let s = summarize(path: files[i].path, scale: files[i].scale, recovered: files[i].recovered, inspect: inspect)
            progress?.tick()
            return s
        }
    }

    /// RSA key sizes in bytes (1024 to 8192 bits): a ciphertext is exactly one of these long.
    static let keySizes: Set<Int> = [128, 256, 384, 512, 768, 1024]

    /// Heuristic for a value that was never decrypted: only base64 characters (a line-wrapped encoder's CR/LF
    /// allowed), and it decodes to exactly an RSA key size. Plain answers and free text never look like that.
    public static func looksLikeCiphertext(_ value: String) -> Bool {
        guard value.utf8.count >= 170 else { return false }
        for c in value.utf8 {
            let ok = (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
                || c == 0x2B || c == 0x2F || c == 0x3D || c == 0x0D || c == 0x0A
            if !ok { return false }
        }
        guard let bytes = Base64.decode(value) else { return false }
        return keySizes.contains(bytes.count)
    }
}
