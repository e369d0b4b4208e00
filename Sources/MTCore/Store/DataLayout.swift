import Foundation

/// Every path of a server's data directory (ARCHITECTURE.md, "MTCore, folder by folder"). Nothing else in `mt` builds these paths by hand.
///
///     PATH/raw_data/<stamp>_<Scale>.json.gz        one gzip archive per fetch, server bytes unchanged
///     PATH/raw_data/SHA256SUMS                     checksum ledger (`sha256sum -c` reads it)
///     PATH/raw_data/ARCHIVES.tsv                   each archive's kind: full, after=<stamp>, batch
///     PATH/raw_data/<Scale>_<Mon_DD_YYYY>_<HH_MM_SS>.json   the original tool's raw files (read only)
///     PATH/active_data/<Scale>_<DATE>.csv          decrypted rows for analysts
///     PATH/active_data/benchMark.json              high-water marks, readable by the original tool
///     PATH/ledger/deletions.tsv                    every id sent a DELETE, with the archive that holds it
///     PATH/state/export_<Scale>.json                export's bookkeeping (journal, last fetch times, marks)
///     PATH/state/written_<Scale>.tsv                ids and content hashes of the entries in the active CSVs
///     PATH/recovered_data/                         output of mt recover
///     PATH/logs/                                   DEBUG.log, Daily.log, error.log, break_down.log
public struct DataLayout: Sendable, Equatable {
    public let root: String
    /// The server's DATE_FORMAT: active CSV names are built and read with it.
    public let dateFormat: String

    public init(root: String, dateFormat: String = CSVName.defaultDateFormat) {
        self.root = root
        self.dateFormat = dateFormat
    }

    public init(server: ServerConfig) {
        root = server.path
        dateFormat = server.dateFormat
    }

    public var raw: String { root + "/raw_data" }
    public var active: String { root + "/active_data" }
    public var recovered: String { root + "/recovered_data" }
    public var ledgerDirectory: String { root + "/ledger" }
    public var state: String { root + "/state" }
    public var logs: String { root + "/logs" }

    public var checksums: String { raw + "/SHA256SUMS" }
    /// What each archive holds (`ArchiveKindLedger`).
    public var archiveKinds: String { raw + "/ARCHIVES.tsv" }
    public var deletions: String { ledgerDirectory + "/deletions.tsv" }
    public var withdrawals: String { ledgerDirectory + "/withdrawals.tsv" }
    /// The journal of a withdrawal under way (mt withdraw); export refuses the server while it exists.
    public var withdrawalJournal: String { state + "/withdrawal.json" }
    public var benchmark: String { active + "/benchMark.json" }

    public func archivePath(_ name: ArchiveName) -> String { raw + "/" + name.fileName }

    /// Export's bookkeeping of one scale (`ExportScaleState`).
    public func exportState(scale: String) -> String { state + "/export_\(scale).json" }
    /// Which entries of one scale are in the active CSVs (`WrittenSet`).
    public func writtenSet(scale: String) -> String { state + "/written_\(scale).tsv" }

    /// The scales that have an export state file, the inverse of `exportState(scale:)` (unsafe names left out).
    /// Scales this data directory has exported (it holds their export state) that the server's list `listed`
    /// no longer holds: a table dropped or renamed on the server, or the wrong server behind the URL. Export, status
    /// and verify all ask this, so none of them passes over a scale that went quiet.
    public func vanishedScales(listed: some Sequence<String>) throws -> [String] {
        let names = Set(listed)
        return try exportStateScales().filter { !names.contains($0) }
    }

    public func exportStateScales() throws -> [String] {
        let prefix = "export_", suffix = ".json"
        return try FileSystem.list(state).compactMap { f -> String? in
            guard f.hasPrefix(prefix), f.hasSuffix(suffix) else { return nil }
            let scale = String(f.dropFirst(prefix.count).dropLast(suffix.count))
            return SafeName.isValidScale(scale) ? scale : nil
        }.sorted()
    }

