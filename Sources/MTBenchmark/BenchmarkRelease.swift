import Foundation
import MTCore

/// `mt benchmark release SCALE [ID...]`: the way out for entries export holds back (an id already written to the
/// CSVs with other content, as after the server's ids restarted). Each held entry is appended to the active CSV
/// from the newest archive holding it, through export's journalled append, and its content is accepted in the
/// written set beside the first one: the CSVs keep both, and the next export finds the server's entry written and
/// deletes it. Needs the private key: without one there are no CSVs to append to, and recording the entry as
/// written from its archive alone would let export delete it on a promise only `mt recover` keeps.
struct BenchmarkRelease {
    let server: ServerConfig
    let context: CommandContext
    var layout: DataLayout { DataLayout(server: server) }

    /// One held-back entry and where its two versions are.
    struct Held {
        var id: Int64
        /// The newest archive holding the server's (held) version, and that version.
        var archive: ArchiveName
        var entry: JSONValue
        var hash: UInt64
        /// The oldest archive holding the version already in the CSVs; nil when no archive does.
        var writtenFrom: ArchiveName?

        var reason: String {
            "id \(id) is already in the CSVs with other content ("
                + (writtenFrom.map { "written from \($0.fileName)" } ?? "content unknown: no archive holds the written entry") + ")"
        }
    }

    func run(scale: String, ids: [Int64], yes: Bool) throws -> ExitCode {
        try SafeName.checkScale(scale, server: server.name)
        guard !server.privateFiles.isEmpty else {
            throw MTError(.config, "mt benchmark release: server \(server.name) has no PRIVATE_FILE: the held-back entries cannot be decrypted into the CSVs",
                          hint: "run it where the private key lives (with PRIVATE_FILE set); until then the entries stay held back on the server, and mt recover \(FileSystem.shellQuote(server.name)) \(scale) keeps both versions")
        }
        let keys = try KeyRing.load(paths: server.privateFiles, passphrase: try server.passphraseForKeys(), environment: context.environment,
                                    allowReadable: context.global.allowReadableSecrets)
        let preview = try plan(scale: scale, ids: ids, state: ExportScaleState.load(scale: scale, layout: layout), written: loadWritten(scale))
        if preview.isEmpty {
            if context.global.json { printJSON(scale: scale, released: []) } else {
                context.stdout.line("\(server.name): \(scale) has no held-back entries; nothing to release")
            }
            return .ok
        }
        show(preview, scale: scale)
        if !yes { try confirm(preview.count, scale: scale) }

        let logging = try context.makeLogging(for: server)
        let log = logging.logger(scale: scale)
        let lock = try DirectoryLock(directory: server.path)
        defer { lock.release() }
        let (released, problems) = try release(scale: scale, ids: ids, keys: keys, log: log)
        _ = logging.sendAlerts(subject: "mt benchmark: \(server.name): held-back entries of \(scale) released")
        if context.global.json { printJSON(scale: scale, released: released) } else {
            context.stdout.line("\(server.name): released \(released.count) entries of \(scale) into the active CSVs; the next mt export deletes them from the server")
        }
        return problems ? .problems : .ok
    }

    /// Under the lock: finishes an interrupted append first, plans again (an export may have run since the
    /// preview), then appends per archive through the journal and commits the state.
    func release(scale: String, ids: [Int64], keys: KeyRing, log: Logger) throws -> ([Held], Bool) {
        var state = try ExportScaleState.load(scale: scale, layout: layout)
        let csv = ExportCSV(layout: layout, scale: scale)
        var problems = false
        if let pending = state.pending {
            try csv.rollBack(pending)
            var written = try loadWritten(scale)
            guard let name = ArchiveName.parse(pending.archive) else {
                throw MTError(.dataError, "\(layout.exportState(scale: scale)): the interrupted append names '\(pending.archive)', which is not an archive name")
            }
            let rows = try ArchiveReader.entries(layout: layout, archive: name).filter { e in
                guard let id = e["id"]?.int64Value else { return false }
                return IDRanges.contains(pending.ids, id) && written.verdict(id: id, hash: WrittenSet.hash(e)) != .same
            }
            log.warning("finishing the CSV append of \(pending.archive) into \(pending.csv) that an earlier run left unfinished")
            state.pending = nil
            problems = try append(rows, scale: scale, archive: pending.archive, csvName: pending.csv, keys: keys,
                                  csv: csv, written: &written, state: &state, log: log) || problems
        }
        var written = try loadWritten(scale)
        let held = try plan(scale: scale, ids: ids, state: state, written: written)
        let releasing = Set(held.map(\.id))
        // Saved with the journal of the first append: a crash after it replays the rows, and an entry not yet
        // in the written set is never deleted, whatever heldBack says.
        state.heldBack.removeAll { releasing.contains($0) }
        // Every id at or below the mark was gone from the server; released ids on it are not leftovers.
        if let low = releasing.min(), let mark = state.deleteMark, mark >= low { state.deleteMark = low - 1 }
        let csvName = layout.activeCSVName(scale: scale, date: Date())
        for (archive, group) in Dictionary(grouping: held, by: \.archive).sorted(by: { $0.key < $1.key }) {
            problems = try append(group.map(\.entry), scale: scale, archive: archive.fileName, csvName: csvName, keys: keys,
                                  csv: csv, written: &written, state: &state, log: log) || problems
            for h in group.sorted(by: { $0.id < $1.id }) {
                log.critical("released by hand: \(scale) id \(h.id) was held back (\(h.reason)); its server version from \(archive.fileName) is appended to \(csvName), so the CSVs hold both entries under that id, and the next mt export deletes it from the server")
            }
        }
        state.writtenEntries = written.count
        try state.save(scale: scale, layout: layout)
        return (held, problems)
    }

