import Foundation
import MTCore

/// A participant's withdrawal from one data directory (see ARCHITECTURE.md, "Withdrawals"): their entries leave
/// every archive, every active and recovered CSV and the written set, and the withdrawal ledger says what left.
///
/// Crash safety: the plan is found first (read-only), then written to `state/withdrawal.json` (atomically), and
/// only then are files changed, each step idempotent and checked against the files as they are: the ledger's
/// entry lines (before anything is removed, so export and recover leave the entries out from then on), each
/// archive rewritten and renamed over the old one with its new checksum, each CSV, each written set. A run killed
/// anywhere leaves either no journal (nothing begun) or a journal that the next `mt withdraw` finishes first.
struct WithdrawalPlan: Sendable, Equatable {
    struct CSVPlan: Sendable, Equatable {
        /// Relative to PATH: `active_data/…` or `recovered_data/…`.
        var path: String
        var scale: String
        var ids: [Int64]
    }

    var entries: [WithdrawalLedger.Entry] = []
    var archives: [String] = []
    /// Each archive's SHA-256 when the withdrawal was planned: the old checksum of its replacement line, which a
    /// run killed after the rename (when the file and SHA256SUMS already show the new one) still records.
    var archiveSHA256: [String: String] = [:]
    var csvs: [CSVPlan] = []
    var isEmpty: Bool { entries.isEmpty && csvs.isEmpty }

    /// scale → ids leaving.
    var ids: [String: Set<Int64>] {
        var out: [String: Set<Int64>] = [:]
        for e in entries { out[e.scale, default: []].insert(e.id) }
        for c in csvs { out[c.scale, default: []].formUnion(c.ids) }
        return out
    }

