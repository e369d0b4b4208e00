import Foundation
import MTCore

/// `mt export` for every selected server: list → fetch → validate → archive (durable, read back) → CSV →
/// delete → mark, per scale, with the safety invariants described in ARCHITECTURE.md. One failing scale or server
/// never stops the others; the report's exit code is the worst outcome.
enum ExportEngine {
    static func run(options: ExportOptions, context: CommandContext, seams: ExportSeams = .live) throws -> ExportReport {
        let config = try context.loadConfig()
        let servers = try config.select(options.server, readyOnly: true)
        var report = ExportReport(servers: servers.map { ServerExport.run(server: $0, options: options, context: context, seams: seams) })
        if !options.dryRun { report.metricsFailures = ExportMetrics.writeAll(config: config, context: context) }
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
    let seams: ExportSeams
    let httpOptions: HTTPOptions
    /// The transport of the fetches (the deletes open one per worker thread).
    let client: any ExportTransport
    var benchmark: Benchmark
    /// When the run started: the date of the CSVs it appends to, the reference of the automatic `after=`.
    let now: Date
    /// A scale hit a failure after which the run must not go on (see `RunStop`).
    var stopped = false
    /// The server's backlog from its list of scales, once read.
    var backlog: Backlog?
    /// scale → ids of withdrawn participants' entries (ledger/withdrawals.tsv): left out of every answer.
    let withdrawn: [String: Set<Int64>]
    let progress: ExportProgress

    static func run(server: ServerConfig, options: ExportOptions, context: CommandContext, seams: ExportSeams) -> ServerOutcome {
        var outcome = ServerOutcome(server: server.name)
        let logging: RunLogging
        // ExportNeeds first: the check `mt config check` makes, so that the two never disagree.
        do { try ExportNeeds.checkDataDirectory(server); logging = try context.makeLogging(for: server) } catch {
            outcome.error = ExportStepError.disk(error.asMTError).asMTError
            context.stderr.line(Untrusted.message("mt export: server \(server.name): \(outcome.error!.description)"))
            return outcome
        }
        let log = logging.logger
        let lock: DirectoryLock
        do { lock = try DirectoryLock(directory: server.path) } catch {
            let e = error.asMTError
            if e.exitCode == .tempFail { log.info("\(e.message)") } else { log.critical("\(e.message)") }
            outcome.error = e
            let subject = "mt export: \(server.name) needs attention"
            // Locked by another run: that run owns the alert state. A lock that cannot be taken at all (a symlink)
            // fails every 5 minutes: it repeats like any other alert.
            outcome.alertSent = e.exitCode == .tempFail || options.dryRun
                ? logging.sendAlerts(subject: subject)
                : logging.sendRepeatingAlerts(subject: subject, resolvedSubject: "mt export: \(server.name): resolved",
                                              footer: "The run did not start (exit \(e.exitCode.rawValue)): nothing was fetched or deleted.")
            return outcome
        }
        defer { lock.release() }
        let started = seams.now()
        // Under cron nobody sees a terminal warning: a key the admin meant but misspelt (DELET_MODE) is critical,
        // so it is in error.log and the alert mail, and the run exits 1.
        for m in server.misspeltKeys { log.critical("\(m)") }
        outcome.misspeltKeys = server.misspeltKeys
        do {
            var run = try ServerExport(server: server, options: options, context: context, logging: logging, seams: seams)
            outcome.scales = try run.exportScales()
            outcome.backlog = run.backlog
        } catch {
            let e = error.asMTError
            log.critical("\(e.message)\(e.hint.map { " (\($0))" } ?? "")")
            outcome.error = e
        }
        outcome.recordFailed = !ExportRunRecord.record(outcome, server: server, options: options, started: started, log: log)
        let subject = "mt export: \(server.name) needs attention"
        outcome.alertSent = options.dryRun
            ? logging.sendAlerts(subject: subject, footer: alertFooter(outcome))
            : logging.sendRepeatingAlerts(subject: subject, resolvedSubject: "mt export: \(server.name): resolved",
                                          footer: alertFooter(outcome))
        return outcome
    }

    /// What the alert mail may say of the run beyond its log lines: only what is true of it.
    static func alertFooter(_ outcome: ServerOutcome) -> String? {
        let failed = outcome.scales.filter { if case .failed = $0.status { true } else { false } }.map(\.scale)
        var parts: [String] = []
        if !failed.isEmpty {
            parts.append("Nothing more was deleted from \(failed.count == 1 ? "the scale" : "the scales") that failed (\(failed.map { Untrusted.text($0) }.joined(separator: ", "))) after the failure; the next run tries again.")
        }
        if let e = outcome.error {
            parts.append("The run stopped before its scales were done (exit \(e.exitCode.rawValue)); nothing was deleted after that; the next run tries again.")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "\n")
    }

    init(server: ServerConfig, options: ExportOptions, context: CommandContext, logging: RunLogging, seams: ExportSeams) throws {
        self.server = server
        self.options = options
        self.logging = logging
        layout = DataLayout(server: server)
        self.seams = seams
        now = seams.now()
        let layout = self.layout
        if FileSystem.exists(layout.withdrawalJournal) {
            throw MTError(.tempFail, "server \(server.name): a withdrawal was begun and not finished (\(layout.withdrawalJournal)); nothing is exported until it is",
                          hint: "run mt withdraw \(server.name) again (with any participant or --entries): it finishes the withdrawal first")
        }
        withdrawn = try ExportStepError.onDisk { try WithdrawalLedger(layout: layout).withdrawnIDs() }
        progress = ExportProgress(context: context)
        httpOptions = try HTTPOptions(server: server)
        try HTTPClient.checkURL(server.exportURL, options: httpOptions)
        client = try seams.connect(httpOptions)
        if server.privateFiles.isEmpty {
            keys = nil
            logging.logger.info("no PRIVATE_FILE configured: archiving only (a supported set-up); run mt recover where the private key lives to build the CSVs")
        } else {
            keys = try KeyRing.load(paths: server.privateFiles, passphrase: try server.passphraseForKeys(), environment: context.environment,
                                    allowReadable: context.global.allowReadableSecrets)
        }
        // A data directory with nothing of an earlier export (no state, archive or CSV) is a first run: its missing
        // benchmark is expected. One that had any of them and lost benchMark.json is not.
        // The alert state is not export's: a first run that failed before its benchmark leaves only that.
        let firstRun = [layout.state, layout.raw, layout.active].allSatisfy {
            ((try? FileSystem.list($0)) ?? []).allSatisfy { $0 == (AlertRepeat.path(root: layout.root) as NSString).lastPathComponent }
        }
        try DataIdentity.claim(server: server, layout: layout, write: !options.dryRun)
        if !options.dryRun {
            try ExportStepError.onDisk {
                try layout.create()
                // Both ledgers must take a line before anything relies on them (an archive, a DELETE).
                for ledger in [layout.checksums, layout.deletions] { try FileSystem.checkAppendable(ledger) }
            }
            Self.removeStaleTemporaries(layout: layout, log: logging.logger)
            let interrupted = try ExportStepError.onDisk { try ExportArchive.recordInterrupted(layout: layout) }
            for name in interrupted.entered {
                logging.logger.warning("entered the checksum of \(name) in \(layout.checksums): a run was stopped after naming the archive and before entering it")
            }
            for (name, e) in interrupted.unreadable {
                logging.logger.critical("\(name), named by a run that was stopped before entering its checksum, does not read back (\(e.message)); it is left out of \(layout.checksums), and mt verify reports it")
            }
        }
        if let b = try Benchmark.read(path: layout.benchmark) {
            benchmark = b
            for w in b.warnings { logging.logger.warning("\(w)") }
            // Written back at once in whole numbers, so the warning is given once, not every 5 minutes.
            if !b.warnings.isEmpty && !options.dryRun { try ExportStepError.onDisk { try b.write(path: layout.benchmark) } }
        } else {
            let empty = Benchmark()
            benchmark = empty
            if !options.dryRun {
                try ExportStepError.onDisk { try empty.write(path: layout.benchmark) }
                if firstRun {
                    logging.logger.info("first run on the empty data directory \(layout.root): created \(layout.benchmark); every entry on the server counts as new")
                } else {
                    logging.logger.critical("no benchmark file at \(layout.benchmark): created an empty one; every entry on the server counts as new (if this server was exported before, restore the old benchMark.json)")
                }
            }
        }
    }

    /// The study server stops serving sessions once its deleteable records pass its limit: said at 50% (warning,
    /// also in the alert mail) and at 80% (critical), while there is still time to find out why exports lag.
    mutating func watchBacklog(_ b: Backlog) {
        backlog = b
        let text = "server \(server.name) holds \(b.records) records of deleteable scales, \(b.percent) of SERVER_MAX_RECORDS \(b.limit): past \(b.limit) the study server stops showing sessions to participants"
        switch b.level {
        case .critical:
            logging.logger.critical("\(text); check that deletes succeed (DELETE_MODE, failed DELETEs, held-back entries) now")
        case .warning:
            let line = "\(text); check that exports delete what they archive"
            logging.logger.warning("\(line)")
            logging.alerts.add("\(LocalTime.stamp(Date())) WARNING export \(server.name) - \(line)\n")
        case .normal:
            logging.logger.debug("\(text)")
        }
    }

    mutating func exportScales() throws -> [ScaleOutcome] {
        let list = try FetchStep.get(server.exportURL, what: "list of scales", transport: client)
        let scales = try ExportValidation.scaleList(list, server: server.name, url: server.exportURL)
        watchBacklog(Backlog(scales: scales, limit: server.maxRecords, time: now.timeIntervalSince1970))
        if case .named(let name) = options.scales, !scales.contains(where: { $0.name == name }) {
            let names = scales.map(\.name)
            let close = Suggest.closest(to: name, in: names).map { "did you mean '\(Untrusted.text($0))'? " } ?? ""
            let shown = names.prefix(50).map { Untrusted.text($0) } + (names.count > 50 ? ["… \(names.count - 50) more"] : [])
            throw MTError(.usage, "server \(server.name) has no scale named '\(Untrusted.text(name))'",
                          hint: "\(close)scales on the server: \(shown.joined(separator: ", "))")
        }
        var out = try vanished(from: scales)
        let selected = scales.filter { options.scales.includes($0) }
        for (i, info) in selected.enumerated() {
            progress.scale(server: server.name, scale: info.name, index: i + 1, count: selected.count)
            out.append(exportScale(info))
            if stopped { break }
        }
        return out
    }

    /// Scales exported before that the list no longer holds: an error line each (exit 1); an empty list from a
    /// server whose scales this directory exported is the server's failure (the wrong server, or its tables gone).
    func vanished(from scales: [ScaleInfo]) throws -> [ScaleOutcome] {
        let gone = try ExportStepError.onDisk { try layout.vanishedScales(listed: scales.map(\.name)) }
            .map { ScaleInfo(name: $0, deleteable: (try? ExportScaleState.load(scale: $0, layout: layout))?.deleteable ?? true) }
            .filter { options.scales.includes($0) }
        guard !gone.isEmpty else { return [] }
        if scales.isEmpty {
            let names = gone.prefix(10).map(\.name).joined(separator: ", ") + (gone.count > 10 ? ", …" : "")
            throw MTError(.unavailable, "the server's list of scales is empty, but this data directory exported \(gone.count) of them (\(names))",
                          hint: "check that SERVER (\(server.exportURL)) is this study's server and that its database is intact; nothing was deleted")
        }
        return gone.map { info in
            logging.logger(scale: info.name).error("the server's list of scales no longer holds \(info.name), which this data directory exported before; its CSVs and archives stay. If the table was removed on purpose, move \(layout.exportState(scale: info.name)) aside to stop this warning")
            var o = ScaleOutcome(scale: info.name, deleteable: info.deleteable)
            o.status = .vanished
            o.exit = .problems
            return o
        }
    }

    /// One scale; every failure ends here, logged at critical (so mailed) and turned into the scale's exit code.
    mutating func exportScale(_ info: ScaleInfo) -> ScaleOutcome {
        var outcome = ScaleOutcome(scale: info.name, deleteable: info.deleteable)
        let log = logging.logger(scale: SafeName.isValidScale(info.name) ? info.name : "?")
        do {
            try exportScale(info, &outcome, log)
        } catch {
            let e = error.asMTError
            if error is RunStop { stopped = true }
            log.critical("\(e.message)\(e.hint.map { " (\($0))" } ?? ""); nothing more is deleted from this scale in this run")
            outcome.exit = max(outcome.exit, e.exitCode)
            outcome.status = .failed(e.message)
        }
        return outcome
    }

    /// The steps of one scale: state → fetch → validate → archive → write CSV → delete → mark. Each step throws its
    /// own `ExportStepError`; the scale's state is saved only through `save(_:scale:)`.
    mutating func exportScale(_ info: ScaleInfo, _ outcome: inout ScaleOutcome, _ log: Logger) throws {
        let scale = info.name
        try ValidateStep.scaleName(scale, server: server.name)
        var (state, written, unsure) = try loadState(scale: scale, log: log)
        let csv = ExportCSV(layout: layout, scale: scale)
        if let pending = state.pending, !options.dryRun {
            outcome.written += try replay(pending, scale: scale, csv: csv, written: &written, state: &state, log: log)
        }
        let short = keys == nil || options.dryRun ? [] : csv.shortened(state)
        if !short.isEmpty {
            outcome.written += try restoreLostRows(short, scale: scale, csv: csv, written: &written, state: &state, outcome: &outcome, log: log)
            unsure = true
            outcome.exit = max(outcome.exit, .problems)
        }

        if let was = state.deleteable, was != info.deleteable {
            log.critical("the server lists \(scale) as \(info.deleteable ? "deleteable" : "non-deleteable") now (it was \(was ? "deleteable" : "non-deleteable")): every row already in its CSVs stays; new rows are added as before")
            outcome.exit = max(outcome.exit, .problems)
        }
        state.deleteable = info.deleteable

        let plan = FetchStep.plan(requested: options.after, info: info, state: state, unsure: unsure, now: now)
        if let future = plan.futureFetch {
            log.warning("the last fetch of \(scale) is recorded in the future of this machine's clock (\(AfterStamp(date: future)) UTC): ignored; this run fetches the whole scale")
        }
        let after = plan.after
        let fetchStart = seams.now()
        let url = server.exportURL + "/" + scale + (after.map { "?after=" + $0.text } ?? "")
        // The answer streams into the archive's temporary file as it is validated; a dry run keeps nothing.
        var spool = options.dryRun ? nil : try ExportStepError.onDisk { try ExportArchive.Spool(scale: scale, layout: layout) }
        defer { spool?.discard() }
        var fetched = try FetchStep.scale(url, scale: scale, transport: client, spool: spool,
                                          bar: progress.fetch(label: "\(server.name) \(scale) fetch"))
        // A withdrawn participant's entries leave the answer before anything is archived or written.
        let gone = withdrawn[scale].map { w in fetched.ids.filter(w.contains) } ?? []
        if let sent = spool, !gone.isEmpty {
            (fetched, spool) = try ExportStepError.onDisk { try ExportArchive.leaveOut(Set(gone), fetched, spool: sent, layout: layout) }
        } else if !gone.isEmpty {
            // A dry run counts what a real run would write.
            let keep = fetched.ids.indices.filter { !gone.contains(fetched.ids[$0]) }
            (fetched.ids, fetched.hashes) = (keep.map { fetched.ids[$0] }, keep.map { fetched.hashes[$0] })
        }
        if !gone.isEmpty {
            log.info("left out \(gone.count) entries of withdrawn participants (ledger/withdrawals.tsv)\(info.deleteable ? "; they are deleted from the server" : "")")
        }
        outcome.fetched = fetched.count
        if fetched.isEmpty, after == nil, let size = info.size, size > 0 {
            // Not an error (nothing is lost: nothing was sent, nothing is deleted), but a server that lists
            // entries and sends none is filtering or broken, and someone should look.
            outcome.status = .emptyAnswer(listed: size)
            log.warning("the server lists \(size) entries for this scale but its answer held none; nothing was archived or deleted; check the server")
        }

        let triage = Triage(fetched, written: written)
        let canDelete = server.deleteMode && info.deleteable && !options.noDelete
        guard let spool else {
            outcome.status = .dryRun("would archive \(fetched.count), write \(triage.freshCount)"
                + (triage.conflicts.isEmpty ? "" : ", hold back \(triage.conflicts.count)")
                + (canDelete ? ", delete up to \(fetched.count - triage.conflicts.count)" : ""))
            return
        }

        let kind: ArchiveKind = info.deleteable ? .batch : after.map { .after($0.text) } ?? .full
        let archived = try ArchiveStep.run(fetched, spool: spool, triage: triage, canDelete: canDelete, state: state, kind: kind,
                                           time: fetchStart, layout: layout)
        let archive = archived.name
        if archived.writtenNow, let name = archive {
            outcome.archive = name
            outcome.archived = fetched.count
            log.debug("archived \(fetched.count) entries in \(name)")
        } else if archive != nil {
            outcome.status = .unchanged
        }

        // Held back before anything is written or deleted, and durable before any DELETE of this run.
        let heldNow = Set(triage.conflicts)
        let held = triage.heldBack(before: state.heldBack, fullFetch: plan.full)
        state.heldBack = held.held
        if !held.nowMatching.isEmpty {
            log.warning("\(held.nowMatching.count) entries held back by an earlier run now match what the written set records (\(Self.idList(held.nowMatching))); they stay held back, never deleted by mt export, because a rebuilt written set may vouch for the wrong content: check them, then mt benchmark \(server.name) release \(scale) lets go of them")
        }
        if !heldNow.isEmpty {
            log.critical("\(heldNow.count) entries have the id of an entry already in the CSVs but other content (\(Self.idList(Array(heldNow)))); the server's ids may have restarted. They are held back: not written to the CSVs and never deleted by mt export; the server's copy is kept in \(archive ?? "no archive"). Check them on the server; to keep both entries of each such id, mt benchmark \(server.name) release \(scale) writes them to the CSVs, and the next run deletes them; mt recover \(server.name) \(scale) builds a CSV that keeps both. If the server's database was rebuilt, move the scale's CSVs out of \(layout.active) and \(layout.writtenSet(scale: scale)) out of \(layout.state) (they belong to the old database): the next run writes the new entries")
            outcome.exit = max(outcome.exit, .problems)
        }
        try save(state, scale: scale)

        // The DELETEs start now, with what the CSVs already hold; each batch the CSV step commits joins them.
        let heldBack = Set(state.heldBack)
        let deletes = canDelete ? archive.map { startDeletes(fetched, triage: triage, written: written, heldBack: heldBack, info: info, archive: $0, state: state, outcome: &outcome, log: log) } : nil
        // Withdrawn entries still on the server are deleted too, entered in the deletion ledger under the
        // withdrawal ledger's name: no archive holds them, the withdrawal ledger accounts for them.
        let none = FetchedScale(scaleName: scale)
        let withdrawnDeletes = canDelete && !gone.isEmpty
            ? startDeletes(none, triage: Triage(none, written: written), written: written, heldBack: heldBack, info: info,
                           archive: WithdrawalLedger.deletionArchive, state: state, outcome: &outcome, log: log) : nil
        withdrawnDeletes?.add(gone)
        do {
            if let archive, triage.freshCount > 0 {
                try writeCSV(fetched, triage, scale: scale, csv: csv, archive: archive, written: &written, state: &state, outcome: &outcome, log: log) { batch, written in
                    deletes?.add(batch.filter { DeleteStep.isReady($0.id, hash: $0.hash, written: written, heldBack: heldBack) }.map(\.id))
                }
            }
        } catch {
            // Entries already handed over are in the CSVs: their DELETEs finish, and the mark records them.
            if let deletes, let archive { try? finishDeletes(deletes, fetched, archive: archive, state: &state, outcome: &outcome, log: log) }
            if let withdrawnDeletes { try? finishDeletes(withdrawnDeletes, none, archive: WithdrawalLedger.deletionArchive, state: &state, outcome: &outcome, log: log) }
            try? save(state, scale: scale)
            throw error
        }
        if let deletes, let archive { try finishDeletes(deletes, fetched, archive: archive, state: &state, outcome: &outcome, log: log) }
        if let withdrawnDeletes { try finishDeletes(withdrawnDeletes, none, archive: WithdrawalLedger.deletionArchive, state: &state, outcome: &outcome, log: log) }

        try mark(fetched, info: info, plan: plan, fetchStart: fetchStart, archived: archived, written: written, state: &state)
        if case .ok = outcome.status, outcome.exit != .ok { outcome.status = .problems }
    }

    /// The scale's state, written set and whether they can be trusted. State that cannot be trusted is rebuilt,
    /// never forgotten: the damaged file stays beside it. `unsure` makes the run fetch the whole scale.
    func loadState(scale: String, log: Logger) throws -> (ExportScaleState, WrittenSet, Bool) {
        var unsure = false
        var state: ExportScaleState
        do {
            state = try ExportStepError.onDisk { try ExportScaleState.load(scale: scale, layout: layout) }
        } catch ExportStepError.disk(let e) where e.exitCode == .dataError && !options.dryRun {
            let p = layout.exportState(scale: scale)
            let aside = p + ".damaged"
            do { try FileSystem.renameDurably(p, to: aside) } catch { throw ExportStepError.disk(e) }
            log.critical("\(e.message); kept as \(aside) and rebuilt from the archives and the CSVs: this run fetches the whole scale and deletes only entries found in the CSVs")
            state = ExportScaleState()
            unsure = true
        }
        let csv = ExportCSV(layout: layout, scale: scale)
        let setPath = layout.writtenSet(scale: scale)
        if let pending = state.pending, !options.dryRun { try ExportStepError.onDisk { try csv.rollBack(pending) } }
        var loaded: WrittenSet?
        // A journal of the version before the written set: the set is rebuilt from the CSVs just cut back.
        if !unsure && (state.pending?.written ?? 0) >= 0 {
            do { loaded = try ExportStepError.onDisk { try WrittenSet.load(path: setPath, repair: !options.dryRun) } }
            catch ExportStepError.disk(let e) where e.exitCode == .dataError {
                log.critical("\(e.message): the record of what the CSVs hold is damaged; it is rebuilt from the archives and the CSVs")
                unsure = true
            }
        }
        // A set recorded from archives (no key) does not say what the CSVs hold: with a key it is rebuilt from them.
        if loaded != nil && keys != nil && state.writtenSource == .archives {
            log.warning("PRIVATE_FILE is configured now: \(setPath) recorded archived entries; it is rebuilt from the CSVs")
            loaded = nil
        }
        if let loaded { return (state, loaded, unsure) }
        let (rebuilt, unreadable) = try ExportStepError.onDisk { try WrittenSet.rebuild(scale: scale, layout: layout, fromCSVs: keys != nil) }
        if !unreadable.isEmpty { log.error("archives that could not be read while rebuilding \(setPath): \(unreadable.joined(separator: ", "))") }
        if rebuilt.count > 0 || unsure {
            if !unsure { log.warning("rebuilt \(setPath) from the \(keys != nil ? "CSVs" : "archives") (\(rebuilt.count) entries): this run fetches the whole scale") }
            unsure = true
        }
        if !options.dryRun { try ExportStepError.onDisk { try rebuilt.write(path: setPath) } }
        // The rebuilt set vouches for exactly what the CSVs hold now.
        state.csvLengths = try ExportStepError.onDisk { try csv.lengthsNow() }
        return (state, rebuilt, unsure)
    }

    /// CSVs that lost rows the written set vouches for (`ExportCSV.shortened`): the set is rebuilt from what the
    /// CSVs hold, and every entry it named that they lack is written again from the archives, before anything of
    /// the scale is deleted, so the set never vouches for rows that are not there.
    func restoreLostRows(_ short: [(csv: String, committed: Int64, now: Int64)], scale: String, csv: ExportCSV,
                         written: inout WrittenSet, state: inout ExportScaleState, outcome: inout ScaleOutcome,
                         log: Logger) throws -> Int {
        guard let keys else { return 0 }
        let setPath = layout.writtenSet(scale: scale)
        let files = short.map { "\($0.csv) (\($0.now) of \($0.committed) bytes)" }.joined(separator: ", ")
        log.critical("\(files) in \(layout.active) lost rows that \(setPath) records as written (a power cut took data the disk had not kept, or the file was edited): the set is rebuilt from the CSVs, and the entries they lack are written again from the archives before anything of this scale is deleted")
        let (rebuilt, unreadable) = try ExportStepError.onDisk { try WrittenSet.rebuild(scale: scale, layout: layout, fromCSVs: true) }
        if !unreadable.isEmpty { log.error("archives that could not be read while rebuilding \(setPath): \(unreadable.joined(separator: ", "))") }
        var missing = written.missing(from: rebuilt)
        written = rebuilt
        state.csvLengths = try ExportStepError.onDisk {
            try rebuilt.write(path: setPath)
            return try csv.lengthsNow()
        }
        state.writtenEntries = written.count
        try save(state, scale: scale)
        guard !missing.isEmpty else { return 0 }
        var decryptor = try CSVDecryptor(keys: keys, scale: scale, log: log)
        var restored = 0
        let archives = try ExportStepError.onDisk { try layout.archives(scale: scale) }
        for name in archives where !missing.isEmpty {
            var rows: [JSONValue] = []
            var hashes: [Int64: UInt64] = [:]
            try ExportStepError.onDisk {
                try ArchiveReader.forEachEntry(layout: layout, archive: name) { e in
                    guard let id = e["id"]?.int64Value, hashes[id] == nil, let wanted = missing[id] else { return }
                    let h = WrittenSet.hash(e)
                    guard wanted.contains(h) else { return }
                    hashes[id] = h
                    rows.append(e)
                    let rest = wanted.filter { $0 != h }
                    missing[id] = rest.isEmpty ? nil : rest
                }
            }
            guard !rows.isEmpty else { continue }
            let plain = try decryptor.decrypt(rows, outcome: &outcome)
            let csvName = csvFileName(scale)
            restored += try ExportStepError.onDisk {
                try csv.append(plain, hashes: hashes, archive: name.fileName, csvName: csvName, written: &written, state: &state)
            }
        }
        try decryptor.finish(outcome: &outcome)
        log.warning("wrote \(restored) entries again from the archives into \(csvFileName(scale))")
        if !missing.isEmpty {
            log.critical("\(missing.count) entries recorded as written are in no readable archive either (\(Self.idList(Array(missing.keys)))): they cannot be written again; mt verify \(server.name) lists what is missing")
        }
        return restored
    }

    /// The one place the engine saves a scale's state (the CSV step's journal aside, which `ExportCSV` commits).
    func save(_ state: ExportScaleState, scale: String) throws {
        try ExportStepError.onDisk { try state.save(scale: scale, layout: layout) }
    }

    /// How many entries the CSV step decrypts and appends at a time: each batch is one journalled append (and its
    /// entries may be deleted once it is committed); memory holds one batch, never the whole answer.
    static let csvBatch = 2000
    /// The same without a key: ids and hashes only, so larger batches.
    static let recordBatch = 20_000

    /// Step 4, write CSV: the new entries, streamed from the verified archive, decrypted and appended in batches
    /// under the journal; `committed` gets each batch once it is durable. Without a key the verified archive is
    /// what recover uses, and recording its entries as written lets them be deleted.
    func writeCSV(_ fetched: FetchedScale, _ triage: Triage, scale: String, csv: ExportCSV, archive: String,
                  written: inout WrittenSet, state: inout ExportScaleState, outcome: inout ScaleOutcome, log: Logger,
                  committed: (_ batch: [(id: Int64, hash: UInt64)], _ written: WrittenSet) -> Void) throws {
        written.reserveCapacity(written.count + triage.freshCount)
        if let keys {
            guard let name = ArchiveName.parse(archive) else { throw MTError(.software, "\(archive) is not an archive name") }
            var decryptor = try CSVDecryptor(keys: keys, scale: scale, log: log)
            var batch: [JSONValue] = []
            var hashes: [Int64: UInt64] = [:]
            func flush(_ written: inout WrittenSet, _ state: inout ExportScaleState, _ outcome: inout ScaleOutcome) throws {
                guard !batch.isEmpty else { return }
                let plain = try decryptor.decrypt(batch, outcome: &outcome)
                let name = csvFileName(scale)
                outcome.written += try ExportStepError.onDisk {
                    try csv.append(plain, hashes: hashes, archive: archive, csvName: name, written: &written, state: &state)
                }
                committed(hashes.map { (id: $0.key, hash: $0.value) }, written)
                batch.removeAll(keepingCapacity: true)
                hashes.removeAll(keepingCapacity: true)
            }
            try ExportStepError.onDisk {
                try ArchiveReader.forEachEntry(path: layout.archivePath(name), kind: name.kind) { entry, at in
                    let i = at.index
                    guard i < fetched.count, entry["id"]?.int64Value == fetched.ids[i] else {
                        throw MTError(.dataError, "\(layout.archivePath(name)): entry \(i + 1) is not the one the server sent; the archive changed after it was verified",
                                      hint: "check the disk; nothing more of this scale is written or deleted in this run")
                    }
                    guard triage.verdicts[i] == .fresh else { return }
                    batch.append(entry)
                    hashes[fetched.ids[i]] = fetched.hashes[i]
                    if batch.count >= Self.csvBatch { try flush(&written, &state, &outcome) }
                }
            }
            try flush(&written, &state, &outcome)
            try decryptor.finish(outcome: &outcome)
        } else {
            // Recorded in batches, each durable before its entries may be deleted.
            var records: [(id: Int64, hash: UInt64)] = []
            func flush(_ written: inout WrittenSet) throws {
                try ExportStepError.onDisk { try WrittenSet.append(records.map { ($0.id, Optional($0.hash)) }, path: layout.writtenSet(scale: scale)) }
                for (id, h) in records { written.insert(id, hash: h) }
                committed(records, written)
                records.removeAll(keepingCapacity: true)
            }
            for i in fetched.ids.indices where triage.verdicts[i] == .fresh {
                records.append((fetched.ids[i], fetched.hashes[i]))
                if records.count >= Self.recordBatch { try flush(&written) }
            }
            if !records.isEmpty { try flush(&written) }
        }
        if let mark = state.deleteMark ?? benchmark.marks[scale]?.current {
            let late = fetched.ids.indices.filter { triage.verdicts[$0] == .fresh && fetched.ids[$0] <= mark }.map { fetched.ids[$0] }
            if !late.isEmpty && state.lastFetch != nil {
                log.warning("\(late.count) entries at or below \(mark), the highest id already deleted, arrived late (\(Self.idList(late))): written now")
            }
        }
    }

    /// Step 6, mark: the benchmark's highest id and the state's fetch times, saved last.
    mutating func mark(_ fetched: FetchedScale, info: ScaleInfo, plan: FetchStep.Plan, fetchStart: Date,
                       archived: ArchiveStep.Result, written: WrittenSet, state: inout ExportScaleState) throws {
        let scale = info.name
        // The written set too: a run killed after its DELETEs and before this step left entries written (and gone
        // from the server) that no later fetch shows.
        if let top = [fetched.ids.max(), written.maxID].compactMap({ $0 }).max() {
            let old = benchmark.marks[scale]
            let mark = Benchmark.Mark(current: max(old?.current ?? top, top), deleteable: info.deleteable)
            if old != mark {
                benchmark.marks[scale] = mark
                let b = benchmark
                try ExportStepError.onDisk { try b.write(path: layout.benchmark) }
            }
        }
        state.lastFetch = fetchStart.timeIntervalSince1970
        if plan.full {
            state.lastFullFetch = fetchStart.timeIntervalSince1970
            state.dateBearing = !fetched.isEmpty && fetched.allDated
        } else if !fetched.allDated {
            state.dateBearing = false
        }
        state.writtenEntries = written.count
        state.writtenSource = keys != nil ? .csvs : .archives
        if archived.writtenNow { state.lastBodySHA256 = archived.sha256; state.lastArchive = archived.name }
        try save(state, scale: scale)
    }

    /// Step 5 begins: the DELETEs of the entries ready now (the CSVs hold them with this content). Entries already
    /// written before this run and at or below the delete mark are leftovers, reported (see ARCHITECTURE.md).
    func startDeletes(_ fetched: FetchedScale, triage: Triage, written: WrittenSet, heldBack: Set<Int64>, info: ScaleInfo,
                      archive: String, state: ExportScaleState, outcome: inout ScaleOutcome, log: Logger) -> DeleteStep.Running {
        let scale = info.name
        let ready = DeleteStep.ready(fetched, written: written, heldBack: heldBack)
        // A scale this version of mt has deleted from before: its own mark; otherwise (first run after the
        // original tool) the benchmark the original left.
        if let mark = state.deleteMark ?? (state.lastFetch == nil ? benchmark.marks[scale]?.current : nil) {
            let known = Set(triage.known)
            let leftovers = ready.filter { $0 <= mark && known.contains($0) }
            if !leftovers.isEmpty {
                log.critical("\(leftovers.count) entries at or below \(mark), the highest id already deleted, are still on the server (\(Self.idList(leftovers))); they are in the CSVs with the same content and are deleted now")
                outcome.exit = max(outcome.exit, .problems)
            }
        }
        let base = server.exportURL + "/" + scale + "/"
        var deleter = ExportDeleter(options: httpOptions, deleteURL: { base + String($0) },
                                    concurrency: options.concurrency ?? server.concurrency,
                                    maxConcurrency: server.maxConcurrency, retries: server.retries)
        let (connect, http) = (seams.connect, httpOptions)
        deleter.connect = { try connect(http) }
        let expected = ready.count + triage.freshCount
        let bar = expected == 0 ? nil : progress.deletes(label: "\(server.name) \(scale) delete", total: expected)
        let tick: (@Sendable () -> Void)? = bar.map { b in { @Sendable in b.tick() } }
        let running = DeleteStep.Running(deleter: deleter, scale: scale, archive: archive, ledger: DeletionLedger(layout: layout),
                                         log: log, expected: expected, progress: tick, finished: { bar?.finish() })
        running.add(ready)
        return running
    }

    /// Step 5 ends: waits for the last DELETE, then counts and reports.
    func finishDeletes(_ running: DeleteStep.Running, _ fetched: FetchedScale, archive: String, state: inout ExportScaleState,
                       outcome: inout ScaleOutcome, log: Logger) throws {
        let done = try running.finish(fetched, heldBack: Set(state.heldBack), mark: state.deleteMark)
        state.deleteMark = done.mark
        guard !done.sent.isEmpty else { return }
        let r = done.result
        outcome.deleted += r.deleted + r.gone
        outcome.failed += r.failed
        if r.gone > 0 { log.info("\(r.gone) entries were already gone (404), probably deleted by a run that was interrupted") }
        if let stop = r.stop {
            log.critical("\(stop.message)\(stop.hint.map { " (\($0))" } ?? "")")
            outcome.exit = max(outcome.exit, stop.exitCode)
            outcome.status = .failed(stop.message)
        }
        if r.failed > 0 {
            log.critical("\(r.failed) DELETEs failed after \(server.retries) retries; the entries stay on the server (archived in \(archive)) and are retried next run")
            outcome.exit = max(outcome.exit, .unavailable)
            outcome.status = .deletesFailed(r.failed)
        }
        let what = archive == WithdrawalLedger.deletionArchive ? "of withdrawn participants" : "archived in \(archive)"
        log.info("deleted \(r.deleted + r.gone) entries \(what) (up to \(r.peakConcurrency) at once, halved \(r.backoffs) times)")
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
        var hashes: [Int64: UInt64] = [:]
        var rows: [JSONValue] = []
        let known = written
        try ArchiveReader.forEachEntry(layout: layout, archive: name) { e in
            // By content, not id: the journal of a release names ids already written with their first entry.
            guard let id = e["id"]?.int64Value, IDRanges.contains(pending.ids, id) else { return }
            let h = WrittenSet.hash(e)
            guard known.verdict(id: id, hash: h) != .same else { return }
            hashes[id] = h
            rows.append(e)
        }
        var ignored = ScaleOutcome(scale: scale, deleteable: true)
        var decryptor = try CSVDecryptor(keys: keys, scale: scale, log: log)
        let plain = try decryptor.decrypt(rows, outcome: &ignored)
        try decryptor.finish(outcome: &ignored)
        state.pending = nil
        return try ExportStepError.onDisk {
            try csv.append(plain, hashes: hashes, archive: pending.archive, csvName: pending.csv, written: &written, state: &state)
        }
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
}

extension ExportRunRecord {
    /// The end of an export run: record it; false when the record could not be written. A failure is logged at
    /// critical (so mailed) and makes the run exit 1, never thrown: the run's own work stands.
    static func record(_ outcome: ServerOutcome, server: ServerConfig, options: ExportOptions, started: Date, log: Logger) -> Bool {
        guard !options.dryRun else { return true }
        let layout = DataLayout(server: server)
        let previous: ExportRunRecord?
        do { previous = try load(layout: layout) } catch {
            log.error("\(error.asMTError.message); starting a new run record")
            previous = nil
        }
        let deleting = server.deleteMode && !options.noDelete
        let record = after(outcome, previous: previous, started: started, finished: Date(), deleting: deleting)
        do { try record.save(layout: layout) } catch {
            log.critical("could not write the export run record \(path(layout: layout)): \(error.asMTError.message) (mt status and the metrics will show this run as missing; this run exits 1)")
            return false
        }
        return true
    }
}
