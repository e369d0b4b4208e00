import Foundation

/// Export's bookkeeping for one scale, in `PATH/state/export_<Scale>.json` (written atomically, self-describing:
/// `"format": "mt-export-state/2"`; fields documented in mt-export(1), FILES).
///
/// Crash-safe CSV appends ("every entry reaches the CSVs exactly once, whatever crashed"): which entries are in
/// the active CSVs is the `WrittenSet` beside this file, never a high-water mark. Before rows are appended, a
/// journal (`pending`) is committed naming the verified archive they come from, the CSV file, its byte length and
/// the written set's length before the append, and the ids appended. Then the rows are appended and fsynced, then
/// their ids and content hashes are appended to the written set, then the journal is cleared. A rerun that finds
/// a journal cuts both files back to the recorded lengths and replays the rows from the archive, so the outcome is
/// the same as if nothing had crashed. Deletes only ever cover entries in the written set with the same content.
public struct ExportScaleState: Sendable, Equatable {
    public static let format = FileFormat("mt-export-state", 2)

    public struct PendingAppend: Sendable, Equatable {
        /// Archive file name in raw_data holding the rows.
        public var archive: String
        /// CSV file name in active_data.
        public var csv: String
        /// The CSV's length before the append.
        public var offset: Int64
        /// The written set's length before the append.
        public var written: Int64
        /// The ids appended.
        public var ids: [ClosedRange<Int64>]

        public init(archive: String, csv: String, offset: Int64, written: Int64, ids: [ClosedRange<Int64>]) {
            self.archive = archive
            self.csv = csv
            self.offset = offset
            self.written = written
            self.ids = ids
        }
    }

    public var pending: PendingAppend?
    /// Start of the last fully handled fetch (seconds since 1970, this machine's clock).
    public var lastFetch: Double?
    /// Start of the last fetch without `after=` (a full snapshot, which reconciles the CSVs with the server).
    public var lastFullFetch: Double?
    /// Every entry of the last full snapshot carried a non-null `date`, so `after=` cannot hide any of them.
    public var dateBearing = false
    /// Whether the server listed the scale as deleteable last time (a change is logged at critical once).
    public var deleteable: Bool?
    /// SHA-256 of the server bytes last archived, and that archive: an identical answer (a non-deleteable
    /// snapshot, or any scale while DELETE_MODE is off) is not archived again every 5 minutes.
    public var lastBodySHA256: String?
    public var lastArchive: String?
    /// Every id at or below it was confirmed gone (200 or 404) by a run with deletes on: an entry already written
    /// at or below it that is still on the server is a leftover, reported.
    public var deleteMark: Int64?
    /// Ids on the server whose id is in the written set with other content (ids restarted): never written, never
    /// deleted, reported at critical every run. Saved before any DELETE of the run.
    public var heldBack: [Int64] = []
    /// Entries in the written set (for readers of this file; the set itself is the `written_<Scale>.tsv` file).
    public var writtenEntries: Int?
    /// What the written set records: entries in the active CSVs, or (no PRIVATE_FILE) entries in archives.
    public enum WrittenSource: String, Sendable { case csvs, archives }
    public var writtenSource: WrittenSource?
    /// Each active CSV of the scale with its length at the last committed append: the written set vouches for
    /// rows up to there. A file shorter than this (or gone) lost rows the set still names, and nothing of the
    /// scale may be deleted until they are written again. Nil for a state written before it was kept.
    public var csvLengths: [String: Int64]?

    public init() {}

    public static func path(scale: String, layout: DataLayout) -> String { layout.exportState(scale: scale) }