    /// Decrypts and appends through export's journalled CSV append; true when some values could not be decrypted.
    func append(_ entries: [JSONValue], scale: String, archive: String, csvName: String, keys: KeyRing, csv: ExportCSV,
                written: inout WrittenSet, state: inout ExportScaleState, log: Logger) throws -> Bool {
        var hashes: [Int64: UInt64] = [:]
        for e in entries { if let id = e["id"]?.int64Value { hashes[id] = WrittenSet.hash(e) } }
        let r = try EntryDecryption.decrypt(entries: entries, scale: scale, keys: keys)
        for f in r.failures { log.error("could not decrypt \(f); the ciphertext is kept in the CSV") }
        _ = try csv.append(r.entries, hashes: hashes, archive: archive, csvName: csvName, written: &written, state: &state)
        return !r.failures.isEmpty
    }

    func loadWritten(_ scale: String) throws -> WrittenSet {
        let path = layout.writtenSet(scale: scale)
        guard let set = try WrittenSet.load(path: path) else {
            throw MTError(.noInput, "\(path) does not exist: nothing of \(scale) is recorded as written, so nothing is held back",
                          hint: "run mt export \(FileSystem.shellQuote(server.name)) \(scale) first")
        }
        return set
    }

    /// The held-back entries to release (all of the scale, or `ids`), each with the newest archive holding a
    /// version the written set does not accept. An id that is not held back, or whose held version no archive
    /// holds, is refused (66) before anything changes.
    func plan(scale: String, ids: [Int64], state: ExportScaleState, written: WrittenSet) throws -> [Held] {
        let held = Set(state.heldBack)
        for id in ids where !held.contains(id) {
            throw MTError(.noInput, "\(scale) id \(id) is not held back (held back: \(held.isEmpty ? "none" : HeldIDs.list(Array(held))))",
                          hint: "mt benchmark \(FileSystem.shellQuote(server.name)) shows the held-back count of each scale")
        }
        let wanted = ids.isEmpty ? held : Set(ids)
        guard !wanted.isEmpty else { return [] }
        let archives = try layout.archives(scale: scale)
        var found: [Int64: Held] = [:]
        for name in archives.reversed() where found.count < wanted.count {
            try ArchiveReader.forEachEntry(layout: layout, archive: name) { e in
                guard let id = e["id"]?.int64Value, wanted.contains(id), found[id] == nil else { return }
                let h = WrittenSet.hash(e)
                if written.verdict(id: id, hash: h) != .same { found[id] = Held(id: id, archive: name, entry: e, hash: h) }
            }
        }
        let missing = wanted.subtracting(found.keys)
        if !missing.isEmpty {
            throw MTError(.noInput, "no archive of \(scale) holds a version other than the written one of \(HeldIDs.list(Array(missing)))",
                          hint: "mt verify \(FileSystem.shellQuote(server.name)) checks the archives; the next mt export fetches the scale again")
        }
        var origin: [Int64: ArchiveName] = [:]
        let firsts = Dictionary(uniqueKeysWithValues: wanted.compactMap { id in (written.first(id) ?? nil).map { (id, $0) } })
        for name in archives where origin.count < firsts.count {
            try ArchiveReader.forEachEntry(layout: layout, archive: name) { e in
                guard let id = e["id"]?.int64Value, let first = firsts[id], origin[id] == nil, WrittenSet.hash(e) == first else { return }
                origin[id] = name
            }
        }
        return wanted.sorted().map { id in var h = found[id]!; h.writtenFrom = origin[id]; return h }
    }

    /// The list before the question: on stdout, or on stderr when stdout carries the JSON result.
    func show(_ held: [Held], scale: String) {
        let out = context.global.json ? context.stderr : context.stdout
        out.line("\(server.name): \(held.count) held-back \(held.count == 1 ? "entry" : "entries") of \(scale):")
        for h in held {
            out.line("  id \(h.id)  held version in \(h.archive.fileName)  why: \(h.reason)")
        }
    }

    func printJSON(scale: String, released: [Held]) {
        context.stdout.write(JSONWriter.bytes(.object([
            ("server", .string(server.name)), ("scale", .string(scale)),
            ("released", .array(released.map { h in
                .object([("id", .int(h.id)), ("archive", .string(h.archive.fileName)),
                         ("writtenFrom", h.writtenFrom.map { .string($0.fileName) } ?? .null)])
            })),
        ]), pretty: true) + [0x0A])
    }

    /// Asks on the terminal; off a terminal (cron, scripts, pipes) a release needs --yes instead.
    func confirm(_ count: Int, scale: String) throws {
        guard isatty(STDIN_FILENO) == 1 else {
            throw MTError(.usage, "mt benchmark release: refusing to release held-back entries without confirmation (stdin is not a terminal)",
                          hint: "add --yes if you are sure")
        }
        context.stderr.write("\(server.name): append these \(count) entries to the active CSV of \(scale) beside the entries already written under their ids, so that the next mt export deletes them from the server? [y/N] ")
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard answer == "y" || answer == "yes" else {
            throw MTError(.usage, "mt benchmark release: not confirmed; nothing was changed")
        }
    }
}

/// Id lists in messages, short for long runs.
enum HeldIDs {
    static func list(_ ids: [Int64]) -> String {
        let s = ids.sorted()
        if s.count <= 10 { return "ids " + s.map(String.init).joined(separator: ", ") }
        return "ids \(s.first!)…\(s.last!) (\(s.count))"
    }
}