    var json: JSONValue {
        .object([
            ("format", .string("mt-withdrawal/1")),
            ("entries", .array(entries.map { e in
                .array([.string(e.participant), .string(e.scale), .int(e.id), .string(String(e.hash, radix: 16)), .string(e.archive)])
            })),
            ("archives", .array(archives.map(JSONValue.string))),
            ("archiveSHA256", .object(archiveSHA256.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("csvs", .array(csvs.map { c in .object([("path", .string(c.path)), ("scale", .string(c.scale)),
                                                    ("ids", .array(c.ids.map { .int($0) }))]) })),
        ])
    }

    static func parse(_ v: JSONValue, source: String) throws -> WithdrawalPlan {
        let bad = MTError(.dataError, "\(source): not a withdrawal journal mt can read",
                          hint: "it is written atomically by mt withdraw, so this is damage from outside; restore it from a backup, or move it aside and run mt withdraw again with the same participants")
        guard v["format"]?.stringValue == "mt-withdrawal/1" else { throw bad }
        var plan = WithdrawalPlan()
        for e in v["entries"]?.arrayValues ?? [] {
            guard let f = e.arrayValues, f.count == 5, let p = f[0].stringValue, let s = f[1].stringValue, SafeName.isValidScale(s),
                  let id = f[2].int64Value, let h = f[3].stringValue.flatMap({ UInt64($0, radix: 16) }), let a = f[4].stringValue else { throw bad }
            plan.entries.append(.init(participant: p, scale: s, id: id, hash: h, archive: a))
        }
        for a in v["archives"]?.arrayValues ?? [] {
            guard let name = a.stringValue, ArchiveName.parse(name) != nil else { throw bad }
            plan.archives.append(name)
        }
        for (name, sha) in v["archiveSHA256"]?.objectFields ?? [] {
            guard ArchiveName.parse(name) != nil, let sha = sha.stringValue, sha.count == 64 else { throw bad }
            plan.archiveSHA256[name] = sha
        }
        for c in v["csvs"]?.arrayValues ?? [] {
            guard let p = c["path"]?.stringValue, p.hasPrefix("active_data/") || p.hasPrefix("recovered_data/"),
                  !p.contains("/.."), let s = c["scale"]?.stringValue, SafeName.isValidScale(s) else { throw bad }
            plan.csvs.append(.init(path: p, scale: s, ids: (c["ids"]?.arrayValues ?? []).compactMap(\.int64Value)))
        }
        return plan
    }
}

struct Withdrawal {
    /// What the participant is named by: their id as the CSVs show it (decrypted), or entries named directly.
    struct Target: Sendable {
        var participants: [String] = []
        var entries: [String: Set<Int64>] = [:]
    }

    /// Fields that name an entry's participant, in the catalogue's order of preference.
    static let participantFields = ["participantRSA", "participantDAO", "participantId", "participant", "participantdao_id"]

    let layout: DataLayout
    let keys: KeyRing?
    /// The HMAC key of the ledger's participant column (see `hmacKey`).
    let hmacKey: [UInt8]

    var journal: String { layout.withdrawalJournal }

    /// Derived from the lab's private key (the first key of PRIVATE_FILE or --key): only whoever holds the key can
    /// tell whether a given participant id was withdrawn; the ledger alone names nobody.
    static func hmacKey(_ keys: KeyRing?) throws -> [UInt8] {
        guard let key = keys?.keys.first else { return [] }
        return SHA256.digest(Array("mt withdraw participant v1\n".utf8) + (try key.pem(pkcs1: true)))
    }

    func participantName(_ id: String) -> String { HMACSHA256.hex(key: hmacKey, message: Array(id.utf8)) }

    // MARK: finding

    /// Every archived entry and CSV row of the target. Read-only.
    func plan(_ target: Target) throws -> WithdrawalPlan {
        var plan = WithdrawalPlan()
        let wanted = Set(target.participants)
        let session = try keys.map { try DecryptionSession(keys: $0) }
        var cache: [String: String?] = [:]
        func participant(of entry: JSONValue) -> String? {
            for field in Self.participantFields {
                guard let v = entry[field], !v.isNull else { continue }
                if field.hasSuffix("RSA") {
                    guard let text = v.stringValue, let session else { continue }
                    if let hit = cache[text] { if let hit { return hit }; continue }
                    let plain = session.decryptValue(text).plain
                    cache[text] = plain
                    if let plain { return plain }
                } else {
                    return CSVCell.text(v)
                }
            }
            return nil
        }
        var archives = Set<String>()
        for name in try layout.archives() {
            try ArchiveReader.forEachEntry(layout: layout, archive: name) { e in
                guard let id = e["id"]?.int64Value else { return }
                var who: String?
                if target.entries[name.scale]?.contains(id) == true {
                    who = "-"
                } else if !wanted.isEmpty, let p = participant(of: e), wanted.contains(p) {
                    who = participantName(p)
                }
                guard let who else { return }
                plan.entries.append(.init(participant: who, scale: name.scale, id: id, hash: WrittenSet.hash(e), archive: name.fileName))
                archives.insert(name.fileName)
            }
        }
        plan.archives = archives.sorted()
        for name in plan.archives { plan.archiveSHA256[name] = try Self.fileSHA256(layout.raw + "/" + name) }
        let ids = plan.ids
        for file in try CSVScan.files(layout: layout) {
            guard let scale = file.scale else { continue }
            var reader = try OriginalCSVReader(path: file.path)
            defer { reader.close() }
            let header = reader.header
            guard let idColumn = header.firstIndex(of: "id") else { continue }
            let columns = Self.participantFields.compactMap { header.firstIndex(of: $0) }
            var drop: [Int64] = []
            var fields: [String] = []
            while try reader.next(into: &fields) {
                guard fields.count == header.count, let id = Int64(fields[idColumn]) else { continue }
                if ids[scale]?.contains(id) == true || target.entries[scale]?.contains(id) == true
                    || columns.contains(where: { wanted.contains(fields[$0]) }) {
                    drop.append(id)
                }
            }
            if !drop.isEmpty {
                let folder = file.recovered ? "recovered_data/" : "active_data/"
                plan.csvs.append(.init(path: folder + (file.path as NSString).lastPathComponent, scale: scale, ids: drop))
            }
        }
        return plan
    }

    // MARK: doing

    /// Rewritten archives and CSVs a killed run left before their rename (`.<name>.withdraw-…`, and the
    /// temporaries of atomic writes): never the only copy of anything. The caller holds the lock.
    func removeStaleTemporaries() {
        for dir in [layout.raw, layout.active, layout.recovered, layout.state] {
            for name in (try? FileSystem.list(dir)) ?? [] where name.hasPrefix(".") && (name.contains(".withdraw-") || name.contains(".tmp-")) {
                unlink(dir + "/" + name)
            }
        }
    }

    /// Writes the journal, then carries the plan out.
    func begin(_ plan: WithdrawalPlan) throws {
        try FileSystem.makeDirectories(layout.state)
        try FileSystem.writeAtomically(JSONWriter.bytes(plan.json, pretty: true) + [0x0A], to: journal)
        try finish(plan)
    }

    /// The journal a killed run left, if any.
    func pending() throws -> WithdrawalPlan? {
        guard FileSystem.exists(journal) else { return nil }
        let v: JSONValue
        do { v = try JSONParser.parse(FileSystem.read(journal)) } catch let e as MTError { throw e } catch {
            throw MTError(.dataError, "\(journal): not valid JSON (\(error))",
                          hint: "restore it from a backup, or move it aside and run mt withdraw again with the same participants")
        }
        return try WithdrawalPlan.parse(v, source: journal)
    }

    /// Every step, each skipped where the files show it done; the journal goes last.
    func finish(_ plan: WithdrawalPlan, now: Date = Date()) throws {
        let ledger = WithdrawalLedger(layout: layout)
        let recorded = Set(try ledger.read().entries.map { "\($0.scale)/\($0.id)/\($0.archive)" })
        try ledger.record(plan.entries.filter { !recorded.contains("\($0.scale)/\($0.id)/\($0.archive)") }, now: now)

        let ids = plan.ids
        let replaced = Set(try ledger.read().replacements.map { "\($0.archive)/\($0.newSHA256)" })
        for name in plan.archives {
            guard let archive = ArchiveName.parse(name) else { continue }
            try rewrite(archive, without: ids[archive.scale] ?? [], planned: plan.archiveSHA256[name],
                        replaced: replaced, ledger: ledger, now: now)
        }
        for c in plan.csvs { try rewriteCSV(c) }
        for scale in ids.keys.sorted() { try rewriteWrittenSet(scale: scale, without: ids[scale]!) }
        unlink(journal)
        try FileSystem.syncDirectory(layout.state)
    }

    /// The archive without the withdrawn entries, through the same path as export's: a temporary file in raw_data,
    /// fsynced, read back whole (gzip CRC, the SHA-256 of what is inside), renamed over the old file (its folder
    /// fsynced), then its new line in SHA256SUMS and the replacement in the withdrawal ledger. An archive already
    /// rewritten (a killed run) only gets the ledger lines it lacks: its checksum in SHA256SUMS, and a replacement
    /// line from `planned` (its checksum before the withdrawal) to the file's, unless one names that file already.
    func rewrite(_ archive: ArchiveName, without ids: Set<Int64>, planned: String?, replaced: Set<String>,
                 ledger: WithdrawalLedger, now: Date) throws {
        let path = layout.archivePath(archive)
        guard FileSystem.exists(path) else { return }
        var kept: [UInt8] = [UInt8(ascii: "[")]
        var removed = 0, count = 0
        try ArchiveReader.forEachEntry(layout: layout, archive: archive) { e in
            if let id = e["id"]?.int64Value, ids.contains(id) { removed += 1; return }
            if count > 0 { kept.append(UInt8(ascii: ",")) }
            kept += JSONWriter.bytes(e)
            count += 1
        }
        kept.append(UInt8(ascii: "]"))
        let sums = try ChecksumLedger(layout: layout).read()
        let current = try Self.fileSHA256(path)
        let old = planned ?? sums[archive.fileName] ?? current
        guard removed > 0 else {
            // Renamed in place by a run that was killed before its ledger lines: the missing ones are added now.
            if sums[archive.fileName] != current { try ChecksumLedger(layout: layout).append(archive: archive.fileName, sha256: current) }
            if old != current && !replaced.contains("\(archive.fileName)/\(current)") {
                try ledger.recordReplacement(archive: archive.fileName, old: old, new: current, now: now)
            }
            return
        }
        let tmp = layout.raw + "/.\(archive.fileName).withdraw-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let body = archive.kind == .gzip ? try Gzip.compress(kept) : kept
        do {
            try FileSystem.writeAtomically(body, to: tmp)
            let plain = try SHA256.Stream()
            if archive.kind == .gzip {
                try Gzip.readFile(tmp) { plain.update($0) }
            } else {
                try FileSystem.readChunks(tmp) { plain.update($0) }
            }
            guard plain.finish() == SHA256.hex(kept) else {
                throw MTError(.ioError, "\(tmp): the rewritten archive read back differs from what was written",
                              hint: "the disk returned other bytes than were written; check it, then run mt withdraw again")
            }
            let new = try Self.fileSHA256(tmp)
            try FileSystem.renameDurably(tmp, to: path)
            try ChecksumLedger(layout: layout).append(archive: archive.fileName, sha256: new)
            try ledger.recordReplacement(archive: archive.fileName, old: old, new: new, now: now)
        } catch {
            unlink(tmp)
            throw error
        }
    }

    static func fileSHA256(_ path: String) throws -> String {
        let s = try SHA256.Stream()
        try FileSystem.readChunks(path) { s.update($0) }
        return s.finish()
    }

    /// The CSV without the rows; for an active CSV, export's record of its committed length is lowered first, so
    /// that neither order of a kill looks like lost rows to the next export.
    func rewriteCSV(_ plan: WithdrawalPlan.CSVPlan) throws {
        let path = layout.root + "/" + plan.path
        guard FileSystem.exists(path) else { return }
        let drop = Set(plan.ids)
        var reader = try OriginalCSVReader(path: path)
        defer { reader.close() }
        let header = reader.header
        guard let idColumn = header.firstIndex(of: "id") else { return }
        var out: [UInt8] = []
        CSVWriter.appendRow(header, to: &out)
        var removed = 0
        var fields: [String] = []
        while try reader.next(into: &fields) {
            if fields.count == header.count, let id = Int64(fields[idColumn]), drop.contains(id) { removed += 1; continue }
            CSVWriter.appendRow(fields, to: &out)
        }
        guard removed > 0 else { return }
        let name = (path as NSString).lastPathComponent
        if plan.path.hasPrefix("active_data/") {
            var state = try ExportScaleState.load(scale: plan.scale, layout: layout)
            if state.csvLengths?[name] != nil {
                state.csvLengths![name] = Int64(out.count)
                try state.save(scale: plan.scale, layout: layout)
            }
        }
        try FileSystem.writeAtomically(out, to: path, mode: FileSystem.mode(of: path) ?? 0o600)
    }

    func rewriteWrittenSet(scale: String, without ids: Set<Int64>) throws {
        let path = layout.writtenSet(scale: scale)
        var state = try ExportScaleState.load(scale: scale, layout: layout)
        if let last = state.lastArchive, let name = ArchiveName.parse(last), name.scale == scale, state.lastBodySHA256 != nil {
            // The last archive no longer holds the server's bytes: an identical answer must not reuse it.
            state.lastBodySHA256 = nil
            try state.save(scale: scale, layout: layout)
        }
        guard let set = try WrittenSet.load(path: path), ids.contains(where: set.contains) else { return }
        let smaller = set.removing(ids)
        try smaller.write(path: path)
        state.writtenEntries = smaller.count
        try state.save(scale: scale, layout: layout)
    }
}
