import Foundation

/// `mt export` for every selected server: list → fetch → validate → archive (durable, read back) → CSV →
/// delete → benchmark, per scale, with the safety invariants of DESIGN §4. One failing scale or server never
/// stops the others; the report's exit code is the worst outcome.
public enum ExportEngine {
    public static func run(options: ExportOptions, context: CommandContext) throws -> ExportReport {
        let config = try context.loadConfig()
        let servers = try config.select(options.server, readyOnly: true)
        let report = ExportReport(servers: servers.map { ServerExport.run(server: $0, options: options, context: context) })
        if !options.dryRun { ExportMetrics.writeAll(config: config, context: context) }
        return report
    }
}

/// One server's export run. Scales are handled one after the other (deletes within a scale are concurrent).
struct ServerExport {
    let server: ServerConfig
    let options: ExportOptions
    let layout: DataLayout
    let logging: RunLogging
    let keys: KeyRing?
    let client: HTTPClient
    var benchmark: Benchmark
    let now: Date
    /// A scale hit a failure after which the run must not go on (see `RunStop`).
    var stopped = false
    let progress: ExportProgress

    static func run(server: ServerConfig, options: ExportOptions, context: CommandContext) -> ServerOutcome {
        var outcome = ServerOutcome(server: server.name)
        let logging: RunLogging
        do { logging = try context.makeLogging(for: server) } catch {
            outcome.error = diskError(error.asMTError)
            context.stderr.line(Untrusted.message("mt export: server \(server.name): \(outcome.error!.description)"))
            return outcome
        }
        let log = logging.logger
        let lock: DirectoryLock
        do { lock = try DirectoryLock(directory: server.path) } catch {
            let e = error.asMTError
            if e.exitCode == .tempFail { log.info("\(e.message)") } else { log.critical("\(e.message)") }
            outcome.error = e
            outcome.alertSent = logging.sendAlerts(subject: "mt export: \(server.name) needs attention")
            return outcome
        }
        defer { lock.release() }
        let started = Date()
        do {
            var run = try ServerExport(server: server, options: options, context: context, logging: logging)
            outcome.scales = try run.exportScales()
        } catch {
            let e = error.asMTError
            log.critical("\(e.message)\(e.hint.map { " (\($0))" } ?? "")")
            outcome.error = e
        }
        ExportRunRecord.record(outcome, server: server, options: options, started: started, log: log)
        outcome.alertSent = logging.sendAlerts(subject: "mt export: \(server.name) needs attention")
        return outcome
    }

    init(server: ServerConfig, options: ExportOptions, context: CommandContext, logging: RunLogging) throws {
        self.server = server
        self.options = options
        self.logging = logging
        layout = DataLayout(server: server)
        now = Date()
        progress = ExportProgress(context: context)
        client = try HTTPClient(options: HTTPOptions(server: server))
        try client.checkURL(server.exportURL)
        if server.privateFiles.isEmpty {
            keys = nil
            logging.logger.info("no PRIVATE_FILE configured: archiving only (a supported set-up); run mt recover where the private key lives to build the CSVs")
        } else {
            keys = try KeyRing.load(paths: server.privateFiles, environment: context.environment,
                                    allowReadable: context.global.allowReadableSecrets)
        }
        let layout = self.layout
        if !options.dryRun {
            try Self.local {
                try layout.create()
                // Both ledgers must take a line before anything relies on them (an archive, a DELETE).
                for ledger in [layout.checksums, layout.deletions] { try FileSystem.checkAppendable(ledger) }
            }
            Self.removeStaleTemporaries(layout: layout, log: logging.logger)
        }
        if let b = try Benchmark.read(path: layout.benchmark) {
            benchmark = b
            for w in b.warnings { logging.logger.warning("\(w)") }
            // Written back at once in whole numbers, so the warning is given once, not every 5 minutes.
            if !b.warnings.isEmpty && !options.dryRun { try Self.local { try b.write(path: layout.benchmark) } }
        } else {
            let empty = Benchmark()
            benchmark = empty
            if !options.dryRun {
                try Self.local { try empty.write(path: layout.benchmark) }
                logging.logger.critical("no benchmark file at \(layout.benchmark): created an empty one; every entry on the server counts as new (if this server was exported before, restore the old benchMark.json)")
            }
        }
    }

