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
            try Self.local { try layout.create() }
            Self.removeStaleTemporaries(layout: layout, log: logging.logger)
        }
        if let b = try Benchmark.read(path: layout.benchmark) {
            benchmark = b
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
        let scales = try ExportValidation.scaleList(list, server: server.name)
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
            log.critical("\(e.message)\(e.hint.map { " (\($0))" } ?? ""); nothing more is deleted from this scale in this run")
            outcome.exit = max(outcome.exit, e.exitCode)
            outcome.status = e.message
        }
        return outcome
    }

    mutating func exportScale(_ info: ScaleInfo, _ outcome: inout ScaleOutcome, _ log: Logger) throws {
        let scale = info.name
        try SafeName.checkScale(scale, server: server.name)
        var state = try Self.local { try ExportScaleState.load(scale: scale, layout: layout) }
        if state.csvHigh == nil { state.csvHigh = benchmark.marks[scale]?.current }
        let csv = ExportCSV(layout: layout, scale: scale)

        if let pending = state.pending, !options.dryRun {
            outcome.written += try replay(pending, scale: scale, csv: csv, state: &state, log: log)
        }

        var after = options.after
        if after == nil, !info.deleteable, state.dateBearing, let last = state.lastFetch {
            after = AfterStamp(date: Date(timeIntervalSince1970: last - 300))
        }
        let fetchStart = Date()
        let url = server.exportURL + "/" + scale + (after.map { "?after=" + $0.text } ?? "")
        let fetched = try ExportValidation.entries(fetch(url, what: "scale \(scale)", bar: progress.fetch(label: "\(server.name) \(scale) fetch")), scale: scale)
        outcome.fetched = fetched.ids.count
        let canDelete = server.deleteMode && info.deleteable && !options.noDelete
        if options.dryRun {
            outcome.status = "dry run: would archive \(fetched.ids.count)" + (canDelete ? ", delete up to \(fetched.ids.count)" : "")
            return
        }

        let snapshot = !info.deleteable && after == nil
        let sha = SHA256.hex(fetched.body)
        var archive: String?
        var archivedNow = false
        if !fetched.ids.isEmpty {
            if sha == state.lastBodySHA256, let last = state.lastArchive, reusable(last, fetched) {
                archive = last
                outcome.status = "unchanged"
            } else {
                let name = try Self.local {
                    try ExportArchive.write(body: fetched.body, scale: scale, ids: fetched.ids, time: fetchStart, layout: layout)
                }
                archive = name.fileName
                archivedNow = true
                outcome.archive = name.fileName
                outcome.archived = fetched.ids.count
                log.debug("archived \(fetched.ids.count) entries in \(name.fileName)")
            }
        }

        if let keys {
            let csvName = csvFileName(scale)
            if snapshot {
                if archivedNow || (archive != nil && !FileSystem.exists(layout.active + "/" + csvName)) {
                    let plain = try decrypt(fetched.entries, scale: scale, keys: keys, outcome: &outcome, log: log)
                    try Self.local { try csv.replace(plain, csvName: csvName) }
                    outcome.written += plain.count
                    // Later incremental (after=) fetches append only what is above this snapshot.
                    if let top = fetched.ids.max() { state.csvHigh = max(state.csvHigh ?? top, top) }
                }
            } else if let archive, let top = fetched.ids.max() {
                let high = state.csvHigh ?? Int64.min
                let fresh = fetched.entries.filter { ($0["id"]?.int64Value ?? high) > high }
                if top > high {
                    let plain = try decrypt(fresh, scale: scale, keys: keys, outcome: &outcome, log: log)
                    outcome.written += try Self.local {
                        try csv.append(plain, through: top, archive: archive, csvName: csvName, state: &state)
                    }
                }
            }
        }

        if canDelete, let archive {
            // A reused archive is an earlier one: it may prove leftovers itself.
            try delete(fetched, info: info, archive: archive, newArchive: archivedNow, state: &state, outcome: &outcome, log: log)
            if let top = fetched.ids.max() { state.deleteMark = max(state.deleteMark ?? top, top) }
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
        state.dateBearing = fetched.entries.contains { $0["date"] != nil } || (state.dateBearing && fetched.entries.isEmpty)
        if archivedNow { state.lastBodySHA256 = sha; state.lastArchive = archive }
        try Self.local { try state.save(scale: scale, layout: layout) }
        if outcome.status == "ok" && outcome.exit != .ok { outcome.status = "problems (see the log)" }
    }

    /// An answer byte-identical to the last archive may rely on it, once that archive reads back intact.
    func reusable(_ name: String, _ fetched: ExportValidation.Entries) -> Bool {
        guard let archive = ArchiveName.parse(name), archive.scale == fetched.scaleName else { return false }
        return (try? ExportArchive.verify(path: layout.archivePath(archive), body: fetched.body, ids: fetched.ids)) != nil
    }

    /// The deletes of one scale: leftovers checked against earlier archives first (DESIGN §4.4).
    func delete(_ fetched: ExportValidation.Entries, info: ScaleInfo, archive: String, newArchive: Bool, state: inout ExportScaleState,
                outcome: inout ScaleOutcome, log: Logger) throws {
        let scale = info.name
        var keep = Set<Int64>()
        if keys != nil {
            // Only rows already in the CSVs may go: the entries above csvHigh were not written (key trouble).
            let high = state.csvHigh ?? Int64.min
            keep.formUnion(fetched.ids.filter { $0 > high })
        }
        // A scale this version of mt has handled before: its own mark; otherwise (first run after the original
        // tool) the benchmark the original left.
        let heldBack = Set(state.heldBack).intersection(fetched.ids)
        let mark = state.lastFetch == nil ? benchmark.marks[scale]?.current : state.deleteMark
        if let bench = mark {
            let leftovers = fetched.ids.filter { $0 <= bench }
            if !leftovers.isEmpty {
                var byID: [Int64: JSONValue] = [:]
                for e in fetched.entries { if let id = e["id"]?.int64Value, id <= bench { byID[id] = e } }
                let (held, unreadable) = try Self.local {
                    try ExportArchive.held(byID, scale: scale, excluding: newArchive ? archive : nil, layout: layout)
                }
                let orphans = leftovers.filter { !held.contains($0) }
                log.critical("\(leftovers.count) entries at or below \(bench), the highest id already archived and deleted, are still on the server (\(Self.idList(leftovers))); \(held.subtracting(heldBack).count) of them are in earlier archives, unchanged, and are deleted now")
                if !unreadable.isEmpty {
                    log.error("earlier archives that could not be read while looking for leftovers: \(unreadable.joined(separator: ", "))")
                }
                if !orphans.isEmpty {
                    let top = fetched.ids.max() ?? 0
                    if top < bench {
                        log.critical("the server's ids seem to have restarted: its highest id is \(top), below \(bench), the highest id already archived and deleted; \(orphans.count) entries that no earlier archive holds stay on the server (archived in \(archive), not written to the CSVs); check the server, then reset the benchmark with mt benchmark")
                    } else {
                        log.critical("\(orphans.count) entries at or below \(bench) are in no earlier archive as they are now (\(Self.idList(orphans))); they stay on the server (archived in \(archive), not written to the CSVs)")
                    }
                    state.heldBack = Array(Set(state.heldBack).union(orphans)).sorted()
                    keep.formUnion(orphans)
                }
                outcome.exit = max(outcome.exit, .problems)
            }
        }
        if !heldBack.isEmpty {
            log.critical("\(heldBack.count) entries are held back on the server until someone checks them (\(Self.idList(Array(heldBack)))): they were below the mark with no earlier archive holding them; they are in the archives but not in the CSVs; after checking, build their CSV rows with mt recover and remove heldBack from \(ExportScaleState.path(scale: scale, layout: layout))")
            keep.formUnion(heldBack)
            outcome.exit = max(outcome.exit, .problems)
        }
        let ids = fetched.ids.filter { !keep.contains($0) }
        guard !ids.isEmpty else { return }
        let base = server.exportURL + "/" + scale + "/"
        let deleter = ExportDeleter(options: client.options, deleteURL: { base + String($0) },
                                    concurrency: options.concurrency ?? server.concurrency,
                                    maxConcurrency: server.maxConcurrency, retries: server.retries)
        let bar = progress.deletes(label: "\(server.name) \(scale) delete", total: ids.count)
        let tick: (@Sendable () -> Void)? = bar.map { b in { @Sendable in b.tick() } }
        let r = try Self.local {
            try deleter.delete(ids, scale: scale, archive: archive, ledger: DeletionLedger(layout: layout), logger: log,
                               progress: tick)
        }
        bar?.finish()
        outcome.deleted += r.deleted + r.gone
        outcome.failed += r.failed
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

    /// Finishes a CSV append that a crash interrupted: cut back, then the same rows from the same verified archive.
    func replay(_ pending: ExportScaleState.PendingAppend, scale: String, csv: ExportCSV, state: inout ExportScaleState,
                log: Logger) throws -> Int {
        guard let name = ArchiveName.parse(pending.archive), let keys else {
            throw MTError(.config, "an interrupted CSV append of \(pending.archive) needs the private key to be finished",
                          hint: "set PRIVATE_FILE again, or run mt recover where the key lives")
        }
        log.warning("finishing the CSV append of \(pending.archive) into \(pending.csv) that an earlier run left unfinished")
        try Self.local { try csv.rollBack(pending) }
        let entries = try ArchiveReader.entries(layout: layout, archive: name)
        let rows = entries.filter { ($0["id"]?.int64Value).map { $0 > pending.after && $0 <= pending.through } ?? false }
        var ignored = ScaleOutcome(scale: scale, deleteable: true)
        let plain = try decrypt(rows, scale: scale, keys: keys, outcome: &ignored, log: log)
        state.csvHigh = pending.after == Int64.min ? nil : pending.after
        state.pending = nil
        return try Self.local {
            try csv.append(plain, through: pending.through, archive: pending.archive, csvName: pending.csv, state: &state)
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
        "\(scale)_\(LocalTime.strftime(server.dateFormat, now)).csv"
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
        guard [.cantCreate, .noPermission, .noInput, .ioError].contains(e.exitCode) else { return e }
        return MTError(.ioError, e.message, hint: e.hint ?? "free disk space or make the data directory writable; nothing more was deleted")
    }
}
