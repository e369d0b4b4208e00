import Foundation
import MTCore

/// The outcome of `mt verify` on one server's data directory.
struct VerifyReport: Sendable {
    var server: String
    var root: String
    var findings: [VerifyFinding] = []
    /// Checks that were skipped, and why (not problems).
    var notes: [String] = []
    var archives = 0
    var csvFiles = 0
    var archivedIDs = 0
    var deletions = 0
    /// Set when `--remote` was asked and the server could not be asked.
    var remoteError: MTError?
    /// The run that held the data directory's lock while it was checked (an export at work), if any.
    var lockHolder: DirectoryLock.Holder?

    var ok: Bool { findings.isEmpty && remoteError == nil }

    var json: JSONValue {
        .object([
            ("server", .string(server)),
            ("path", .string(root)),
            ("ok", .bool(ok)),
            ("checked", .object([
                ("archives", .int(archives)), ("csvFiles", .int(csvFiles)),
                ("archivedIds", .int(archivedIDs)), ("deletions", .int(deletions)),
            ])),
            ("notes", .array(notes.map(JSONValue.string))),
            ("lockHeld", lockHolder.map { h in
                .object([("pid", .int(Int64(h.pid))),
                         ("since", .string(LocalTime.stamp(h.since)))])
            } ?? .null),
            ("remoteError", remoteError.map { .string($0.description) } ?? .null),
            ("findings", .array(findings.map(\.json))),
        ])
    }
}

/// `mt verify`: proves that nothing was lost and nothing sensitive was left behind in a data directory
/// (see ARCHITECTURE.md, safety invariants), the way restic's `check` proves a repository. Read-only: it never repairs, it says what to run.
struct Verifier {
    let server: ServerConfig
    let layout: DataLayout
    var remote = false
    /// Where progress bars go (stderr on a terminal), or nil.
    var progressOutput: Output?

    init(server: ServerConfig, remote: Bool = false, progressOutput: Output? = nil) {
        self.server = server
        layout = DataLayout(server: server)
        self.remote = remote
        self.progressOutput = progressOutput
    }

    /// How an admin names this server on the command line, for the commands in hints.
    private var s: String { FileSystem.shellQuote(server.name) }