    mutating func exportScales() throws -> [ScaleOutcome] {
        let list = try fetch(server.exportURL, what: "list of scales")
        let scales = try ExportValidation.scaleList(list, server: server.name, url: server.exportURL)
        if case .named(let name) = options.scales, !scales.contains(where: { $0.name == name }) {
            let names = scales.map(\.name)
            let close = Suggest.closest(to: name, in: names).map { "did you mean '\(Untrusted.text($0))'? " } ?? ""
            let shown = names.prefix(50).map { Untrusted.text($0) } + (names.count > 50 ? ["… \(names.count - 50) more"] : [])
            throw MTError(.usage, "server \(server.name) has no scale named '\(Untrusted.text(name))'",
                          hint: "\(close)scales on the server: \(shown.joined(separator: ", "))")
        }
        var out: [ScaleOutcome] = []
        let selected = scales.filter { options.scales.includes($0) }
        for (i, info) in selected.enumerated() {
            progress.scale(server: server.name, scale: info.name, index: i + 1, count: selected.count)
            out.append(exportScale(info))
            if stopped { break }
        }
        return out
    }

    func fetch(_ url: String, what: String, bar: FetchBar? = nil) throws -> HTTPResponse {
        defer { bar?.finish() }
        let update: ((Int, Int?) -> Void)? = bar.map { b in { b.update(received: $0, expected: $1) } }
        do { return try client.get(url, progress: update) } catch let e as HTTPTransportError {
            throw MTError(.unavailable, "\(what): \(e.message)", hint: "the server is unreachable or too slow; the next run will try again")
        }
    }

    /// One scale; every failure ends here, logged at critical (so mailed) and turned into the scale's exit code.
    mutating func exportScale(_ info: ScaleInfo) -> ScaleOutcome {
        var outcome = ScaleOutcome(scale: info.name, deleteable: info.deleteable)
        let log = logging.logger(scale: SafeName.isValidScale(info.name) ? info.name : "?")
        do {
            try exportScale(info, &outcome, log)
        } catch {
            var e = error.asMTError
            if e.exitCode == .dataError && !SafeName.isValidScale(info.name) { e.exitCode = .unavailable }
            if error is RunStop { stopped = true }
            log.critical("\(e.message)\(e.hint.map { " (\($0))" } ?? ""); nothing more is deleted from this scale in this run")
            outcome.exit = max(outcome.exit, e.exitCode)
            outcome.status = e.message
        }
        return outcome
    }

    /// How far back an automatic `after=` reaches before the last fetch. The server reads the stamp in its JVM's
    /// zone, which may be anywhere from UTC−12 to UTC+14 and shift an hour for daylight saving: 26 hours cover
    /// any of them, 5 minutes more cover clock skew. Rows fetched twice are dropped by id (the written set).
    static let afterOverlap: Double = 26 * 3600 + 300
    /// A non-deleteable scale is fetched whole at least this often, so that rows `after=` cannot return (a null
    /// date, a date the server wrote in the past) still reach the CSVs.
    static let fullSnapshotInterval: Double = 7 * 86_400