    /// `<Scale>_<DATE>.csv`, DATE in the server's DATE_FORMAT (local time).
    public func activeCSVName(scale: String, date: Date) -> String {
        CSVName.build(scale: scale, date: date, format: dateFormat)
    }

    /// `active_data/<Scale>_<DATE>.csv`.
    public func activeCSV(scale: String, date: Date) -> String { active + "/" + activeCSVName(scale: scale, date: date) }

    /// The scale an active CSV file name belongs to.
    public func scale(ofActiveCSV fileName: String) -> String? { CSVName.scale(of: fileName, format: dateFormat) }

    /// The scale of mt recover's `<Scale>_recovered_<DATE>.csv`.
    public func scale(ofRecoveredCSV fileName: String) -> String? { CSVName.recoveredScale(of: fileName, format: dateFormat) }

    /// Every active CSV file of one scale (exact scale match), sorted by name.
    public func activeCSVs(scale: String) throws -> [String] {
        try FileSystem.list(active).filter { self.scale(ofActiveCSV: $0) == scale }.sorted().map { active + "/" + $0 }
    }

    /// Creates the folders a writing command needs; none is assumed to exist.
    public func create() throws {
        for d in [root, raw, active, ledgerDirectory, state, logs] { try FileSystem.makeDirectories(d) }
    }

    /// All archives in `raw_data`, new and legacy, oldest first: in the order they were made
    /// (`ArchiveKindLedger.order`), never by the wall-clock time in their names alone.
    public func archives() throws -> [ArchiveName] {
        try ArchiveKindLedger(layout: self).order(FileSystem.list(raw).compactMap(ArchiveName.parse))
    }

    public func archives(scale: String) throws -> [ArchiveName] {
        try archives().filter { $0.scale == scale }
    }
}

