import Foundation

/// The active CSVs of one scale as `mt export` writes them: appends journalled in `ExportScaleState` (see there
/// for the crash-safety argument). Nothing is ever replaced: a row once written stays, whatever the server does
/// later (a scale turning non-deleteable, a snapshot without rows that only the archives hold).
public struct ExportCSV: Sendable {
    public let layout: DataLayout
    public let scale: String

    public init(layout: DataLayout, scale: String) {
        self.layout = layout
        self.scale = scale
    }

    public func path(_ fileName: String) -> String { layout.active + "/" + fileName }

    /// Appends the rows of `entries` (already decrypted) not in `written` with their content to `csvName`, taken from
    /// `archive`; records their ids with `hashes` (the content hashes of the server's entries) in the written set
    /// and commits `state`. Returns the number of rows written.
    public func append(_ entries: [JSONValue], hashes: [Int64: UInt64], archive: String, csvName: String,
                       written: inout WrittenSet, state: inout ExportScaleState) throws -> Int {
        var seen = Set<Int64>()
        let rows = entries.filter { e in
            // Not yet written with this content: a new id, or (a release) another entry under a written id.
            guard let id = e["id"]?.int64Value, let h = hashes[id], written.verdict(id: id, hash: h) != .same else { return false }
            return seen.insert(id).inserted
        }
        guard !rows.isEmpty else { return 0 }
        try FileSystem.makeDirectories(layout.active)
        let file = path(csvName)
        var header = try existingHeader(file)
        if let h = header, !EntryCSV.missingColumns(rows, header: h).isEmpty {
            header = try widen(file, header: h, adding: EntryCSV.missingColumns(rows, header: h))
        }
        var bytes: [UInt8] = []
        let h = header ?? EntryCSV.header(for: rows)
        if header == nil { CSVWriter.appendRow(h, to: &bytes) }
        for e in rows { CSVWriter.appendRow(EntryCSV.row(e, header: h), to: &bytes) }

        let ids = rows.map { $0["id"]!.int64Value! }
        let setPath = layout.writtenSet(scale: scale)
        state.pending = .init(archive: archive, csv: csvName, offset: Self.size(file), written: Self.size(setPath),
                              ids: IDRanges.ranges(ids))
        try state.save(scale: scale, layout: layout)
        try FileSystem.appendDurably(bytes, to: file)
        let records = ids.map { ($0, Optional(hashes[$0]!)) }
        try WrittenSet.append(records, path: setPath)
        for (id, h) in records { written.insert(id, hash: h) }
        state.pending = nil
        state.writtenEntries = written.count
        state.csvLengths = (state.csvLengths ?? [:]).merging([csvName: Self.size(file)]) { _, new in new }
        try state.save(scale: scale, layout: layout)
        return rows.count
    }

    /// The active CSVs shorter than the length their last committed append left (or gone): rows the written set
    /// vouches for are not there. Only a power cut that took data the file system had not made durable, or a
    /// hand edit, does that; the written set must not be trusted for them.
    public func shortened(_ state: ExportScaleState) -> [(csv: String, committed: Int64, now: Int64)] {
        (state.csvLengths ?? [:]).sorted { $0.key < $1.key }.compactMap { name, committed in
            let now = Self.size(path(name))
            return now < committed ? (name, committed, now) : nil
        }
    }

    /// Every active CSV of the scale at its length now: what a written set rebuilt from the CSVs vouches for.
    public func lengthsNow() throws -> [String: Int64] {
        Dictionary(try layout.activeCSVs(scale: scale).map { (($0 as NSString).lastPathComponent, Self.size($0)) },
                   uniquingKeysWith: { a, _ in a })
    }

    /// A journal left by a crash: cut the CSV and the written set back to their lengths before the append. The
    /// caller replays the rows from the archive the journal names.
    public func rollBack(_ pending: ExportScaleState.PendingAppend) throws {
        let file = path(pending.csv)
        if FileSystem.exists(file) && Self.size(file) > pending.offset { try truncate(file, to: pending.offset) }
        let set = layout.writtenSet(scale: scale)
        if pending.written >= 0 && FileSystem.exists(set) && Self.size(set) > pending.written { try truncate(set, to: pending.written) }
    }

    /// The header row of an existing, non-empty CSV; nil when there is none yet.
    func existingHeader(_ file: String) throws -> [String]? {
        guard FileSystem.exists(file), Self.size(file) > 0 else { return nil }
        var reader = try CSVReader(path: file)
        defer { reader.close() }
        return try reader.next()
    }

    /// New columns appeared (schema drift): rewrite the file atomically under the wider header, each old row
    /// re-placed by column name, so positions stay sorted and no cell moves under another column.
    func widen(_ file: String, header: [String], adding: [String]) throws -> [String] {
        let wide = CSVCell.sortedHeader(header + adding)
        let position = Dictionary(header.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var reader = try CSVReader(path: file)
        defer { reader.close() }
        _ = try reader.next()
        var out = CSVWriter.row(wide)
        while let row = try reader.next() {
            CSVWriter.appendRow(wide.map { position[$0].flatMap { $0 < row.count ? row[$0] : nil } ?? "" }, to: &out)
        }
        try FileSystem.writeAtomically(out, to: file, mode: 0o600)
        return wide
    }

    static func size(_ file: String) -> Int64 {
        var st = stat()
        return stat(file, &st) == 0 ? Int64(st.st_size) : 0
    }

    func truncate(_ file: String, to length: Int64) throws {
        let fd = open(file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw MTError(.ioError, "cannot open \(file) to repair it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(length)) == 0, fsync(fd) == 0 else {
            throw MTError(.ioError, "cannot cut \(file) back to \(length) bytes: \(String(cString: strerror(errno)))")
        }
    }
}