    public static func load(scale: String, layout: DataLayout) throws -> ExportScaleState {
        let p = path(scale: scale, layout: layout)
        guard FileSystem.exists(p) else { return ExportScaleState() }
        let v: JSONValue
        do { v = try JSONParser.parse(FileSystem.read(p)) } catch let e as MTError where e.exitCode != .dataError {
            throw e
        } catch {
            throw MTError(.dataError, "\(p): export state is not valid JSON (\(error))")
        }
        guard v.objectFields != nil else { throw MTError(.dataError, "\(p): export state is not a JSON object") }
        try format.check(v["format"], path: p)
        func number(_ k: String) -> Double? { v[k].flatMap { if case .number(let n) = $0 { Double(n) } else { nil } } }
        var s = ExportScaleState()
        s.lastFetch = number("lastFetch")
        s.lastFullFetch = number("lastFullFetch")
        if case .bool(let b)? = v["dateBearing"] { s.dateBearing = b }
        if case .bool(let b)? = v["deleteable"] { s.deleteable = b }
        s.lastBodySHA256 = v["lastBodySHA256"]?.stringValue
        s.lastArchive = v["lastArchive"]?.stringValue.flatMap { ArchiveName.parse($0) != nil ? $0 : nil }
        s.deleteMark = v["deleteMark"]?.int64Value
        s.heldBack = (v["heldBack"]?.arrayValues ?? []).compactMap(\.int64Value)
        s.writtenEntries = v["writtenEntries"]?.int64Value.map { Int($0) }
        s.writtenSource = v["writtenSource"]?.stringValue.flatMap(WrittenSource.init(rawValue:))
        if let fields = v["csvLengths"]?.objectFields {
            var lengths: [String: Int64] = [:]
            for (name, n) in fields {
                guard SafeName.isValidScale(name), let n = n.int64Value, n >= 0 else {
                    throw MTError(.dataError, "\(p): csvLengths holds '\(Untrusted.text(name))', not a CSV name and a length")
                }
                lengths[name] = n
            }
            s.csvLengths = lengths
        }
        if let p = v["pending"], p.objectFields != nil {
            guard let a = p["archive"]?.stringValue, let c = p["csv"]?.stringValue, let o = p["offset"]?.int64Value,
                  ArchiveName.parse(a) != nil, SafeName.isValidScale(c) else {
                throw MTError(.dataError, "\(path(scale: scale, layout: layout)): unreadable pending CSV append")
            }
            if let ids = IDRanges.parse(p["ids"]), let w = p["written"]?.int64Value {
                s.pending = PendingAppend(archive: a, csv: c, offset: o, written: w, ids: ids)
            } else if let after = p["after"]?.int64Value, let through = p["through"]?.int64Value, after < through {
                // A journal of the version before the written set: rows `after < id <= through`; the rebuilt set
                // is cut back to what it held before (it was rebuilt from the CSVs, cut back first).
                s.pending = PendingAppend(archive: a, csv: c, offset: o, written: -1, ids: [(after + 1)...through])
            } else {
                throw MTError(.dataError, "\(path(scale: scale, layout: layout)): unreadable pending CSV append")
            }
        }
        return s
    }

    public func save(scale: String, layout: DataLayout) throws {
        var fields: [(String, JSONValue)] = [("format", .string(Self.format.description)), ("scale", .string(scale))]
        if let lastFetch { fields.append(("lastFetch", .number(String(format: "%.3f", lastFetch)))) }
        if let lastFullFetch { fields.append(("lastFullFetch", .number(String(format: "%.3f", lastFullFetch)))) }
        fields.append(("dateBearing", .bool(dateBearing)))
        if let deleteable { fields.append(("deleteable", .bool(deleteable))) }
        if let lastBodySHA256 { fields.append(("lastBodySHA256", .string(lastBodySHA256))) }
        if let lastArchive { fields.append(("lastArchive", .string(lastArchive))) }
        if let deleteMark { fields.append(("deleteMark", .int(deleteMark))) }
        fields.append(("heldBack", .array(heldBack.map { .int($0) })))
        fields.append(("writtenFile", .string((layout.writtenSet(scale: scale) as NSString).lastPathComponent)))
        if let writtenEntries { fields.append(("writtenEntries", .int(Int64(writtenEntries)))) }
        if let writtenSource { fields.append(("writtenSource", .string(writtenSource.rawValue))) }
        if let csvLengths {
            fields.append(("csvLengths", .object(csvLengths.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })))
        }
        if let p = pending {
            fields.append(("pending", .object([("archive", .string(p.archive)), ("csv", .string(p.csv)),
                                               ("offset", .int(p.offset)), ("written", .int(p.written)),
                                               ("ids", IDRanges.json(p.ids))])))
        }
        try FileSystem.makeDirectories(layout.state)
        try FileSystem.writeAtomically(JSONWriter.bytes(.object(fields), pretty: true) + [0x0A],
                                       to: Self.path(scale: scale, layout: layout), mode: 0o600)
    }
}