/// The name of a raw archive: new `<UTC stamp>_<Scale>.json.gz`, or the original's
/// `<Scale>_<Mon_DD_YYYY>_<HH_MM_SS>.json` (local time, months by name, so never sorted as text).
public struct ArchiveName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case gzip, legacy }

    public let scale: String
    /// Seconds since 1970 of the fetch; sub-second precision for new archives.
    public let time: Date
    public let kind: Kind
    public let fileName: String

    public var description: String { fileName }

    public static func < (a: ArchiveName, b: ArchiveName) -> Bool {
        a.time != b.time ? a.time < b.time : a.fileName < b.fileName
    }

    /// A new archive name for a fetch at `time` (UTC, microseconds: names sort chronologically).
    public static func new(scale: String, time: Date) -> ArchiveName {
        var t = time_t(time.timeIntervalSince1970)
        var tm = tm()
        gmtime_r(&t, &tm)
        let micros = Int((time.timeIntervalSince1970 - Double(t)) * 1_000_000)
        let stamp = String(format: "%04d-%02d-%02dT%02d-%02d-%02d.%06dZ",
                           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros)
        return ArchiveName(scale: scale, time: Date(timeIntervalSince1970: Double(t) + Double(micros) / 1e6),
                           kind: .gzip, fileName: "\(stamp)_\(scale).json.gz")
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Parses a file name of either kind; nil for anything else (checksum ledger, temp files, foreign files).
    public static func parse(_ name: String) -> ArchiveName? {
        if name.hasSuffix(".json.gz") { return parseNew(name) }
        if name.hasSuffix(".json") { return parseLegacy(name) }
        return nil
    }

    static func parseNew(_ name: String) -> ArchiveName? {
        // 2026-11-29T03-40-12.123456Z_OA.json.gz: every character of the stamp at its place.
        let u = Array(name.utf8)
        let shape = Array("dddd-dd-ddTdd-dd-dd.ddddddZ_".utf8)
        guard u.count > shape.count + 8 else { return nil }
        for (i, c) in shape.enumerated() {
            let ok = c == UInt8(ascii: "d") ? (u[i] >= 0x30 && u[i] <= 0x39) : u[i] == c
            if !ok { return nil }
        }
        func num(_ from: Int, _ count: Int) -> Int { u[from..<(from + count)].reduce(0) { $0 * 10 + Int($1 - 0x30) } }
        let scale = String(decoding: u[shape.count..<(u.count - 8)], as: UTF8.self)
        guard SafeName.isValidScale(scale),
              let t = epoch(year: num(0, 4), month: num(5, 2), day: num(8, 2), hour: num(11, 2), minute: num(14, 2),
                            second: num(17, 2), utcOffset: 0) else { return nil }
        return ArchiveName(scale: scale, time: Date(timeIntervalSince1970: Double(t) + Double(num(20, 6)) / 1e6),
                           kind: .gzip, fileName: name)
    }

    static func parseLegacy(_ name: String) -> ArchiveName? {
        // OA_Apr_03_2018_14_05_09.json : the last six `_` fields are the stamp, the rest is the scale.
        let base = name.dropLast(".json".count)
        let fields = base.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 7 else { return nil }
        let stamp = fields.suffix(6)
        let scale = fields.dropLast(6).joined(separator: "_")
        let s = Array(stamp)
        guard SafeName.isValidScale(scale), let month = months.firstIndex(of: s[0]), s[1...].allSatisfy({ $0.count <= 4 }),
              let day = Int(s[1]), let year = Int(s[2]), let h = Int(s[3]), let m = Int(s[4]), let sec = Int(s[5]),
              epoch(year: year, month: month + 1, day: day, hour: h, minute: m, second: sec, utcOffset: 0) != nil
        else { return nil }
        var tm = tm()
        tm.tm_year = Int32(year - 1900); tm.tm_mon = Int32(month); tm.tm_mday = Int32(day)
        tm.tm_hour = Int32(h); tm.tm_min = Int32(m); tm.tm_sec = Int32(sec); tm.tm_isdst = -1
        let t = mktime(&tm) // the original wrote local time
        return ArchiveName(scale: scale, time: Date(timeIntervalSince1970: Double(t)), kind: .legacy, fileName: name)
    }

    /// Seconds since 1970 of a calendar time, or nil outside the range a raw file can carry (years 1970–9999).
    static func epoch(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, utcOffset: Int) -> Int64? {
        guard (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour),
              (0...59).contains(minute), (0...60).contains(second) else { return nil }
        let days = CivilDate.days(year: year, month: month, day: day)
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - utcOffset)
    }
}

/// Active CSV names: `<Scale>_<DATE>.csv`, DATE in the server's DATE_FORMAT (strftime). Built and parsed here
/// only. A format is accepted when every name it makes can be read back: its directives are fixed-width numbers
/// or month names, its other characters are letters, digits, `_`, `-` or `.`; so the date part of a name has as
/// many `_` as the format, and the scale is what comes before it, whatever `_` and digits the scale holds.
public enum CSVName {
    public static let defaultDateFormat = "%b_%d_%Y"
    public static let defaultTimeFormat = "%H_%M_%S"
    static let directives: Set<Character> = ["Y", "y", "m", "d", "b", "B", "j", "H", "M", "S"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                             "October", "November", "December"]

