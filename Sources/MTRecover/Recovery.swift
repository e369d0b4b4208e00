import Foundation
import MTCore

extension DataLayout {
    /// `recovered_data/<Scale>_recovered_<DATE>.csv`
    func recoveredCSV(scale: String, date: String) -> String {
        recovered + "/\(scale)_recovered_\(date).csv"
    }

    /// `recovered_data/README_<Scale>_recovered_<DATE>.txt`
    func recoveredReadme(scale: String, date: String) -> String {
        recovered + "/README_\(scale)_recovered_\(date).txt"
    }
}

/// What one scale's recovery read and wrote (the README beside the CSV says the same).
struct RecoveryReport: Sendable {
    struct ArchiveUse: Sendable {
        var name: String
        var entries: Int
        /// full, after=<stamp> or batch, as recorded when the archive was made (nil: the original tool's).
        var kind: String?
    }

    var scale: String
    var deleteable: Bool
    var csv: String
    var readme: String
    var archives: [ArchiveUse]
    var entriesWritten = 0
    var duplicatesDropped = 0
    /// Entries kept although an earlier archive holds another entry under the same id (ids restarted).
    var sameIDOtherContent: [Int64] = []
    var withoutID = 0
    var notObjects = 0
    /// Entries of withdrawn participants (ledger/withdrawals.tsv) an archive still held: never written.
    var withdrawn = 0
    var failures: [DecryptionFailure] = []
    var failureCount = 0

    var json: JSONValue {
        .object([
            ("scale", .string(scale)),
            ("deleteable", .bool(deleteable)),
            ("csv", .string(csv)),
            ("readme", .string(readme)),
            ("archives", .array(archives.map {
                .object([("name", .string($0.name)), ("entries", .int($0.entries)), ("kind", .optionalString($0.kind))])
            })),
            ("entries_written", .int(entriesWritten)),
            ("duplicates_dropped", .int(duplicatesDropped)),
            ("same_id_other_content", .array(sameIDOtherContent.map { .int($0) })),
            ("entries_without_id", .int(withoutID)),
            ("withdrawn_left_out", .int(withdrawn)),
            ("decryption_failures", .int(failureCount)),
        ])
    }
}

/// Rebuilds a scale's CSV from its raw archives (the original's recovery program, made exact): every archive
/// oldest → newest, the first copy of each entry kept. That is what `mt export` writes to the active CSVs for
/// every scale: a non-deleteable scale's full snapshots and `after=` increments, and the rows that only older
/// archives hold (a scale that was deleteable once). An entry whose id an earlier archive holds with other
/// content (the server's ids restarted) is kept too, and named in the README: it is another participant's answer.
///
/// Two streaming passes over the archives: the first finds the header (the union of field names) and the
/// number of entries, the second decrypts and writes. Memory stays bounded by the largest single archive.
enum Recovery {
    /// Failures listed one by one in the README (all are counted).
    static let listedFailures = 200
    static let batchSize = 8192

    /// Scales that have at least one archive, sorted.
    static func scales(layout: DataLayout) throws -> [String] {
        Array(Set(try layout.archives().map(\.scale))).sorted()
    }

    /// Whether a scale is deleteable, from benchMark.json; unknown scales count as deleteable (read everything).
    static func isDeleteable(scale: String, layout: DataLayout) throws -> Bool {
        try Benchmark.read(path: layout.benchmark)?.marks[scale]?.deleteable ?? true
    }

