import Foundation

/// Every path of a server's data directory (DESIGN §3). Nothing else in `mt` builds these paths by hand.
///
///     PATH/raw_data/<stamp>_<Scale>.json.gz        one gzip archive per fetch, server bytes unchanged
///     PATH/raw_data/SHA256SUMS                     checksum ledger (`sha256sum -c` reads it)
///     PATH/raw_data/<Scale>_<Mon_DD_YYYY>_<HH_MM_SS>.json   the original tool's raw files (read only)
///     PATH/active_data/<Scale>_<DATE>.csv          decrypted rows for analysts
///     PATH/active_data/benchMark.json              high-water marks, readable by the original tool
///     PATH/ledger/deletions.tsv                    every id sent a DELETE, with the archive that holds it
///     PATH/state/                                  export's bookkeeping (crash recovery, last fetch times)
///     PATH/recovered_data/                         output of mt recover
///     PATH/logs/                                   DEBUG.log, Daily.log, error.log, break_down.log
public struct DataLayout: Sendable, Equatable {
    public let root: String

    public init(root: String) { self.root = root }
    public init(server: ServerConfig) { root = server.path }

    public var raw: String { root + "/raw_data" }
    public var active: String { root + "/active_data" }
    public var recovered: String { root + "/recovered_data" }
    public var ledgerDirectory: String { root + "/ledger" }
    public var state: String { root + "/state" }
    public var logs: String { root + "/logs" }

    public var checksums: String { raw + "/SHA256SUMS" }
    public var deletions: String { ledgerDirectory + "/deletions.tsv" }
    public var benchmark: String { active + "/benchMark.json" }

    public func archivePath(_ name: ArchiveName) -> String { raw + "/" + name.fileName }

    /// `active_data/<Scale>_<DATE>.csv`, DATE in the server's DATE_FORMAT (local time).
    public func activeCSV(scale: String, date: Date, dateFormat: String) -> String {
        active + "/\(scale)_\(LocalTime.strftime(dateFormat, date)).csv"
    }

    /// Every active CSV file of one scale (exact scale match), sorted by name.
    public func activeCSVs(scale: String) throws -> [String] {
        try FileSystem.list(active).filter { CSVName.scale(of: $0) == scale }.sorted().map { active + "/" + $0 }
    }

    /// Creates the folders a writing command needs; none is assumed to exist.
    public func create() throws {
        for d in [root, raw, active, ledgerDirectory, state, logs] { try FileSystem.makeDirectories(d) }
    }

    /// All archives in `raw_data`, new and legacy, oldest first (by the time inside the name, not its spelling).
    public func archives() throws -> [ArchiveName] {
        try FileSystem.list(raw).compactMap(ArchiveName.parse).sorted()
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

/// Active CSV names: `<Scale>_<DATE>.csv`. The scale is everything before the date part, so it is found by
/// matching known scales rather than guessing where the date starts.
public enum CSVName {
    /// The scale of `<Scale>_<date>.csv` when the date part contains no `_`-free scale ambiguity: the scale is
    /// the longest prefix up to an `_` followed by a date field (a digit or a month name).
    public static func scale(of fileName: String) -> String? {
        guard fileName.hasSuffix(".csv") else { return nil }
        let base = fileName.dropLast(4)
        let fields = base.split(separator: "_", omittingEmptySubsequences: false)
        guard fields.count >= 2 else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        for i in 1..<fields.count {
            let f = fields[i]
            if let c = f.first, c.isNumber || months.contains(String(f.prefix(3))) {
                let scale = fields[..<i].joined(separator: "_")
                return SafeName.isValidScale(scale) ? scale : nil
            }
        }
        return nil
    }
}