    func run() throws -> VerifyReport {
        guard FileSystem.isDirectory(layout.root) else {
            throw MTError(.noInput, "server \(server.name): data directory \(layout.root) does not exist",
                          hint: "check PATH in \(server.configFile), or run mt export \(s) first")
        }
        var report = VerifyReport(server: server.name, root: layout.root)
        report.lockHolder = DirectoryLock.holder(of: layout.root)

        let names = try layout.archives()
        let archives = withProgress("archives", names.count, unit: "archives") { ArchiveScan.summarize(names, layout: layout, progress: $0) }
        report.archives = archives.count
        report.findings += archiveFindings(archives)
        report.findings += checksumFindings(archives)
        let (shelveFound, shelveNotes) = shelveFindings(converted: names)
        report.findings += shelveFound
        report.notes += shelveNotes

        var archived: [String: [Int64: String]] = [:] // scale → id → first archive holding it
        var firstContent: [String: [Int64: UInt64]] = [:]
        // Entries released by hand (`mt benchmark release`): the CSVs hold both contents of such an id on purpose.
        var writtenSets: [String: WrittenSet] = [:]
        func written(_ scale: String) -> WrittenSet {
            if let w = writtenSets[scale] { return w }
            let w = ((try? WrittenSet.load(path: layout.writtenSet(scale: scale))) ?? nil) ?? WrittenSet()
            writtenSets[scale] = w
            return w
        }
        for a in archives {
            var ids = archived[a.name.scale] ?? [:]
            var contents = firstContent[a.name.scale] ?? [:]
            for (id, h) in zip(a.ids, a.hashes) {
                if ids[id] == nil {
                    ids[id] = a.path
                    contents[id] = h
                } else if contents[id] != h, written(a.name.scale).accepted(id) < 2
                            || written(a.name.scale).verdict(id: id, hash: h) != .same {
                    report.findings.append(VerifyFinding(.contentDiffers, path: a.path, scale: a.name.scale, id: id,
                                                         message: "\(a.name.scale) id \(id) is held here with other content than in \(ids[id]!): the server's ids restarted or the entry changed; the active CSVs hold the first",
                                                         hint: "mt recover \(s) \(a.name.scale) builds a CSV that keeps both; mt export holds such entries back on the server"))
                }
            }
            archived[a.name.scale] = ids
            firstContent[a.name.scale] = contents
        }
        report.archivedIDs = archived.values.reduce(0) { $0 + $1.count }

        let withdrawals = WithdrawalLedger(layout: layout)
        var withdrawn: [String: Set<Int64>] = [:]
        do {
            let read = try withdrawals.read()
            for e in read.entries { withdrawn[e.scale, default: []].insert(e.id) }
            report.findings += withdrawalFindings(archives, replacements: read.replacements, withdrawn: withdrawn,
                                                  rewritten: Set(read.entries.map(\.archive)))
        } catch {
            report.findings.append(VerifyFinding(.ledgerUnreadable, path: withdrawals.path, message: error.asMTError.message,
                                                 hint: "restore ledger/withdrawals.tsv from a backup"))
        }
        let (deletionFindings, ledgerLines) = deletionLedgerFindings(archived: archived, archives: Set(names.map(\.fileName)),
                                                                     withdrawn: withdrawn)
        report.findings += deletionFindings
        report.deletions = ledgerLines.values.reduce(0, +)
        report.findings += lostContentsFindings(ledgerLines: ledgerLines, archives: names)

        var benchmark: Benchmark?
        do { benchmark = try Benchmark.read(path: layout.benchmark) } catch {
            report.findings.append(VerifyFinding(.benchmarkUnreadable, path: layout.benchmark, message: error.asMTError.message,
                                                 hint: "repair it: mt benchmark \(s) rebuild (from the archives), or mt benchmark \(s) import ORIGINAL.json; the broken file is kept"))
        }
        report.findings += benchmarkFindings(benchmark, archived: archived)

        let files = try CSVScan.files(layout: layout)
        let csvs = withProgress("CSV files", files.count, unit: "files") { CSVScan.summarize(files, progress: $0) }
        report.csvFiles = csvs.count
        for c in csvs { report.findings += c.findings }
        for c in csvs {
            guard let scale = c.scale, let gone = withdrawn[scale] else { continue }
            for o in c.ids where gone.contains(o.id) {
                report.findings.append(VerifyFinding(.withdrawnPresent, path: c.path, line: o.line, scale: scale, id: o.id,
                                                     message: "\(scale) id \(o.id) belongs to a withdrawn participant (ledger/withdrawals.tsv) but this CSV still holds it",
                                                     hint: "finish the withdrawal: mt withdraw \(s) --entries \(scale):\(o.id) --yes"))
            }
        }
        if server.privateFiles.isEmpty {
            report.notes.append("server \(server.name) has no PRIVATE_FILE (archive-only set-up): archived ids were not matched with CSV rows")
        } else {
            report.findings += coverageFindings(csvs, archived: archived, released: { written($0).accepted($1) })
        }

        report.findings += permissionFindings()

        if remote {
            do { report.findings += try remoteFindings(benchmark: benchmark, archived: archived) } catch {
                report.remoteError = error.asMTError
            }
        }
        // Asked again at the end: an export that started or ended during the check counts too.
        if let holder = report.lockHolder ?? DirectoryLock.holder(of: layout.root) {
            report.lockHolder = holder
            report.notes.append("an export holds the lock of \(layout.root) (\(holder.description)); findings marked \"may be work in progress\" can be its unfinished work: run mt verify \(s) again after it ends before acting on them")
            for i in report.findings.indices where VerifyFinding.transientKinds.contains(report.findings[i].kind) {
                report.findings[i].mayBeInProgress = true
                report.findings[i].hint = "wait for the running export to end and run mt verify \(s) again; if the finding stays: " + report.findings[i].hint
            }
        }
        return report
    }