    static func recover(layout: DataLayout, scale: String, deleteable: Bool, date: String,
                               session: DecryptionSession, progress: ((Int) -> ProgressBar)? = nil) throws -> RecoveryReport {
        let all = try layout.archives(scale: scale)
        guard !all.isEmpty else {
            if let shelve = ShelveArchive.list(layout).first(where: { $0.scale == scale }) {
                throw MTError(.noInput, "no archives of scale \(scale) that mt reads in \(layout.raw): \(shelve.explanation)",
                              hint: ShelveArchive.hint)
            }
            let known = try scales(layout: layout)
            let hint = Suggest.closest(to: scale, in: known).map { "did you mean \($0)? " } ?? ""
            throw MTError(.noInput, "no archives of scale \(scale) in \(layout.raw)",
                          hint: hint + (known.isEmpty ? "raw_data holds no archives" : "scales with archives: \(known.joined(separator: ", "))"))
        }
        let used = all
        try FileSystem.makeDirectories(layout.recovered)
        var report = RecoveryReport(scale: scale, deleteable: deleteable,
                                    csv: layout.recoveredCSV(scale: scale, date: date),
                                    readme: layout.recoveredReadme(scale: scale, date: date),
                                    archives: [])

        let kinds = (try? ArchiveKindLedger(layout: layout).read()) ?? [:]
        // A withdrawn participant's entries never come back, even from an archive restored from a backup.
        let withdrawn = try WithdrawalLedger(layout: layout).withdrawnIDs()[scale] ?? []
        func isWithdrawn(_ e: JSONValue) -> Bool { e["id"]?.int64Value.map(withdrawn.contains) ?? false }
        // Pass 1: header and counts.
        var names = Set<String>()
        var filter = FirstCopy()
        for archive in used {
            var n = 0
            try ArchiveReader.forEachEntry(layout: layout, archive: archive) { entry in
                n += 1
                guard let fields = entry.objectFields else { report.notObjects += 1; return }
                if isWithdrawn(entry) { report.withdrawn += 1; return }
                switch filter.admit(entry) {
                case .duplicate: report.duplicatesDropped += 1; return
                case .noID: report.withoutID += 1
                case .otherContent: report.sameIDOtherContent.append(entry["id"]?.int64Value ?? 0)
                case .first: break
                }
                for (k, _) in fields { names.insert(k) }
                report.entriesWritten += 1
            }
            report.archives.append(.init(name: archive.fileName, entries: n, kind: kinds[archive.fileName]?.description))
        }
        let header = CSVCell.sortedHeader(names)

        // Pass 2: decrypt in batches and write, the same first-copy rule applied again.
        let bar = progress?(report.entriesWritten)
        defer { bar?.finish() }
        filter = FirstCopy()
        var failureCount = 0
        var listed: [DecryptionFailure] = []
        try FileSystem.writeAtomically(to: report.csv, mode: 0o600) { fd in
            var out: [UInt8] = []
            out.reserveCapacity(1 << 20)
            // A scale whose archives hold no entry gets an empty file, not a blank header line.
            if !header.isEmpty { CSVWriter.appendRow(header, to: &out) }
            var batch: [JSONValue] = []
            func flushBatch() throws {
                guard !batch.isEmpty else { return }
                let result = try session.decrypt(entries: batch, scale: scale)
                failureCount += result.failures.count
                for f in result.failures where listed.count < listedFailures { listed.append(f) }
                for e in result.entries { CSVWriter.appendRow(EntryCSV.row(e, header: header), to: &out) }
                bar?.advance(by: batch.count)
                batch.removeAll(keepingCapacity: true)
                if out.count >= 1 << 20 {
                    try FileSystem.writeAll(fd, out, path: report.csv)
                    out.removeAll(keepingCapacity: true)
                }
            }
            for archive in used {
                try ArchiveReader.forEachEntry(layout: layout, archive: archive) { entry in
                    guard entry.objectFields != nil, !isWithdrawn(entry), filter.admit(entry) != .duplicate else { return }
                    batch.append(entry)
                    if batch.count >= batchSize { try flushBatch() }
                }
            }
            try flushBatch()
            try session.finish(scale: scale)
            try FileSystem.writeAll(fd, out, path: report.csv)
        }
        report.failureCount = failureCount
        report.failures = listed
        try FileSystem.writeAtomically(Array(readme(report, layout: layout).utf8), to: report.readme, mode: 0o600)
        return report
    }

    static func readme(_ r: RecoveryReport, layout: DataLayout) -> String {
        var s = """
        mt recover: scale \(r.scale), rebuilt \(LocalTime.stamp(Date()))
        data directory: \(layout.root)
        output: \((r.csv as NSString).lastPathComponent)

        """
        s += "Every archive was read, oldest first, and the first copy of each entry kept"
        s += r.deleteable ? ".\n" : """
            : for this non-deleteable scale that is
            its full snapshots and after= increments, plus rows that only older archives hold (as in active_data).

            """
        if !r.sameIDOtherContent.isEmpty {
            s += """

            NOTE: \(r.sameIDOtherContent.count) entries share their id with an entry of an earlier archive but have other
            content (the server's ids restarted, or the entry was changed on the server). Both are kept in this file;
            tell them apart by their other columns (date, participant). ids: \(r.sameIDOtherContent.sorted().prefix(listedFailures).map(String.init).joined(separator: ", "))\(r.sameIDOtherContent.count > listedFailures ? ", …" : "")

            """
        }
        s += "\narchives used (first to last):\n"
        for a in r.archives { s += "  \(a.name)  \(a.entries) entries\(a.kind.map { "  (\($0))" } ?? "")\n" }
        s += """

        entries written: \(r.entriesWritten)
        duplicate ids dropped: \(r.duplicatesDropped)
        entries without an id (all kept): \(r.withoutID)

        """
        if r.notObjects > 0 { s += "array items that were not entries (skipped): \(r.notObjects)\n" }
        if r.withdrawn > 0 { s += "entries of withdrawn participants left out (ledger/withdrawals.tsv): \(r.withdrawn)\n" }
        s += "decryption failures (ciphertext kept in the CSV): \(r.failureCount)\n"
        for f in r.failures { s += "  \(f)\n" }
        if r.failureCount > r.failures.count { s += "  … and \(r.failureCount - r.failures.count) more\n" }
        return s
    }
}

/// Keeps the first copy of each entry; ids are compared as the server wrote them. The same whole-number id with
/// other content is another entry (ids restarted): admitted as `.otherContent`, once per distinct content.
struct FirstCopy {
    enum Verdict { case first, duplicate, noID, otherContent }
    private var numeric: [Int64: [UInt64]] = [:]
    private var other = Set<String>()

    mutating func admit(_ entry: JSONValue) -> Verdict {
        switch entry["id"] {
        case .number(let text)?:
            if let n = Int64(text) {
                let h = WrittenSet.hash(entry)
                guard let seen = numeric[n] else { numeric[n] = [h]; return .first }
                if seen.contains(h) { return .duplicate }
                numeric[n]!.append(h)
                return .otherContent
            }
            return other.insert(text).inserted ? .first : .duplicate
        case .string(let text)?:
            return other.insert("\"" + text).inserted ? .first : .duplicate
        default:
            return .noID
        }
    }
}
