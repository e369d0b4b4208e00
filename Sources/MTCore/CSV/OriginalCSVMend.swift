import Foundation

/// `mt stats mend`: a clean RFC 4180 copy of a CSV the original tool wrote, in mt's own conventions (header
/// as found, UTF-8, `\r\n`, quotes only where needed, mode 0600, written atomically), and a short report
/// beside it. The input is only read.
public enum OriginalCSVMend {
    public struct Report: Sendable {
        public var input: String
        public var output: String
        public var reportFile: String
        public var shape: OriginalCSVReader.Shape
        public var rowsWritten = 0
        public var mended = 0
        public var noneCells = 0
        public var pythonLists = 0
        public var leftOut = 0
        public var leftOutLines: [Int] = []

        /// The report file's text.
        public var text: String {
            var t = "mt stats mend: \(input)\n"
            t += "copy:       \(output)\n"
            t += "separator:  \(shape.separatorName)\n"
            t += "shape:      " + (shape == .rfc4180 ? "RFC 4180 already (copied as read)"
                : shape == .originalTab ? "the original tool's, tab-separated"
                : "the original tool's, dates split by an unquoted comma") + "\n"
            t += "rows written: \(rowsWritten)\n"
            t += "rows mended:  \(mended) (split dates joined back)\n"
            t += "None cells:   \(noneCells) (read as empty)\n"
            t += "Python lists: \(pythonLists) (written as JSON lists)\n"
            t += "rows left out (beyond mending): \(leftOut)\n"
            if leftOut > 0 {
                t += "  at lines: " + leftOutLines.map(String.init).joined(separator: ", ")
                    + (leftOut > leftOutLines.count ? ", … (first \(leftOutLines.count) listed)" : "") + "\n"
            }
            return t
        }

        public var json: JSONValue {
            .object([
                ("input", .string(input)), ("output", .string(output)), ("report", .string(reportFile)),
                ("separator", .string(shape.separatorName)), ("original", .bool(shape.isOriginal)),
                ("rowsWritten", .int(rowsWritten)), ("rowsMended", .int(mended)), ("noneCells", .int(noneCells)), ("pythonLists", .int(pythonLists)),
                ("rowsLeftOut", .int(leftOut)), ("leftOutLines", .array(leftOutLines.map { .int($0) })),
            ])
        }
    }

    /// Where `input`'s copy and report go in `directory`: the same name, and `<name>.mend.txt`.
    public static func outputs(for input: String, in directory: String) -> (csv: String, report: String) {
        let base = (input as NSString).lastPathComponent
        let stem = base.hasSuffix(".csv") ? String(base.dropLast(4)) : base
        return (directory + "/" + base, directory + "/" + stem + ".mend.txt")
    }

    /// Checks every input and output before anything is written: inputs exist, no two inputs share a name, no
    /// output is an input.
    public static func plan(_ inputs: [String], directory: String) throws -> [(input: String, csv: String, report: String)] {
        var seen: [String: String] = [:]
        var ids = Set<String>()
        for i in inputs {
            guard FileSystem.exists(i) else { throw MTError(.noInput, "\(i) does not exist") }
            guard !FileSystem.isDirectory(i) else { throw MTError(.noInput, "\(i) is a folder, not a CSV file") }
            if let id = fileID(i) { ids.insert(id) }
        }
        return try inputs.map { i in
            let (csv, report) = outputs(for: i, in: directory)
            let base = (i as NSString).lastPathComponent
            if let other = seen[base] {
                throw MTError(.usage, "\(other) and \(i) would both be copied to \(csv)", hint: "mend them into different folders")
            }
            seen[base] = i
            for out in [csv, report] {
                if let id = fileID(out), ids.contains(id) {
                    throw MTError(.usage, "\(out) is one of the inputs; mt stats mend never changes its inputs",
                                  hint: "choose another folder with -o")
                }
            }
            return (i, csv, report)
        }
    }

    /// Device and inode, so that `./a.csv` and a symlink to it count as one file.
    private static func fileID(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return "\(st.st_dev):\(st.st_ino)"
    }

    /// Writes the copy and its report (each atomically, mode 0600).
    public static func mend(_ input: String, to csv: String, report reportFile: String) throws -> Report {
        var reader = try OriginalCSVReader(path: input)
        defer { reader.close() }
        var report = Report(input: input, output: csv, reportFile: reportFile, shape: reader.shape)
        let header = reader.header
        try FileSystem.writeAtomically(to: csv, mode: 0o600) { fd in
            var out: [UInt8] = []
            out.reserveCapacity(1 << 16)
            if !header.isEmpty { CSVWriter.appendRow(header, to: &out) }
            var fields: [String] = []
            while try reader.next(into: &fields) {
                if fields == [""] { continue } // a blank line is no entry
                CSVWriter.appendRow(fields.lazy.map(CSVCell.analystText), to: &out)
                report.rowsWritten += 1
                if out.count >= 1 << 20 {
                    try FileSystem.writeAll(fd, out, path: csv)
                    out.removeAll(keepingCapacity: true)
                }
            }
            try FileSystem.writeAll(fd, out, path: csv)
        }
        report.mended = reader.mended
        report.noneCells = reader.noneCells
        report.pythonLists = reader.pythonLists
        report.leftOut = reader.leftOut
        report.leftOutLines = reader.leftOutLines
        try FileSystem.writeAtomically(Array(report.text.utf8), to: reportFile, mode: 0o600)
        return report
    }
}
