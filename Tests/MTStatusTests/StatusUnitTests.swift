import Foundation
import MTCore
@testable import MTStatus
import MTTestSupport
import Testing

@Suite struct StatusUnitTests {
    @Test func durations() {
        #expect(DurationText.parse("30m") == 1800)
        #expect(DurationText.parse("1h30m") == 5400)
        #expect(DurationText.parse("90s") == 90)
        #expect(DurationText.parse("2d") == 172_800)
        #expect(DurationText.parse("45") == 45)
        for bad in ["", "m", "30x", "-5m", "1.5h", "30 m"] { #expect(DurationText.parse(bad) == nil, "\(bad)") }
        #expect(DurationText.format(65) == "1m05s")
        #expect(DurationText.format(3 * 86_400 + 4 * 3600) == "3d04h")
    }

    /// A scale the 5-minute run does not select keeps the times the daily run recorded; failures keep the last
    /// success; the 7-day history is pruned.
    @Test func recordCarriesOverAndRoundTrips() throws {
        let dir = try TempDir("mt-status-unit")
        defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        var daily = ServerOutcome(server: "s")
        var snap = ScaleOutcome(scale: "Demographics", deleteable: false)
        snap.fetched = 4; snap.archived = 4
        daily.scales = [snap]
        let first = ExportRunRecord.after(daily, previous: nil, started: t0, finished: t0.addingTimeInterval(2), deleting: true)
        try first.save(layout: layout)
        #expect(try ExportRunRecord.load(layout: layout) == first)

        var failing = ServerOutcome(server: "s")
        var oa = ScaleOutcome(scale: "OA", deleteable: true)
        oa.exit = .unavailable; oa.status = .failed("HTTP 500")
        failing.scales = [oa]
        let t1 = t0.addingTimeInterval(8 * 86_400)
        let second = ExportRunRecord.after(failing, previous: first, started: t1, finished: t1, deleting: true)
        #expect(second.exit == .unavailable && second.outcome == "failed")
        #expect(second.lastSuccess == first.lastSuccess)
        let demo = try #require(second.scales.first { $0.name == "Demographics" })
        #expect(demo.lastSuccess == t0.timeIntervalSince1970 + 2 && demo.lastArchive == t0.timeIntervalSince1970 + 2)
        #expect(demo.history.isEmpty, "archives older than 7 days leave the history")
        let failed = try #require(second.scales.first { $0.name == "OA" })
        #expect(failed.lastSuccess == nil && failed.leftovers == nil && failed.status == "HTTP 500")

        var ok = ServerOutcome(server: "s")
        var oa2 = ScaleOutcome(scale: "OA", deleteable: true)
        oa2.fetched = 10; oa2.archived = 10; oa2.deleted = 7
        ok.scales = [oa2]
        let t2 = t1.addingTimeInterval(60)
        let third = ExportRunRecord.after(ok, previous: second, started: t2, finished: t2, deleting: true)
        let s = try #require(third.scales.first { $0.name == "OA" })
        #expect(s.leftovers == 3 && s.lastDelete == t2.timeIntervalSince1970 && third.lastSuccess == t2.timeIntervalSince1970)
        #expect(s.archived(since: t2.timeIntervalSince1970 - 86_400) == 10)
    }

    @Test func damagedRecordIsAClearError() throws {
        let dir = try TempDir("mt-status-unit")
        defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        _ = try dir.write("state/last_run.json", "{\"started\": ")
        #expect(throws: MTError.self) { try ExportRunRecord.load(layout: layout) }
        let s = ServerStatus.read(ServerConfig(name: "x", apiBase: "https://h/api", path: dir.path))
        #expect(s.problems.first?.contains("last_run.json") == true)
        #expect(s.health(maxAge: nil) == "never exported")
    }

    /// The lock query sees a lock held by this very process, with its pid, and nothing once it is released.
    @Test func lockHolder() throws {
        let dir = try TempDir("mt-status-lock")
        defer { dir.remove() }
        #expect(DirectoryLock.holder(of: dir.path) == nil)
        let lock = try DirectoryLock(directory: dir.path)
        let h = try #require(DirectoryLock.holder(of: dir.path))
        #expect(h.pid == getpid())
        #expect(abs(h.since.timeIntervalSinceNow) < 60)
        lock.release()
        #expect(DirectoryLock.holder(of: dir.path) == nil)
    }

    @Test func theBacklogRoundTripsAndItsLevels() throws {
        let dir = try TempDir("mt-status-unit")
        defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        try layout.create()
        var outcome = ServerOutcome(server: "s")
        let scales = [ScaleInfo(name: "OA", size: 300, deleteable: true), ScaleInfo(name: "Demographics", size: 999, deleteable: false),
                      ScaleInfo(name: "TaskLog", size: 200, deleteable: true), ScaleInfo(name: "X", size: nil, deleteable: true)]
        outcome.backlog = Backlog(scales: scales, limit: 1000, time: 5)
        #expect(outcome.backlog?.records == 500 && outcome.backlog?.level == .warning)
        #expect(Backlog(records: 499, limit: 1000, time: 0).level == .normal && Backlog(records: 800, limit: 1000, time: 0).level == .critical)
        let t = Date(timeIntervalSince1970: 10)
        let rec = ExportRunRecord.after(outcome, previous: nil, started: t, finished: t, deleting: true)
        try FileSystem.writeAtomically(JSONWriter.bytes(rec.json), to: ExportRunRecord.path(layout: layout))
        #expect(try ExportRunRecord.load(layout: layout)?.backlog == outcome.backlog)
        // A run that did not read the list keeps the last backlog known.
        #expect(ExportRunRecord.after(ServerOutcome(server: "s"), previous: rec, started: t, finished: t, deleting: true).backlog == outcome.backlog)

        func config(_ keys: String) throws -> ServerConfig {
            let p = try dir.write("server.yaml", "lab:\n  SERVER: https://h/api/\n  PATH: d\n" + keys)
            return try MTConfig.load(path: p, environment: [:], allowReadableSecrets: false).server(named: "lab")
        }
        #expect(try config("").maxRecords == 900_000)
        #expect(try config("  SERVER_MAX_RECORDS: 1000\n").maxRecords == 1000)
        #expect(throws: MTError.self) { try config("  SERVER_MAX_RECORDS: lots\n") }
    }

    @Test func metricsEscapeLabelsAndAnnounceEveryFamily() {
        var rec = ExportRunRecord(started: 100, finished: 102.5, exit: .ok, error: nil, pid: 1, lastSuccess: 102.5, scales: [])
        var sc = ExportRunRecord.Scale(name: "OA")
        sc.lastRun = 102.5; sc.lastSuccess = 102.5; sc.fetched = 3; sc.leftovers = 0
        rec.scales = [sc]
        let text = ExportMetrics.text([ExportMetrics.Server(name: "lab \"a\"\\b\nç", record: rec, heldBack: ["OA": 2])])
        #expect(text.contains("mt_export_last_success_timestamp_seconds{server=\"lab \\\"a\\\"\\\\b\\nç\",scale=\"OA\"} 102.500\n"))
        #expect(text.contains("mt_export_held_back_entries{server=\"lab \\\"a\\\"\\\\b\\nç\",scale=\"OA\"} 2\n"))
        #expect(text.contains("mt_export_last_run_duration_seconds{server=\"lab \\\"a\\\"\\\\b\\nç\"} 2.500\n"))
        let empty = ExportMetrics.text([ExportMetrics.Server(name: "never", record: nil)])
        #expect(empty.components(separatedBy: "# TYPE ").count - 1 == 16)
        rec.backlog = Backlog(records: 450_000, limit: 900_000, time: 100)
        let withBacklog = ExportMetrics.text([ExportMetrics.Server(name: "lab", record: rec)])
        #expect(withBacklog.contains("mt_export_server_backlog_records{server=\"lab\"} 450000\n"))
        #expect(withBacklog.contains("mt_export_server_max_records{server=\"lab\"} 900000\n"))
        #expect(!empty.contains("never"))
    }
}

/// Docs in step with the command: man page, the three completions, the systemd units in make install.
@Suite struct StatusDocsTests {
    @Test func manPageAndCompletions() throws {
        let root = Products.packageRoot
        let man = try FileSystem.readString(root + "/man/mt-status.1")
        #expect(man.contains(".TH MT-STATUS 1") && man.contains("\\-\\-max\\-age") && man.contains("last_run.json"))
        #expect(try FileSystem.readString(root + "/man/mt.1").contains(".BR mt\\-status (1)"))
        let r = try Run.program("/bin/bash", ["-c", """
            source '\(root)/completions/mt.bash'
            COMP_WORDS=(mt sta); COMP_CWORD=1; _mt; echo "${COMPREPLY[*]}"
            COMP_WORDS=(mt status --); COMP_CWORD=2; _mt; echo "${COMPREPLY[*]}"
            """])
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "stats status", "\(r.stdout)\(r.stderr)")
        #expect(lines.count > 1 && lines[1].contains("--max-age") && lines[1].contains("--remote"))
        #expect(try FileSystem.readString(root + "/completions/mt.fish").contains("-a status"))
        #expect(try FileSystem.readString(root + "/completions/_mt").contains("status\\:"))
        let install = try FileSystem.readString(root + "/scripts/install.sh")
        #expect(install.contains("for unit in systemd/*.service") && install.contains("systemd/*.timer"))
        let rules = try FileSystem.readString(root + "/debian/rules")
        #expect(rules.contains("for unit in systemd/*.service") && rules.contains("systemd/*.timer"))
    }
}