    private func withProgress<T>(_ label: String, _ total: Int, unit: String, _ body: (CheckProgress?) -> T) -> T {
        let bar = progressOutput.map { CheckProgress(output: $0, label: "verify \(server.name): \(label)", total: total, unit: unit) }
        defer { bar?.finish() }
        return body(bar)
    }

    // MARK: archives and checksums

    /// The original's 2015 shelve archives: a finding until a JSON raw file of the same scale and day sits
    /// beside it (what the conversion in mt-recover(1) writes), then a note.
    func shelveFindings(converted archives: [ArchiveName]) -> ([VerifyFinding], [String]) {
        var found: [VerifyFinding] = []
        var notes: [String] = []
        for shelve in ShelveArchive.list(layout) {
            let stem = String(shelve.fileName.dropLast(".raw.db".count)) + "_"
            if archives.contains(where: { $0.kind == .legacy && $0.fileName.hasPrefix(stem) }) {
                notes.append("\(shelve.fileName) is a 2015 shelve archive that mt does not read; its JSON conversion \(stem)….json is read instead")
            } else {
                found.append(VerifyFinding(.shelveArchive, path: layout.raw + "/" + shelve.fileName, scale: shelve.scale,
                                           message: shelve.explanation + ", so its entries are not checked", hint: ShelveArchive.hint))
            }
        }
        return (found, notes)
    }

    func archiveFindings(_ archives: [ArchiveSummary]) -> [VerifyFinding] {
        var out: [VerifyFinding] = []
        let backup = "restore it from a backup; until then do not let an export delete anything of that scale"
        for a in archives {
            switch a.problem {
            case .unreadable(let why)?:
                out.append(VerifyFinding(.archiveUnreadable, path: a.path, scale: a.name.scale, message: why,
                                         hint: "check the file's owner and permissions (ls -l \(FileSystem.shellQuote(a.path)))"))
            case .corrupt(let why)?:
                out.append(VerifyFinding(.archiveCorrupt, path: a.path, scale: a.name.scale,
                                         message: "the archive is damaged: \(why)", hint: backup))
            case .notJSON(let why)?:
                out.append(VerifyFinding(.archiveNotJSON, path: a.path, scale: a.name.scale,
                                         message: "the archive does not hold the server's JSON: \(why)", hint: backup))
            case nil:
                if a.entriesWithoutID > 0 {
                    out.append(VerifyFinding(.archiveEntries, path: a.path, scale: a.name.scale,
                                             message: "\(a.entriesWithoutID) entr\(a.entriesWithoutID == 1 ? "y has" : "ies have") no integer id",
                                             hint: "look at it with zcat; the server sent entries mt cannot track"))
                }
            }
        }
        return out
    }

    func checksumFindings(_ archives: [ArchiveSummary]) -> [VerifyFinding] {
        let ledger: [String: String]
        do { ledger = try ChecksumLedger(layout: layout).read() } catch {
            return [VerifyFinding(.ledgerUnreadable, path: layout.checksums, message: error.asMTError.message,
                                  hint: "restore raw_data/SHA256SUMS from a backup")]
        }
        var out: [VerifyFinding] = []
        let sumsHint = "cd \(FileSystem.shellQuote(layout.raw)) && sha256sum -c SHA256SUMS"
        for a in archives {
            guard let actual = a.sha256 else { continue }
            if let recorded = ledger[a.name.fileName] {
                if recorded != actual {
                    out.append(VerifyFinding(.checksumMismatch, path: a.path, scale: a.name.scale,
                                             message: "SHA-256 is \(actual) but SHA256SUMS recorded \(recorded): the file changed after it was written",
                                             hint: "restore it from a backup (check with: \(sumsHint))"))
                }
            } else if a.problem == nil && a.name.kind == .gzip { // the original tool kept no checksums
                out.append(VerifyFinding(.checksumMissing, path: a.path, scale: a.name.scale,
                                         message: "not in SHA256SUMS (a crash between writing the archive and its ledger line?)",
                                         hint: "it reads back whole; record it: cd \(FileSystem.shellQuote(layout.raw)) && sha256sum \(FileSystem.shellQuote(a.name.fileName)) >> SHA256SUMS"))
            }
        }
        let present = Set(archives.map(\.name.fileName))
        for name in ledger.keys.sorted() where !present.contains(name) {
            out.append(VerifyFinding(.archiveMissing, path: layout.raw + "/" + name, scale: ArchiveName.parse(name)?.scale,
                                     message: "listed in SHA256SUMS but the archive is gone",
                                     hint: "restore it from a backup; entries deleted from the server after this fetch exist nowhere else"))
        }
        return out
    }

