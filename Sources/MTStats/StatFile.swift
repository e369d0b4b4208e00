import CReadStat
import Foundation
import MTCore

/// `mt stats dataset --format sav|dta`: SPSS and Stata files through ReadStat, the C library behind R's haven
/// and pyreadstat. Variable labels (the question or the score), value labels (the answers' labels), the
/// no-answer codes as user-missing values (SPSS: the value stays, declared missing) or extended missing values
/// (Stata: `.a` for the first code, `.b` for the next, labelled), text in UTF-8.
enum StatFile {
    /// Stata allows 32-byte names; SPSS 64. Longer names are cut and made unique, the full name kept in the label.
    static func names(_ columns: [Dataset.Column], limit: Int) -> [String] {
        var used = Set<String>()
        return columns.map { c in
            var base = String(decoding: c.name.utf8.prefix(limit), as: UTF8.self)
                .map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" }.reduce(into: "") { $0.append($1) }
            if base.first?.isNumber == true { base = "v" + base.dropLast(base.count >= limit ? 1 : 0) }
            var name = base, n = 1
            while !used.insert(name.lowercased()).inserted {
                n += 1
                let suffix = "_\(n)"
                name = String(base.prefix(limit - suffix.count)) + suffix
            }
            return name
        }
    }

    static func write(_ d: Dataset, format: DatasetFormat, title: String, to out: String) throws {
        let stata = format == .dta
        let limit = stata ? 32 : 64
        let varNames = names(d.columns, limit: limit)
        // Stata's str holds 2045 bytes, SPSS's 32767: longer free text is cut there (the CSV keeps it whole).
        let maxText = stata ? 2045 : 32767
        try FileSystem.writeOutput(to: out, mode: 0o600) { fd in
            guard let w = readstat_writer_init() else { throw MTError(.software, "ReadStat could not start a writer") }
            defer { readstat_writer_free(w) }
            var context = fd
            try check(readstat_set_data_writer(w) { data, length, ctx in
                let fd = ctx!.load(as: Int32.self)
                var done = 0
                while done < length {
                    let n = Foundation.write(fd, data!.advanced(by: done), length - done)
                    if n < 0 { if errno == EINTR { continue }; return -1 }
                    done += n
                }
                return length
            }, out)
            readstat_writer_set_file_label(w, cut(title, stata ? 80 : 64))
            if stata { try check(readstat_writer_set_file_format_version(w, 118), out) } // UTF-8 text
            var variables: [UnsafeMutablePointer<readstat_variable_t>?] = []
            var tags: [[Int: CChar]] = []
            for (i, c) in d.columns.enumerated() {
                let type: readstat_type_t = c.kind == .text ? READSTAT_TYPE_STRING : READSTAT_TYPE_DOUBLE
                let width = c.kind == .text ? min(maxText, max(1, d.rows.map { $0[i].utf8.count }.max() ?? 1)) : 0
                guard let v = readstat_add_variable(w, varNames[i], type, width) else {
                    throw MTError(.software, "ReadStat could not add the variable \(varNames[i])")
                }
                let label = varNames[i] == c.name ? c.label : "\(c.name): \(c.label)"
                readstat_variable_set_label(v, cut(label, stata ? 80 : 250))
                var tagOf: [Int: CChar] = [:]
                if c.kind != .text && (!c.valueLabels.isEmpty || !c.missing.isEmpty) {
                    let set = readstat_add_label_set(w, stata ? READSTAT_TYPE_INT32 : READSTAT_TYPE_DOUBLE, "l_" + String(varNames[i].prefix(limit - 2)))
                    for (value, text) in c.valueLabels {
                        if stata { readstat_label_int32_value(set, Int32(value), text) } else { readstat_label_double_value(set, Double(value), text) }
                    }
                    for (k, (code, text)) in c.missing.enumerated() {
                        if stata {
                            let tag = CChar(UInt8(ascii: "a") + UInt8(min(k, 25)))
                            tagOf[code] = tag
                            readstat_label_tagged_value(set, tag, text)
                        } else {
                            readstat_label_double_value(set, Double(code), text)
                            if k < 3 { try check(readstat_variable_add_missing_double_value(v, Double(code)), out) }
                        }
                    }
                    readstat_variable_set_label_set(v, set)
                }
                switch c.kind {
                case .text: readstat_variable_set_measure(v, READSTAT_MEASURE_NOMINAL)
                case .integer:
                    readstat_variable_set_measure(v, c.valueLabels.isEmpty ? READSTAT_MEASURE_SCALE : READSTAT_MEASURE_ORDINAL)
                    readstat_variable_set_format(v, stata ? "%10.0g" : "F8.0")
                case .decimal:
                    readstat_variable_set_measure(v, READSTAT_MEASURE_SCALE)
                    readstat_variable_set_format(v, stata ? "%10.0g" : "F12.4")
                }
                variables.append(v)
                tags.append(tagOf)
            }
            try withUnsafeMutablePointer(to: &context) { ctx in
                try check(stata ? readstat_begin_writing_dta(w, ctx, d.rows.count) : readstat_begin_writing_sav(w, ctx, d.rows.count), out)
                for row in d.rows {
                    try check(readstat_begin_row(w), out)
                    for (i, cell) in row.enumerated() {
                        let v = variables[i]
                        if d.columns[i].kind == .text {
                            try check(cell.isEmpty ? readstat_insert_missing_value(w, v)
                                      : readstat_insert_string_value(w, v, cut(cell, maxText)), out)
                        } else if cell.isEmpty {
                            try check(readstat_insert_missing_value(w, v), out)
                        } else if let x = Double(cell) {
                            if let code = Int(exactly: x), let tag = tags[i][code] {
                                try check(readstat_insert_tagged_missing_value(w, v, tag), out)
                            } else {
                                try check(readstat_insert_double_value(w, v, x), out)
                            }
                        } else {
                            try check(readstat_insert_missing_value(w, v), out)
                        }
                    }
                    try check(readstat_end_row(w), out)
                }
                try check(readstat_end_writing(w), out)
            }
        }
    }

    /// At most `bytes` bytes of UTF-8, whole characters only (the formats count bytes).
    static func cut(_ s: String, _ bytes: Int) -> String {
        var out = ""
        for ch in s {
            if out.utf8.count + ch.utf8.count > bytes { break }
            out.append(ch)
        }
        return out
    }

    static func check(_ e: readstat_error_t, _ path: String) throws {
        guard e != READSTAT_OK else { return }
        let what = readstat_error_message(e).map { String(cString: $0) } ?? "error \(e.rawValue)"
        throw MTError(e == READSTAT_ERROR_WRITE ? .ioError : .dataError, "\(path): ReadStat: \(what)",
                      hint: e == READSTAT_ERROR_WRITE ? "check free space" : "the dataset has a value the format cannot hold")
    }
}