    /// Why `format` cannot make safe, parseable file names; nil when it can.
    public static func problem(format: String) -> String? {
        guard !format.isEmpty else { return "is empty" }
        let chars = Array(format)
        var directive = false
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "%" {
                guard i + 1 < chars.count else { return "ends with a lone %" }
                let d = chars[i + 1]
                guard directives.contains(d) || d == "%" else {
                    return "uses %\(d), which can make names that cannot be read back (allowed: %Y %y %m %d %b %B %j %H %M %S %%)"
                }
                if d == "%" { return "uses %%: a % in a file name is not allowed" }
                directive = true
                i += 2
                continue
            }
            guard c.isASCII, c.isLetter || c.isNumber || c == "_" || c == "-" || c == "." else {
                return "contains '\(c)': file names may hold letters, digits, _, - and . only (no spaces or /)"
            }
            i += 1
        }
        return directive ? nil : "has no date directive (%Y, %m, %d, %b, …)"
    }

    /// `<Scale>_<date>.csv`.
    public static func build(scale: String, date: Date, format: String) -> String {
        "\(scale)_\(LocalTime.strftime(format, date)).csv"
    }

    /// The scale of a CSV named with `format`, or nil when the name is not `<Scale>_<date in format>.csv`.
    public static func parse(_ fileName: String, format: String) -> String? {
        guard fileName.hasSuffix(".csv"), problem(format: format) == nil else { return nil }
        let fields = fileName.dropLast(4).split(separator: "_", omittingEmptySubsequences: false)
        let dateFields = format.filter { $0 == "_" }.count + 1
        guard fields.count > dateFields else { return nil }
        let date = fields.suffix(dateFields).joined(separator: "_")
        let scale = fields.dropLast(dateFields).joined(separator: "_")
        guard SafeName.isValidScale(scale), matches(Array(date), Array(format)) else { return nil }
        return scale
    }

    /// The scale of an active CSV whose DATE_FORMAT is not known for sure (files from before a format change, or
    /// handed to mt stats / mt decrypt): `format` first, then the default format, then the original's guess
    /// (the scale ends before the first `_` followed by a digit or a month name).
    public static func scale(of fileName: String, format: String = defaultDateFormat) -> String? {
        if let s = parse(fileName, format: format) ?? parse(fileName, format: defaultDateFormat) { return s }
        guard fileName.hasSuffix(".csv") else { return nil }
        let fields = fileName.dropLast(4).split(separator: "_", omittingEmptySubsequences: false)
        guard fields.count >= 2 else { return nil }
        for i in 1..<fields.count {
            let f = fields[i]
            if let c = f.first, c.isNumber || months.contains(String(f.prefix(3))) {
                let scale = fields[..<i].joined(separator: "_")
                return SafeName.isValidScale(scale) ? scale : nil
            }
        }
        return nil
    }

    /// The scale of `<Scale>_recovered_<DATE>.csv` (mt recover's output), DATE in `format` or, for files named
    /// under another format, whatever follows the last `_recovered_`.
    public static func recoveredScale(of fileName: String, format: String = defaultDateFormat) -> String? {
        let marker = "_recovered"
        if let s = parse(fileName, format: format), s.hasSuffix(marker), s.count > marker.count { return String(s.dropLast(marker.count)) }
        guard fileName.hasSuffix(".csv"), let r = fileName.range(of: marker + "_", options: .backwards) else { return nil }
        let scale = String(fileName[..<r.lowerBound])
        return SafeName.isValidScale(scale) ? scale : nil
    }

    /// Whether `text` is what `format` can produce.
    static func matches(_ text: [Character], _ format: [Character]) -> Bool {
        func digits(_ at: Int, _ n: Int) -> Bool { at + n <= text.count && text[at..<(at + n)].allSatisfy { $0.isASCII && $0.isNumber } }
        func go(_ t: Int, _ f: Int) -> Bool {
            if f == format.count { return t == text.count }
            guard format[f] == "%" else { return t < text.count && text[t] == format[f] && go(t + 1, f + 1) }
            switch format[f + 1] {
            case "Y": return digits(t, 4) && go(t + 4, f + 2)
            case "j": return digits(t, 3) && go(t + 3, f + 2)
            case "y", "m", "d", "H", "M", "S": return digits(t, 2) && go(t + 2, f + 2)
            case "b": return months.contains { name in text.count >= t + 3 && String(text[t..<(t + 3)]) == name } && go(t + 3, f + 2)
            case "B":
                return monthNames.contains { name in
                    text.count >= t + name.count && String(text[t..<(t + name.count)]) == name && go(t + name.count, f + 2)
                }
            default: return false
            }
        }
        return go(0, 0)
    }
}