    // MARK: ledgers and benchmark

    /// The ledger's findings, and its lines per scale.
    func deletionLedgerFindings(archived: [String: [Int64: String]], archives: Set<String>,
                                withdrawn: [String: Set<Int64>] = [:]) -> ([VerifyFinding], [String: Int]) {
        let entries: [DeletionLedger.Entry]
        do { entries = try DeletionLedger(layout: layout).read() } catch {
            return ([VerifyFinding(.ledgerUnreadable, path: layout.deletions, message: error.asMTError.message,
                                   hint: "restore ledger/deletions.tsv from a backup")], [:])
        }
        var out: [VerifyFinding] = []
        // A withdrawn participant's entries left the archives on purpose; the withdrawal ledger accounts for them.
        for e in entries where archived[e.scale]?[e.id] == nil && withdrawn[e.scale]?.contains(e.id) != true {
            let named = archives.contains(e.archive) ? "\(e.archive) is there but does not hold it" : "\(e.archive) is missing"
            out.append(VerifyFinding(.deletionUnarchived, path: layout.deletions, line: e.line, scale: e.scale, id: e.id,
                                     message: "\(e.scale) id \(e.id) was deleted from the server but no archive of \(e.scale) holds it (\(named))",
                                     hint: "restore \(FileSystem.shellQuote(layout.raw + "/" + e.archive)) from a backup; it is the only copy of that entry"))
        }
        return (out, Dictionary(entries.map { ($0.scale, 1) }, uniquingKeysWith: +))
    }

    /// Withdrawals: no archive still holds a withdrawn entry; every archive an entry was withdrawn from has a
    /// replacement line, and its newest is the checksum SHA256SUMS holds for it now (which the checksum check holds
    /// against the file); no journal is left.
    func withdrawalFindings(_ archives: [ArchiveSummary], replacements: [WithdrawalLedger.Replacement],
                            withdrawn: [String: Set<Int64>], rewritten: Set<String>) -> [VerifyFinding] {
        var out: [VerifyFinding] = []
        let hint = "run mt withdraw \(s) again: it finishes an interrupted withdrawal"
        for a in archives {
            guard let gone = withdrawn[a.name.scale] else { continue }
            for id in a.ids where gone.contains(id) {
                out.append(VerifyFinding(.withdrawnPresent, path: a.path, scale: a.name.scale, id: id,
                                         message: "\(a.name.scale) id \(id) belongs to a withdrawn participant (ledger/withdrawals.tsv) but this archive still holds it",
                                         hint: hint))
            }
        }
        let sums = (try? ChecksumLedger(layout: layout).read()) ?? [:]
        var newest: [String: WithdrawalLedger.Replacement] = [:]
        for r in replacements { newest[r.archive] = r }
        for (name, r) in newest.sorted(by: { $0.key < $1.key }) where sums[name] != r.newSHA256 {
            out.append(VerifyFinding(.withdrawalUnfinished, path: layout.checksums, scale: ArchiveName.parse(name)?.scale,
                                     message: "\(name) was rewritten by a withdrawal (ledger/withdrawals.tsv line \(r.line): SHA-256 \(r.newSHA256)) but SHA256SUMS holds \(sums[name] ?? "no line") for it",
                                     hint: hint))
        }
        let present = Set(archives.map(\.name.fileName))
        for name in rewritten.subtracting(newest.keys).sorted() where present.contains(name) {
            out.append(VerifyFinding(.withdrawalUnfinished, path: layout.withdrawals, scale: ArchiveName.parse(name)?.scale,
                                     message: "entries were withdrawn from \(name), but ledger/withdrawals.tsv has no line recording its old and new SHA-256",
                                     hint: hint))
        }
        let journal = layout.withdrawalJournal
        if FileSystem.exists(journal) {
            out.append(VerifyFinding(.withdrawalUnfinished, path: journal, message: "a withdrawal was begun and not finished", hint: hint))
        }
        return out
    }