    mutating func exportScale(_ info: ScaleInfo, _ outcome: inout ScaleOutcome, _ log: Logger) throws {
        let scale = info.name
        try SafeName.checkScale(scale, server: server.name)
        // State that cannot be trusted is rebuilt, never forgotten: the damaged file stays beside it.
        var unsure = false
        var state: ExportScaleState
        do {
            state = try Self.local { try ExportScaleState.load(scale: scale, layout: layout) }
        } catch let e as MTError where e.exitCode == .dataError && !options.dryRun {
            let p = layout.exportState(scale: scale)
            let aside = p + ".damaged"
            guard rename(p, aside) == 0 else { throw e }
            log.critical("\(e.message); kept as \(aside) and rebuilt from the archives and the CSVs: this run fetches the whole scale and deletes only entries found in the CSVs")
            state = ExportScaleState()
            unsure = true
        }
        let csv = ExportCSV(layout: layout, scale: scale)
        let setPath = layout.writtenSet(scale: scale)
        if let pending = state.pending, !options.dryRun { try Self.local { try csv.rollBack(pending) } }
        var written: WrittenSet
        var loaded: WrittenSet?
        // A journal of the version before the written set: the set is rebuilt from the CSVs just cut back.
        if !unsure && (state.pending?.written ?? 0) >= 0 {
            do { loaded = try Self.local { try WrittenSet.load(path: setPath, repair: !options.dryRun) } } catch let e as MTError where e.exitCode == .dataError {
                log.critical("\(e.message): the record of what the CSVs hold is damaged; it is rebuilt from the archives and the CSVs")
                unsure = true
            }
        }
        // A set recorded from archives (no key) does not say what the CSVs hold: with a key it is rebuilt from them.
        if loaded != nil && keys != nil && state.writtenSource == .archives {
            log.warning("PRIVATE_FILE is configured now: \(setPath) recorded archived entries; it is rebuilt from the CSVs")
            loaded = nil
        }
        if let loaded {
            written = loaded
        } else {
            let (rebuilt, unreadable) = try Self.local { try WrittenSet.rebuild(scale: scale, layout: layout, fromCSVs: keys != nil) }
            written = rebuilt
            if !unreadable.isEmpty { log.error("archives that could not be read while rebuilding \(setPath): \(unreadable.joined(separator: ", "))") }
            if rebuilt.count > 0 || unsure {
                if !unsure { log.warning("rebuilt \(setPath) from the \(keys != nil ? "CSVs" : "archives") (\(rebuilt.count) entries): this run fetches the whole scale") }
                unsure = true
            }
            if !options.dryRun { try Self.local { try rebuilt.write(path: setPath) } }
        }
        if let pending = state.pending, !options.dryRun {
            outcome.written += try replay(pending, scale: scale, csv: csv, written: &written, state: &state, log: log)
        }

        if let was = state.deleteable, was != info.deleteable {
            log.critical("the server lists \(scale) as \(info.deleteable ? "deleteable" : "non-deleteable") now (it was \(was ? "deleteable" : "non-deleteable")): every row already in its CSVs stays; new rows are added as before")
            outcome.exit = max(outcome.exit, .problems)
        }
        state.deleteable = info.deleteable

        let nowSeconds = now.timeIntervalSince1970
        var after = options.after
        if after == nil, !info.deleteable, state.dateBearing, !unsure, let last = state.lastFetch, let lastFull = state.lastFullFetch {
            if last > nowSeconds + 60 || lastFull > nowSeconds + 60 {
                log.warning("the last fetch of \(scale) is recorded in the future of this machine's clock (\(AfterStamp(date: Date(timeIntervalSince1970: max(last, lastFull)))) UTC): ignored; this run fetches the whole scale")
            } else if nowSeconds - lastFull < Self.fullSnapshotInterval {
                after = AfterStamp(date: Date(timeIntervalSince1970: last - Self.afterOverlap))
            }
        }
        let full = after == nil
        let fetchStart = Date()
        let url = server.exportURL + "/" + scale + (after.map { "?after=" + $0.text } ?? "")
        let fetched = try ExportValidation.entries(fetch(url, what: "scale \(scale)", bar: progress.fetch(label: "\(server.name) \(scale) fetch")), scale: scale)
        outcome.fetched = fetched.ids.count
        if fetched.ids.isEmpty, after == nil, let size = info.size, size > 0 {
            // Not an error (nothing is lost: nothing was sent, nothing is deleted), but a server that lists
            // entries and sends none is filtering or broken, and someone should look.
            outcome.status = "warning: listed \(size) entries, sent none"
            log.warning("the server lists \(size) entries for this scale but its answer held none; nothing was archived or deleted; check the server")
        }

        // New, already written (same content), or an id already written with other content (held back).
        var hashes: [Int64: UInt64] = [:]
        var fresh: [JSONValue] = []
        var known: [Int64] = []
        var conflicts: [Int64] = []
        for (e, id) in zip(fetched.entries, fetched.ids) {
            let h = WrittenSet.hash(e)
            hashes[id] = h
            switch written.verdict(id: id, hash: h) {
            case .new: fresh.append(e)
            case .same: known.append(id)
            case .different, .unknown: conflicts.append(id)
            }
        }
        let canDelete = server.deleteMode && info.deleteable && !options.noDelete
        if options.dryRun {
            outcome.status = "dry run: would archive \(fetched.ids.count), write \(fresh.count)"
                + (conflicts.isEmpty ? "" : ", hold back \(conflicts.count)")
                + (canDelete ? ", delete up to \(fetched.ids.count - conflicts.count)" : "")
            return
        }

        let sha = SHA256.hex(fetched.body)
        var archive: String?
        var archivedNow = false
        // An answer holding nothing new, nothing held back and nothing to delete (the overlap of an after=
        // fetch) adds nothing that the archives do not hold already.
        if !fetched.ids.isEmpty && (!fresh.isEmpty || !conflicts.isEmpty || canDelete) {
            if sha == state.lastBodySHA256, let last = state.lastArchive, reusable(last, fetched) {
                archive = last
                outcome.status = "unchanged"
            } else {
                let name = try Self.local {
                    try ExportArchive.write(body: fetched.body, scale: scale, ids: fetched.ids, time: fetchStart,
                                            kind: info.deleteable ? .batch : after.map { .after($0.text) } ?? .full, layout: layout)
                }
                archive = name.fileName
                archivedNow = true
                outcome.archive = name.fileName
                outcome.archived = fetched.ids.count
                log.debug("archived \(fetched.ids.count) entries in \(name.fileName)")
            }
        }

        // Held back before anything is written or deleted, and durable before any DELETE of this run.
        let heldNow = Set(conflicts)
        state.heldBack = (full ? heldNow : heldNow.union(state.heldBack)).sorted()
        if !heldNow.isEmpty {
            log.critical("\(heldNow.count) entries have the id of an entry already in the CSVs but other content (\(Self.idList(Array(heldNow)))); the server's ids may have restarted. They are held back: not written to the CSVs and never deleted by mt export; the server's copy is kept in \(archive ?? "no archive"). Check them on the server; to keep both entries of each such id, mt benchmark \(server.name) release \(scale) writes them to the CSVs, and the next run deletes them; mt recover \(server.name) \(scale) builds a CSV that keeps both. If the server's database was rebuilt, move the scale's CSVs out of \(layout.active) and \(setPath) out of \(layout.state) (they belong to the old database): the next run writes the new entries")
            outcome.exit = max(outcome.exit, .problems)
        }
        try Self.local { try state.save(scale: scale, layout: layout) }

        if let archive, !fresh.isEmpty {
            if let keys {
                let plain = try decrypt(fresh, scale: scale, keys: keys, outcome: &outcome, log: log)
                outcome.written += try Self.local {
                    try csv.append(plain, hashes: hashes, archive: archive, csvName: csvFileName(scale), written: &written, state: &state)
                }
            } else {
                // No key: the verified archive is what recover uses; recording it here lets its entries be deleted.
                let records = fresh.compactMap { e in e["id"]?.int64Value.map { ($0, Optional(hashes[$0]!)) } }
                try Self.local { try WrittenSet.append(records, path: setPath) }
                for (id, h) in records { written.insert(id, hash: h) }
            }
            let mark = state.deleteMark ?? benchmark.marks[scale]?.current
            if let mark {
                let late = fresh.compactMap { $0["id"]?.int64Value }.filter { $0 <= mark }
                if !late.isEmpty && state.lastFetch != nil {
                    log.warning("\(late.count) entries at or below \(mark), the highest id already deleted, arrived late (\(Self.idList(late))): written now")
                }
            }
        }

        if canDelete, archive != nil {
            let ready = fetched.ids.filter { written.verdict(id: $0, hash: hashes[$0]!) == .same && !heldNow.contains($0) }
            try delete(fetched, ready: ready, known: Set(known), info: info, archive: archive!, state: &state, outcome: &outcome, log: log)
        }

        if let top = fetched.ids.max() {
            let old = benchmark.marks[scale]
            let mark = Benchmark.Mark(current: max(old?.current ?? top, top), deleteable: info.deleteable)
            if old != mark {
                benchmark.marks[scale] = mark
                try Self.local { try benchmark.write(path: layout.benchmark) }
            }
        }
        state.lastFetch = fetchStart.timeIntervalSince1970
        if full {
            state.lastFullFetch = fetchStart.timeIntervalSince1970
            state.dateBearing = !fetched.entries.isEmpty && fetched.entries.allSatisfy(Self.hasDate)
        } else if !fetched.entries.allSatisfy(Self.hasDate) {
            state.dateBearing = false
        }
        state.writtenEntries = written.count
        state.writtenSource = keys != nil ? .csvs : .archives
        if archivedNow { state.lastBodySHA256 = sha; state.lastArchive = archive }
        try Self.local { try state.save(scale: scale, layout: layout) }
        if outcome.status == "ok" && outcome.exit != .ok { outcome.status = "problems (see the log)" }
    }

