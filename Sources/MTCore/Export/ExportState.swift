import Foundation

/// Export's bookkeeping for one scale, in `PATH/state/export_<Scale>.json` (written atomically).
///
/// Crash-safe CSV appends ("every entry reaches the CSVs exactly once, whatever crashed"):
/// ids only grow, so `csvHigh` — the highest id whose row is in the active CSVs — says which entries are new.
/// Before rows are appended, a journal (`pending`) is committed naming the verified archive they come from, the
/// CSV file, its byte length before the append and the id range. Then the rows are appended and fsynced, then
/// `csvHigh` advances and the journal is cleared in one atomic state write. A rerun that finds a journal cuts the
/// CSV back to the recorded length (removing a torn or complete-but-uncommitted tail) and replays the rows from
/// the archive, so the outcome is the same as if nothing had crashed. Deletes only ever cover ids ≤ `csvHigh`.
public struct ExportScaleState: Sendable, Equatable {
    public struct PendingAppend: Sendable, Equatable {
        /// Archive file name in raw_data holding the rows.
        public var archive: String
        /// CSV file name in active_data.
        public var csv: String
        /// The CSV's length before the append.
        public var offset: Int64
        /// Rows with `after < id <= through` are appended.
        public var after: Int64
        public var through: Int64

        public init(archive: String, csv: String, offset: Int64, after: Int64, through: Int64) {
            self.archive = archive
            self.csv = csv
            self.offset = offset
            self.after = after
            self.through = through
        }
    }

    /// Highest id whose row is in the active CSVs (nil: none yet).
    public var csvHigh: Int64?
    public var pending: PendingAppend?
    /// Start of the last fully handled fetch (seconds since 1970), for the automatic `after=`.
    public var lastFetch: Double?
    /// The scale's entries carry a `date` field, so the server honours `after=` for it.
    public var dateBearing = false
    /// SHA-256 of the server bytes last archived, and that archive: an identical answer (a non-deleteable
    /// snapshot, or any scale while DELETE_MODE is off) is not archived again every 5 minutes.
    public var lastBodySHA256: String?
    public var lastArchive: String?
    /// Highest id a run with deletes on has archived and sent DELETEs for: what is at or below it and still on
    /// the server is a leftover. (Not the benchmark, which also moves on runs that delete nothing: a week of
    /// DELETE_MODE off must not turn every entry into a leftover.)
    public var deleteMark: Int64?
    /// Ids found at or below `deleteMark` that no earlier archive held (ids restarted, or rows never written to
    /// the CSVs): never deleted automatically, reported every run until someone checks them (mt benchmark).
    public var heldBack: [Int64] = []

    public init() {}

    public static func path(scale: String, layout: DataLayout) -> String {
        layout.state + "/export_\(scale).json"
    }

    public static func load(scale: String, layout: DataLayout) throws -> ExportScaleState {
        let p = path(scale: scale, layout: layout)
        guard FileSystem.exists(p) else { return ExportScaleState() }
        let v: JSONValue
        do { v = try JSONParser.parse(FileSystem.read(p)) } catch {
            throw MTError(.dataError, "\(p): export state is not valid JSON (\(error))",
                          hint: "it is written atomically, so this is damage from outside; compare the CSVs with mt verify, then delete the file")
        }
        var s = ExportScaleState()
        s.csvHigh = v["csvHigh"]?.int64Value
        s.lastFetch = v["lastFetch"].flatMap { if case .number(let n) = $0 { Double(n) } else { nil } }
        if case .bool(let b)? = v["dateBearing"] { s.dateBearing = b }
        s.lastBodySHA256 = v["lastBodySHA256"]?.stringValue
        s.lastArchive = v["lastArchive"]?.stringValue.flatMap { ArchiveName.parse($0) != nil ? $0 : nil }
        s.deleteMark = v["deleteMark"]?.int64Value
        s.heldBack = (v["heldBack"]?.arrayValues ?? []).compactMap(\.int64Value)
        if let p = v["pending"], p.objectFields != nil {
            guard let a = p["archive"]?.stringValue, let c = p["csv"]?.stringValue, let o = p["offset"]?.int64Value,
                  let after = p["after"]?.int64Value, let through = p["through"]?.int64Value,
                  ArchiveName.parse(a) != nil, SafeName.isValidScale(c) else {
                throw MTError(.dataError, "\(path(scale: scale, layout: layout)): unreadable pending CSV append")
            }
            s.pending = PendingAppend(archive: a, csv: c, offset: o, after: after, through: through)
        }
        return s
    }

    public func save(scale: String, layout: DataLayout) throws {
        var fields: [(String, JSONValue)] = []
        if let csvHigh { fields.append(("csvHigh", .int(csvHigh))) }
        if let lastFetch { fields.append(("lastFetch", .number(String(format: "%.3f", lastFetch)))) }
        fields.append(("dateBearing", .bool(dateBearing)))
        if let lastBodySHA256 { fields.append(("lastBodySHA256", .string(lastBodySHA256))) }
        if let lastArchive { fields.append(("lastArchive", .string(lastArchive))) }
        if let deleteMark { fields.append(("deleteMark", .int(deleteMark))) }
        if !heldBack.isEmpty { fields.append(("heldBack", .array(heldBack.map { .int($0) }))) }
        if let p = pending {
            fields.append(("pending", .object([("archive", .string(p.archive)), ("csv", .string(p.csv)),
                                               ("offset", .int(p.offset)), ("after", .int(p.after)),
                                               ("through", .int(p.through))])))
        }
        try FileSystem.makeDirectories(layout.state)
        try FileSystem.writeAtomically(JSONWriter.bytes(.object(fields), pretty: true) + [0x0A],
                                       to: Self.path(scale: scale, layout: layout), mode: 0o600)
    }
}