    /// A data directory that lost files its run record outlived (a power cut that took folders or files the disk
    /// had not made durable, a restore from an older backup): more deletions confirmed than the ledger records,
    /// or no archive left of a scale that was archived. "ok: 0 archive(s)" must never be said of such a folder.
    func lostContentsFindings(ledgerLines: [String: Int], archives: [ArchiveName]) -> [VerifyFinding] {
        guard let record = try? ExportRunRecord.load(layout: layout) else { return [] }
        let archivedScales = Set(archives.map(\.scale))
        let hint = "restore \(layout.root) from a backup, and keep mt export from deleting (DELETE_MODE: false) until it is back: the server no longer holds what was deleted"
        var out: [VerifyFinding] = []
        for scale in record.scales {
            let lines = ledgerLines[scale.name] ?? 0
            if scale.deletedTotal > lines {
                out.append(VerifyFinding(.contentsLost, path: layout.deletions, scale: scale.name,
                                         message: "the export run record counts \(scale.deletedTotal) entries of \(scale.name) confirmed deleted from the server, but the deletion ledger records \(lines): the data directory lost files",
                                         hint: hint))
            }
            if scale.lastArchive != nil && !archivedScales.contains(scale.name) {
                out.append(VerifyFinding(.contentsLost, path: layout.raw, scale: scale.name,
                                         message: "the export run record says \(scale.name) was archived, but raw_data holds no archive of it: the data directory lost files",
                                         hint: hint))
            }
        }
        return out
    }

    func benchmarkFindings(_ benchmark: Benchmark?, archived: [String: [Int64: String]]) -> [VerifyFinding] {
        var out: [VerifyFinding] = []
        for scale in archived.keys.sorted() {
            guard let highest = archived[scale]!.keys.max() else { continue }
            let mark = benchmark?.marks[scale]
            if mark == nil {
                out.append(VerifyFinding(.benchmarkMissing, path: layout.benchmark, scale: scale, id: highest,
                                         message: "\(scale) has archived entries up to id \(highest) but no benchmark",
                                         hint: "mt benchmark \(s) set \(scale) \(highest)"))
            } else if let mark, mark.current < highest {
                out.append(VerifyFinding(.benchmarkBehind, path: layout.benchmark, scale: scale, id: highest,
                                         message: "\(scale) benchmark \(mark.current) is below the highest archived id \(highest)",
                                         hint: "mt benchmark \(s) set \(scale) \(highest)"))
            }
        }
        return out
    }

    // MARK: CSV coverage

    /// Every archived id of every scale (a non-deleteable scale's snapshots and increments too: export writes each
    /// entry once and never drops a row) in exactly one active CSV row (or in a CSV `mt recover` rebuilt),
    /// and no id twice in the active CSVs or in one recovered file.
    /// `released` says how many rows an id may have (more than one after `mt benchmark release`).
    func coverageFindings(_ csvs: [CSVSummary], archived: [String: [Int64: String]],
                          released: (String, Int64) -> Int = { _, _ in 1 }) -> [VerifyFinding] {
        var out: [VerifyFinding] = []
        var active: [String: [Int64: [(String, Int)]]] = [:]
        var recovered: [String: Set<Int64>] = [:]
        for c in csvs {
            guard let scale = c.scale else { continue }
            if c.recovered {
                // mt recover keeps every content of an id on purpose; the rows a release accepted are no duplicates.
                var seen: [Int64: [(String, Int)]] = [:]
                for o in c.ids {
                    seen[o.id, default: []].append((c.path, o.line))
                    recovered[scale, default: []].insert(o.id)
                }
                for id in seen.keys.sorted() where seen[id]!.count > max(1, released(scale, id)) {
                    out.append(duplicate(scale: scale, id: id, at: seen[id]!))
                }
            } else {
                for o in c.ids { active[scale, default: [:]][o.id, default: []].append((c.path, o.line)) }
            }
        }
        for scale in archived.keys.sorted() {
            let rows = active[scale] ?? [:]
            for id in rows.keys.sorted() where rows[id]!.count > max(1, released(scale, id)) {
                out.append(duplicate(scale: scale, id: id, at: rows[id]!))
            }
            for (id, archive) in archived[scale]!.sorted(by: { $0.key < $1.key })
            where rows[id] == nil && recovered[scale]?.contains(id) != true {
                out.append(VerifyFinding(.csvMissing, path: archive, scale: scale, id: id,
                                         message: "\(scale) id \(id) is archived here but in no CSV of active_data or recovered_data",
                                         hint: "rebuild the scale's CSV from the archives: mt recover \(s) \(scale)"))
            }
        }
        return out
    }