    /// The server filters `after=` with `date > ?`: a row whose date is null or missing is never returned by it.
    static func hasDate(_ entry: JSONValue) -> Bool {
        if case .string(let s)? = entry["date"] { return !s.isEmpty }
        return false
    }

    /// An answer byte-identical to the last archive may rely on it, once that archive reads back intact.
    func reusable(_ name: String, _ fetched: ExportValidation.Entries) -> Bool {
        guard let archive = ArchiveName.parse(name), archive.scale == fetched.scaleName else { return false }
        return (try? ExportArchive.verify(path: layout.archivePath(archive), body: fetched.body, ids: fetched.ids)) != nil
    }

    /// The deletes of one scale: only `ready` entries (in the written set with this content) are sent. Entries
    /// already written before this run and at or below the delete mark are leftovers, reported (DESIGN §4.4).
    func delete(_ fetched: ExportValidation.Entries, ready: [Int64], known: Set<Int64>, info: ScaleInfo, archive: String,
                state: inout ExportScaleState, outcome: inout ScaleOutcome, log: Logger) throws {
        let scale = info.name
        // A scale this version of mt has deleted from before: its own mark; otherwise (first run after the
        // original tool) the benchmark the original left.
        if let mark = state.deleteMark ?? (state.lastFetch == nil ? benchmark.marks[scale]?.current : nil) {
            let leftovers = ready.filter { $0 <= mark && known.contains($0) }
            if !leftovers.isEmpty {
                log.critical("\(leftovers.count) entries at or below \(mark), the highest id already deleted, are still on the server (\(Self.idList(leftovers))); they are in the CSVs with the same content and are deleted now")
                outcome.exit = max(outcome.exit, .problems)
            }
        }
        let readySet = Set(ready)
        // The mark moves only over ids the server confirmed gone (200 or 404): an entry whose DELETE failed, or
        // that was not sent, is retried by the next run as ordinary work, not reported as a leftover.
        func advanceMark(unconfirmed: Set<Int64>) {
            let limit = unconfirmed.min() ?? Int64.max
            if let top = fetched.ids.filter({ $0 < limit }).max() { state.deleteMark = max(state.deleteMark ?? top, top) }
        }
        let waiting = Set(fetched.ids).subtracting(readySet).subtracting(state.heldBack)
        guard !ready.isEmpty else { return advanceMark(unconfirmed: waiting) }
        let base = server.exportURL + "/" + scale + "/"
        let deleter = ExportDeleter(options: client.options, deleteURL: { base + String($0) },
                                    concurrency: options.concurrency ?? server.concurrency,
                                    maxConcurrency: server.maxConcurrency, retries: server.retries)
        let bar = progress.deletes(label: "\(server.name) \(scale) delete", total: ready.count)
        let tick: (@Sendable () -> Void)? = bar.map { b in { @Sendable in b.tick() } }
        let r = try Self.local {
            try deleter.delete(ready, scale: scale, archive: archive, ledger: DeletionLedger(layout: layout), logger: log,
                               progress: tick)
        }
        bar?.finish()
        outcome.deleted += r.deleted + r.gone
        outcome.failed += r.failed
        // The deleter counts, it does not say which ids failed: any failure keeps the mark below every id sent.
        advanceMark(unconfirmed: r.failed + r.skipped > 0 ? waiting.union(readySet) : waiting)
        if r.gone > 0 { log.info("\(r.gone) entries were already gone (404), probably deleted by a run that was interrupted") }
        if let stop = r.stop {
            log.critical("\(stop.message)\(stop.hint.map { " (\($0))" } ?? "")")
            outcome.exit = max(outcome.exit, stop.exitCode)
            outcome.status = stop.message
        }
        if r.failed > 0 {
            log.critical("\(r.failed) DELETEs failed after \(server.retries) retries; the entries stay on the server (archived in \(archive)) and are retried next run")
            outcome.exit = max(outcome.exit, .unavailable)
            outcome.status = "\(r.failed) deletes failed"
        }
        log.info("deleted \(r.deleted + r.gone) entries archived in \(archive) (up to \(r.peakConcurrency) at once, halved \(r.backoffs) times)")
    }

