import Foundation
import MTCore
import MTTestSupport
import Testing

/// Issue 27's "trust nothing implicit", the parts that live in the configuration and the alert mail.
@Suite struct TrustNothingTests {
    static func load(_ text: String, in dir: TempDir) throws -> MTConfig {
        let p = try dir.write("server.yaml", text, mode: 0o600)
        return try MTConfig.load(path: p, environment: [:], allowReadableSecrets: false)
    }

    /// A key one edit away from a known one is the key meant, and it is not in force: a problem (78), not a
    /// warning only a terminal shows. A key like no known one stays a warning.
    @Test func aMisspeltKeyIsAProblemAnUnknownOneAWarning() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let c = try Self.load("lab:\n  READY: true\n  SERVER: https://h/api/\n  USER: u\n  PATH: \(dir.path)/d\n  DELET_MODE: true\n  COLOUR_SCHEME: blue\n", in: dir)
        let lab = c.servers[0]
        #expect(lab.deleteMode == false)
        #expect(lab.misspeltKeys.count == 1)
        #expect(lab.misspeltKeys.first?.contains("server.yaml:6: server lab: unknown key DELET_MODE is ignored (did you mean DELETE_MODE?)") == true, "\(lab.misspeltKeys)")
        #expect(c.warnings.count == 1 && c.warnings[0].contains("COLOUR_SCHEME"), "\(c.warnings)")
        let check = ConfigCheck.run(config: c, servers: c.servers)
        #expect(check.servers[0].problems.contains { $0.contains("DELET_MODE") })
        #expect(check.servers[0].exit == .config)
    }

    /// `mt config check` says what export will find, through export's own checks (ExportNeeds): a file on PATH's
    /// chain is 73 as in export; a METRICS_FILE whose folder is missing is a problem; a PATH that can be made
    /// along a chain of missing folders is fine.
    @Test func configCheckChecksWhatExportNeeds() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = try dir.write("plain", "x")
        func check(_ path: String, metrics: String? = nil) throws -> ConfigCheck.ServerReport {
            var text = "lab:\n  READY: true\n  SERVER: https://h/api/\n  USER: u\n  PATH: \(path)\n"
            if let metrics { text += "  METRICS_FILE: \(metrics)\n" }
            let c = try Self.load(text, in: dir)
            return ConfigCheck.run(config: c, servers: c.servers).servers[0]
        }
        let blocked = try check(dir.path + "/plain/data")
        #expect(blocked.exit == .cantCreate, "\(blocked.problems)")
        #expect(blocked.problems.contains { $0.contains("\(dir.path)/plain") && $0.contains("move it aside") }, "\(blocked.problems)")
        let hostname = try check("/etc/hostname/data")
        #expect(hostname.exit == .cantCreate, "\(hostname.problems)")
        do {
            try ExportNeeds.checkDataDirectory(ServerConfig(name: "lab", apiBase: "https://h/api", path: "/etc/hostname/data"))
            Issue.record("export's check accepts /etc/hostname/data")
        } catch let e as MTError {
            #expect(e.exitCode == .cantCreate && hostname.problems.contains(e.description))
        }
        let deep = try check(dir.path + "/a/b/c/data")
        #expect(!deep.problems.contains { $0.contains("PATH") }, "\(deep.problems)")
        #expect(deep.notes.contains { $0.contains("does not exist yet") })
        let metrics = try check(dir.path + "/data", metrics: dir.path + "/no-such-folder/mt.prom")
        #expect(metrics.problems.contains { $0.contains("METRICS_FILE \(dir.path)/no-such-folder/mt.prom") && $0.contains("does not exist") }, "\(metrics.problems)")
        #expect(metrics.exit == .config)
        let fine = try check(dir.path + "/data", metrics: dir.path + "/mt.prom")
        #expect(!fine.problems.contains { $0.contains("METRICS_FILE") || $0.contains("PATH") }, "\(fine.problems)")
        #expect(!FileSystem.exists(dir.path + "/a"), "the check created something")
    }

    /// ALERT_REPEAT is a duration (default 1h; 0: every run mails); anything else is refused at load.
    @Test func alertRepeatIsADuration() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let base = "lab:\n  SERVER: https://h/api/\n  PATH: d\n  ALERT_EMAIL: a@example.edu\n  SMTP_SERVER: smtp://127.0.0.1:25\n"
        #expect(try Self.load(base, in: dir).servers[0].alert?.repeatInterval == 3600)
        #expect(try Self.load(base + "  ALERT_REPEAT: 2h30m\n", in: dir).servers[0].alert?.repeatInterval == 9000)
        #expect(try Self.load(base + "  ALERT_REPEAT: 0\n", in: dir).servers[0].alert?.repeatInterval == 0)
        do { _ = try Self.load(base + "  ALERT_REPEAT: hourly\n", in: dir); Issue.record("accepted 'hourly'") } catch let e as MTError {
            #expect(e.exitCode == .config && e.message.contains("ALERT_REPEAT") && e.message.contains("hourly"), "\(e)")
        }
    }

    /// The same alert again within ALERT_REPEAT is not mailed; a new one is, at once, with every line of the run;
    /// after the interval the same one is mailed again; a run without alerts resolves once, then nothing.
    @Test func alertRepeatDecisions() throws {
        func line(_ t: String, _ text: String) -> String { "2026-12-04 \(t) CRITICAL export sim - \(text)\n" }
        var s = AlertRepeat()
        let down = line("03:00:00.001", "GET list of scales failed: HTTP 500 after 2 tries")
        #expect(s.decide([down], now: 0, repeatInterval: 3600) == .mail([down]))
        // Same fault, other time stamp and other numbers in it: the same alert.
        let again = line("03:05:00.713", "GET list of scales failed: HTTP 503 after 3 tries")
        #expect(s.decide([again], now: 300, repeatInterval: 3600) == .suppressed(since: 0))
        let other = line("03:10:00.002", "OA: answer is not JSON")
        #expect(s.decide([again, other], now: 600, repeatInterval: 3600) == .mail([again, other]))
        #expect(s.decide([again, other], now: 900, repeatInterval: 3600) == .suppressed(since: 600))
        #expect(s.decide([again, other], now: 4300, repeatInterval: 3600) == .mail([again, other]))
        #expect(s.active.count == 2 && s.active[0].since == 0)
        guard case .resolved(let was) = s.decide([], now: 4600, repeatInterval: 3600) else {
            Issue.record("no resolve"); return
        }
        #expect(was.map(\.text) == [again, other])
        #expect(s.decide([], now: 4900, repeatInterval: 3600) == .none)
        // ALERT_REPEAT 0: every run mails.
        var every = AlertRepeat()
        #expect(every.decide([down], now: 0, repeatInterval: 0) == .mail([down]))
        #expect(every.decide([down], now: 1, repeatInterval: 0) == .mail([down]))
        // A clock that stepped back never silences an alert.
        var back = AlertRepeat()
        _ = back.decide([down], now: 1000, repeatInterval: 3600)
        #expect(back.decide([down], now: 10, repeatInterval: 3600) == .mail([down]))
    }

    /// The state survives the process (written atomically under PATH/state); a damaged file means "nothing mailed".
    @Test func alertStateRoundTrips() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try FileSystem.makeDirectories(dir.path + "/state")
        var s = AlertRepeat()
        _ = s.decide(["2026-12-04 03:00:00.001 CRITICAL export sim - down\n"], now: 1_700_000_000.25, repeatInterval: 3600)
        try s.save(root: dir.path)
        #expect(try AlertRepeat.load(root: dir.path) == s)
        _ = try dir.write("state/alerts.json", "{not json")
        #expect(try AlertRepeat.load(root: dir.path) == AlertRepeat())
        // Written by a newer mt: refused (78), left as it is, never read as this version's shape.
        let newer = "{\"format\": \"mt-alert-state/2\", \"active\": []}"
        _ = try dir.write("state/alerts.json", newer)
        #expect(throws: MTError.self) { try AlertRepeat.load(root: dir.path) }
        #expect(try FileSystem.readString(dir.path + "/state/alerts.json") == newer)
    }
}