    private func duplicate(scale: String, id: Int64, at places: [(String, Int)]) -> VerifyFinding {
        let list = places.map { "\($0.0):\($0.1)" }.joined(separator: ", ")
        return VerifyFinding(.csvDuplicate, path: places[1].0, line: places[1].1, scale: scale, id: id,
                             message: "\(scale) id \(id) appears \(places.count) times: \(list)",
                             hint: "keep one row and delete the others, or replace the scale's CSVs with those of mt recover \(s) \(scale)")
    }

    // MARK: permissions

    /// Data files and folders must not be open to group or others (see ARCHITECTURE.md): decrypted answers live here.
    func permissionFindings() -> [VerifyFinding] {
        var out: [VerifyFinding] = []
        // PATH itself may be a link to the real folder; links inside it are not data and are not followed.
        func visit(_ path: String, follow: Bool = false) {
            var st = stat()
            guard (follow ? stat(path, &st) : lstat(path, &st)) == 0 else { return }
            let type = st.st_mode & S_IFMT
            guard type == S_IFDIR || type == S_IFREG else { return } // links and sockets are not data
            let mode = st.st_mode & 0o7777
            let isDir = type == S_IFDIR
            if mode & 0o077 != 0 {
                out.append(VerifyFinding(.permissions, path: path,
                                         message: "\(isDir ? "folder" : "file") has mode \(String(mode, radix: 8)): group or others can \(isDir ? "enter or list it" : "read or change it")",
                                         hint: "chmod \(isDir ? "700" : "600") \(FileSystem.shellQuote(path))"))
            }
            if isDir, let names = try? FileSystem.list(path) {
                for n in names.sorted() { visit(path + "/" + n) }
            }
        }
        visit(layout.root, follow: true)
        return out
    }

    // MARK: remote

    /// Entries of deleteable scales at or below the benchmark that are still on the server (see ARCHITECTURE.md).
    func remoteFindings(benchmark: Benchmark?, archived: [String: [Int64: String]]) throws -> [VerifyFinding] {
        let inventory = try ServerInventory(server: server)
        var out: [VerifyFinding] = []
        let listed = try inventory.scales().scales
        for name in try layout.vanishedScales(listed: listed.map(\.name)) {
            out.append(VerifyFinding(.scaleVanished, path: server.exportURL, scale: name,
                                     message: "\(name) was exported here before, but the server's list of scales no longer holds it",
                                     hint: "check the server (a table dropped or renamed, or SERVER naming another study); the CSVs and archives here are kept. If it was removed on purpose, move \(FileSystem.shellQuote(layout.exportState(scale: name))) aside"))
        }
        for scale in listed where scale.deleteable ?? true {
            guard let mark = benchmark?.marks[scale.name] else { continue }
            let url = server.exportURL + "/" + scale.name
            for id in try inventory.entryIDs(scale: scale.name).sorted() where id <= mark.current {
                let hint = archived[scale.name]?[id] != nil
                    ? "an archive holds it: mt export \(s) deletes it when DELETE_MODE is true"
                    : "no archive holds it: run mt export \(s) so it is archived before anything deletes it"
                out.append(VerifyFinding(.remoteRemains, path: url, scale: scale.name, id: id,
                                         message: "\(scale.name) id \(id) is at or below the benchmark \(mark.current) but still on the server",
                                         hint: hint))
            }
        }
        return out
    }
}