    /// Finishes a CSV append that a crash interrupted (the files are already cut back): the same rows from the
    /// same verified archive.
    func replay(_ pending: ExportScaleState.PendingAppend, scale: String, csv: ExportCSV, written: inout WrittenSet,
                state: inout ExportScaleState, log: Logger) throws -> Int {
        guard let name = ArchiveName.parse(pending.archive), let keys else {
            throw MTError(.config, "an interrupted CSV append of \(pending.archive) needs the private key to be finished",
                          hint: "set PRIVATE_FILE again, or run mt recover where the key lives")
        }
        log.warning("finishing the CSV append of \(pending.archive) into \(pending.csv) that an earlier run left unfinished")
        let entries = try ArchiveReader.entries(layout: layout, archive: name)
        var hashes: [Int64: UInt64] = [:]
        let rows = entries.filter { e in
            // By content, not id: the journal of a release names ids already written with their first entry.
            guard let id = e["id"]?.int64Value, IDRanges.contains(pending.ids, id) else { return false }
            let h = WrittenSet.hash(e)
            guard written.verdict(id: id, hash: h) != .same else { return false }
            hashes[id] = h
            return true
        }
        var ignored = ScaleOutcome(scale: scale, deleteable: true)
        let plain = try decrypt(rows, scale: scale, keys: keys, outcome: &ignored, log: log)
        state.pending = nil
        return try Self.local {
            try csv.append(plain, hashes: hashes, archive: pending.archive, csvName: pending.csv, written: &written, state: &state)
        }
    }

    func decrypt(_ entries: [JSONValue], scale: String, keys: KeyRing, outcome: inout ScaleOutcome, log: Logger) throws -> [JSONValue] {
        let r = try EntryDecryption.decrypt(entries: entries, scale: scale, keys: keys)
        if !r.failures.isEmpty {
            // Every failure reaches DEBUG.log; the console and error.log get the first 20 and a count.
            for (i, f) in r.failures.enumerated() {
                if i < 20 { log.error("could not decrypt \(f); the ciphertext is kept in the CSV") } else { log.debug("could not decrypt \(f)") }
            }
            if r.failures.count > 20 { log.error("… and \(r.failures.count - 20) more values that could not be decrypted (all listed in DEBUG.log)") }
            outcome.exit = max(outcome.exit, .problems)
        }
        return r.entries
    }

    /// Temporary files of atomic writes that a killed run left (`.<name>.tmp-<pid>-<random>`). This run holds
    /// the lock, so no live writer owns them; they never held the only copy of anything (the rename had not
    /// happened). Removing them keeps raw_data to archives and the ledger.
    static func removeStaleTemporaries(layout: DataLayout, log: Logger) {
        for dir in [layout.raw, layout.active, layout.state] {
            for name in (try? FileSystem.list(dir)) ?? [] where name.hasPrefix(".") && name.contains(".tmp-") {
                if unlink(dir + "/" + name) == 0 { log.debug("removed \(name), left by an interrupted run") }
            }
        }
    }

    func csvFileName(_ scale: String) -> String {
        layout.activeCSVName(scale: scale, date: now)
    }

    static func idList(_ ids: [Int64]) -> String {
        let s = ids.sorted()
        if s.count <= 10 { return "ids " + s.map(String.init).joined(separator: ", ") }
        return "ids \(s.first!)…\(s.last!)"
    }

    /// Local write failures (full disk, read-only or unwritable folders) are one outcome: 74, no delete.
    static func local<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as MTError {
            throw diskError(e)
        }
    }

    static func diskError(_ e: MTError) -> MTError {
        guard [.cantCreate, .noPermission, .noInput, .ioError].contains(e.exitCode), !FileSystem.isWrongType(e) else { return e }
        return MTError(.ioError, e.message, hint: e.hint ?? "free disk space or make the data directory writable; nothing more was deleted")
    }
}
