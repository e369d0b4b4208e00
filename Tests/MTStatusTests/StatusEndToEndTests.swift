import Foundation
import MTCore
import MTTestSupport
import Testing

/// The system tools these tests drive. `make test` installs them (scripts/deps.sh test); a missing one is a test
/// failure naming the package, never a silent skip.
enum Tools {
    static func find(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return (path + ["/usr/bin", "/usr/sbin", "/bin"]).map { $0 + "/" + name }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func require(_ name: String, package: String) -> String? {
        if let p = find(name) { return p }
        Issue.record("\(name) is not installed: run scripts/deps.sh test (Debian package \(package))")
        return nil
    }
}

/// A simulator, an SMTP sink, and a config with ALERT_EMAIL, DELETE_MODE and METRICS_FILE pointing at both.
final class StatusFixture: @unchecked Sendable {
    let sim: SimServer
    let smtp: SMTPSink
    let dir: TempDir
    let config: String
    var data: String { dir.path + "/data" }
    var metrics: String { dir.path + "/textfile/mt.prom" }

    init(participants: Int = 3, extra: (SimServer) throws -> [String] = { _ in [] }) throws {
        sim = try SimServer(["--generate", "--participants", String(participants)])
        let more = try extra(sim)
        smtp = try SMTPSink()
        dir = try TempDir("mt-status-e2e")
        try FileSystem.makeDirectories(dir.path + "/textfile")
        config = try sim.writeConfig(in: dir.path, dataPath: dir.path + "/data", extra: [
            "DELETE_MODE: true", "ALERT_EMAIL: lab@example.edu", "SMTP_SERVER: \(smtp.url)", "SMTP_FROM: mt@example.edu",
            "METRICS_FILE: \"\(dir.path)/textfile/mt.prom\"", "ALLOW_HTTP: true", "RETRIES: 1", "TIMEOUT: 5",
            "CONNECT_TIMEOUT: 2",
        ] + more)
    }

    deinit { smtp.stop(); dir.remove() }

    @discardableResult
    func mt(_ args: String...) throws -> RunResult { try Run.mt(["--config", config] + args) }

    func status(_ args: String...) throws -> (RunResult, JSONValue) {
        let r = try Run.mt(["--config", config, "status", "--json"] + args)
        let doc = try JSONParser.parse(Array(r.stdout.utf8))
        return (r, try #require(doc["servers"]?.arrayValues?.first))
    }

    func mails(subject: String) -> [String] { smtp.messages().filter { $0.contains("Subject: \(subject)") } }
}

@Suite(.serialized) struct StatusEndToEndTests {
    /// After an export the server is healthy: a record of the run, every scale with its counts; --max-age well
    /// above the age passes without mail.
    @Test func healthyAfterExport() throws {
        let f = try StatusFixture()
        let e = try f.mt("export")
        #expect(e.code == 0, "\(e.stdout)\(e.stderr)")
        let (r, s) = try f.status()
        #expect(r.code == 0, "\(r.stderr)")
        #expect(s["health"]?.stringValue == "healthy")
        #expect(s["lastRun"]?["exit"]?.int64Value == 0)
        #expect(s["lastSuccess"]?.isNull == false)
        #expect(s["lock"]?.isNull == true)
        #expect((s["freeBytes"]?.int64Value ?? 0) > 0)
        let scales = s["scales"]?.arrayValues ?? []
        #expect(!scales.isEmpty)
        let archived = scales.compactMap { $0["archived24h"]?.int64Value }.reduce(0, +)
        let onServer = try f.sim.ledger().count
        #expect(archived > 0 && archived == onServer, "every deleted entry was archived in the last 24 h")
        #expect(scales.allSatisfy { $0["leftovers"]?.int64Value == 0 && $0["lastFetch"]?.isNull == false })

        let text = try f.mt("status")
        #expect(text.code == 0)
        #expect(text.stdout.hasPrefix("sim: healthy\n"), "\(text.stdout)")
        #expect(text.stdout.contains("lock          free"))

        let before = f.smtp.messages().count
        let fresh = try f.mt("status", "--max-age", "30m")
        #expect(fresh.code == 0 && fresh.stderr.isEmpty, "\(fresh.stderr)")
        #expect(f.smtp.messages().count == before)
    }

    /// The dead man's switch: exports stop, --max-age passes, `mt status --max-age` exits 1 and mails exactly one
    /// alert. A server that was never exported is stale as well.
    @Test func deadMansSwitch() throws {
        let f = try StatusFixture()
        let never = try f.mt("status", "--max-age", "30m")
        #expect(never.code == 1 && never.stderr.contains("no successful export recorded"), "\(never.stderr)")
        #expect(f.mails(subject: "mt status").count == 1)

        #expect(try f.mt("export").code == 0)
        let mailsBefore = f.smtp.messages().count
        Thread.sleep(forTimeInterval: 2.2)
        let (r, s) = try f.status("--max-age", "2s")
        #expect(r.code == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("server sim: the last successful export was"), "\(r.stderr)")
        #expect(s["health"]?.stringValue == "stale" && s["stale"] == .bool(true) && s["alertSent"] == .bool(true))
        #expect(f.smtp.messages().count == mailsBefore + 1, "exactly one alert mail")
        let mail = try #require(f.mails(subject: "mt status").last)
        #expect(mail.contains("To: lab@example.edu") && mail.contains("exports of server sim"))

        // A run that fails (server gone) does not count as a success.
        f.sim.stop()
        let failed = try f.mt("export")
        #expect(failed.code == 69)
        let (r2, s2) = try f.status()
        #expect(r2.code == 0)
        #expect(s2["health"]?.stringValue == "failing" && s2["lastRun"]?["exit"]?.int64Value == 69)
        #expect(s2["lastSuccess"] == s["lastSuccess"])
        #expect(try f.mt("status", "--max-age", "2s").code == 1)
    }

    /// --remote asks the server for its scales (entries waiting); a server that does not answer makes it 69.
    /// `mt help` lists status; a bad duration is a usage error.
    @Test func remoteHelpAndUsage() throws {
        let f = try StatusFixture()
        #expect(try f.mt("export").code == 0)
        let (r, s) = try f.status("--remote")
        #expect(r.code == 0, "\(r.stderr)")
        let remote = s["remote"]?["scales"]?.arrayValues ?? []
        #expect(remote.contains { $0["scale"]?.stringValue == "DD" && $0["size"]?.int64Value == 0 })
        #expect(remote.contains { $0["deleteable"] == .bool(false) && ($0["size"]?.int64Value ?? 0) > 0 })
        #expect(try f.mt("status", "--remote").stdout.contains("ON SERVER"))
        f.sim.stop()
        let (down, ds) = try f.status("--remote")
        #expect(down.code == 69)
        #expect(ds["remote"]?["error"]?.stringValue?.isEmpty == false)

        let help = try Run.mt(["help"])
        #expect(help.stdout.contains("   status "))
        let bad = try f.mt("status", "--max-age", "soon")
        #expect(bad.code == 64 && bad.stderr.contains("--max-age expects a duration"), "\(bad.stderr)")
        let unknown = try f.mt("status", "nosuch")
        #expect(unknown.code == 78 && unknown.stderr.contains("no server named 'nosuch'"))
    }

    /// The second set-up of the README: another machine with a copy of state/ only (no raw_data, no lock, no
    /// logs) sees the same health and runs the same dead man's switch.
    @Test func copyOfStateAlone() throws {
        let f = try StatusFixture()
        #expect(try f.mt("export").code == 0)
        let watch = try TempDir("mt-status-watch")
        defer { watch.remove() }
        try FileSystem.makeDirectories(watch.path + "/lab/state")
        for name in try FileSystem.list(f.data + "/state") {
            try FileSystem.writeAtomically(FileSystem.read(f.data + "/state/" + name), to: watch.path + "/lab/state/" + name)
        }
        let original = try String(contentsOfFile: f.config, encoding: .utf8)
        let copy = original.replacingOccurrences(of: "PATH: \"\(f.data)\"", with: "PATH: \"\(watch.path)/lab\"")
        #expect(copy != original)
        let config = try watch.write("watch.yaml", copy)
        let r = try Run.mt(["--config", config, "status", "--json", "--max-age", "30m"])
        let s = try #require(JSONParser.parse(Array(r.stdout.utf8))["servers"]?.arrayValues?.first)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(s["health"]?.stringValue == "healthy")
        #expect((s["scales"]?.arrayValues ?? []).contains { $0["newestArchive"]?.isNull == false })
        Thread.sleep(forTimeInterval: 2.2)
        let before = f.smtp.messages().count
        let stale = try Run.mt(["--config", config, "status", "--max-age", "2s"])
        #expect(stale.code == 1)
        #expect(f.smtp.messages().count == before + 1)
        #expect(try FileSystem.list(watch.path + "/lab").sorted() == ["state"], "status wrote nothing")
    }

    /// A run locked out by another (75) leaves the record alone; status names the lock holder.
    @Test func lockedOutRunIsNotRecorded() throws {
        let f = try StatusFixture()
        #expect(try f.mt("export").code == 0)
        let record = try FileSystem.read(f.data + "/state/last_run.json")
        let lock = try DirectoryLock(directory: f.data)
        defer { lock.release() }
        #expect(try f.mt("export").code == 75)
        #expect(try FileSystem.read(f.data + "/state/last_run.json") == record)
        let (_, s) = try f.status()
        #expect(s["lock"]?["pid"]?.int64Value == Int64(getpid()))
        let text = try f.mt("status")
        #expect(text.stdout.contains("held by pid \(getpid()) for "))
    }

    /// The study server's own limit: at 50% of SERVER_MAX_RECORDS an export run warns (log and alert mail), at 80%
    /// it is critical; status and the metrics show the backlog against the limit.
    @Test func theBacklogAlertFiresAtHalfTheServersLimit() throws {
        var backlog = 0
        let f = try StatusFixture(participants: 4) { sim in
            let list = try JSONParser.parse(HTTPClient(options: sim.httpOptions).get(sim.url + "/export").body)
            backlog = (list.arrayValues ?? []).filter { $0["deleteable"] == .bool(true) }
                .compactMap { $0["size"]?.int64Value }.reduce(0) { $0 + Int($1) }
            return ["SERVER_MAX_RECORDS: \(backlog * 10 / 6)"]
        }
        #expect(backlog > 100)
        let limit = backlog * 10 / 6
        let e = try f.mt("export", "--no-delete")
        #expect(e.code == 0, "\(e.stderr)")
        let percent = String(format: "%.1f%%", Double(backlog) / Double(limit) * 100)
        let said = "server sim holds \(backlog) records of deleteable scales, \(percent) of SERVER_MAX_RECORDS \(limit)"
        let mails = f.mails(subject: "mt export: sim needs attention")
        #expect(mails.count == 1 && mails.first?.contains(said) == true, "\(mails)")
        #expect(try FileSystem.readString(f.data + "/logs/error.log").contains(said))
        #expect(!((try? FileSystem.readString(f.data + "/logs/break_down.log")) ?? "").contains(said), "50% is a warning")

        let (_, s) = try f.status()
        #expect(s["backlog"]?["records"]?.int64Value == Int64(backlog) && s["backlog"]?["limit"]?.int64Value == Int64(limit))
        #expect(try f.mt("status").stdout.contains("\(backlog) of SERVER_MAX_RECORDS \(limit) (\(percent)) deleteable records on the server"))
        let metrics = try FileSystem.readString(f.metrics)
        #expect(metrics.contains("mt_export_server_backlog_records{server=\"sim\"} \(backlog)\n"))
        #expect(metrics.contains("mt_export_server_max_records{server=\"sim\"} \(limit)\n"))

        // 80%: critical.
        let tighter = backlog * 10 / 9
        let text = try FileSystem.readString(f.config).replacingOccurrences(of: "SERVER_MAX_RECORDS: \(limit)", with: "SERVER_MAX_RECORDS: \(tighter)")
        try FileSystem.writeAtomically(Array(text.utf8), to: f.config, mode: 0o600)
        #expect(try f.mt("export", "--no-delete").code == 0)
        #expect(try FileSystem.readString(f.data + "/logs/break_down.log").contains("of SERVER_MAX_RECORDS \(tighter)"))
        #expect(f.mails(subject: "mt export: sim needs attention").count == 2)
        #expect(try f.mt("status").stdout.contains("CRITICAL, the server stops serving sessions past the limit"))
    }

    /// Below half the limit (the default 900000), nothing is said.
    @Test func aSmallBacklogIsQuiet() throws {
        let f = try StatusFixture()
        #expect(try f.mt("export", "--no-delete").code == 0)
        #expect(!f.mails(subject: "mt export: sim needs attention").joined().contains("SERVER_MAX_RECORDS"))
        let (_, s) = try f.status()
        #expect(s["backlog"]?["limit"]?.int64Value == 900_000 && (s["backlog"]?["records"]?.int64Value ?? 0) > 0)
    }

    /// promtool accepts the metrics file; node_exporter's textfile collector serves it over HTTP.
    @Test func metricsFile() throws {
        let f = try StatusFixture()
        #expect(try f.mt("export").code == 0)
        #expect(try f.mt("export", ".", "static").code == 0)
        let text = try FileSystem.readString(f.metrics)
        #expect(FileSystem.mode(of: f.metrics) == 0o644)
        #expect(text.contains("mt_export_last_success_timestamp_seconds{server=\"sim\",scale=\"OA\"} "))
        #expect(text.contains("mt_export_last_run_exit_code{server=\"sim\"} 0\n"))
        #expect(try FileSystem.list(f.dir.path + "/textfile") == ["mt.prom"], "no temporary file left")

        if let promtool = Tools.require("promtool", package: "prometheus") {
            let r = try Run.program("/bin/sh", ["-c", "exec \"$0\" check metrics < \"$1\"", promtool, f.metrics])
            #expect(r.code == 0, "promtool: \(r.stdout)\(r.stderr)")
            // The checker is real: it rejects a broken file.
            let bad = f.dir.path + "/bad.prom"
            try FileSystem.writeAtomically(Array((text + "mt_export_broken{server=\"x\" 1\n").utf8), to: bad)
            let b = try Run.program("/bin/sh", ["-c", "exec \"$0\" check metrics < \"$1\"", promtool, bad])
            #expect(b.code != 0)
        }

        guard let exporter = Tools.require("prometheus-node-exporter", package: "prometheus-node-exporter") else { return }
        let port = try freePort()
        let log = f.dir.path + "/node_exporter.log"
        let child = try ChildProcess(exporter, ["--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults",
                                                "--collector.textfile", "--collector.textfile.directory=\(f.dir.path)/textfile"],
                                     output: log)
        defer { child.stop() }
        var options = HTTPOptions()
        options.allowInsecureHTTP = true
        options.timeout = 5
        let client = try HTTPClient(options: options)
        var body = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let r = try? client.get("http://127.0.0.1:\(port)/metrics"), r.status == 200 {
                body = String(decoding: r.body, as: UTF8.self)
                break
            }
            usleep(100_000)
        }
        #expect(body.contains("mt_export_last_success_timestamp_seconds{scale=\"OA\",server=\"sim\"} "),
                "node_exporter did not serve the metrics: \(body.prefix(500)) \((try? FileSystem.readString(log)) ?? "")")
        #expect(body.contains("node_textfile_scrape_error 0"))
        #expect(body.contains("mt_export_last_run_exit_code{server=\"sim\"} 0"))
    }

    /// The shipped units pass `systemd-analyze verify` (with the built binary in place of the installed one), with
    /// no warning at all: an unknown key is only a warning, and a typo must not pass.
    @Test func systemdUnits() throws {
        guard let analyze = Tools.require("systemd-analyze", package: "systemd") else { return }
        let dir = try TempDir("mt-systemd")
        defer { dir.remove() }
        let source = Products.packageRoot + "/systemd"
        let units = try FileSystem.list(source).filter { $0.hasSuffix(".service") || $0.hasSuffix(".timer") }.sorted()
        #expect(units == ["mt-export-static.service", "mt-export-static.timer", "mt-export.service", "mt-export.timer",
                          "mt-status.service", "mt-status.timer"])
        for u in units {
            let text = try FileSystem.readString(source + "/" + u)
            if u.hasSuffix(".service") {
                for key in ["ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "UMask=0077", "User=mt"] {
                    #expect(text.contains("\n\(key)\n"), "\(u) lacks \(key)")
                }
                #expect(text.contains("ExecStart=/usr/local/bin/mt "))
            }
            _ = try dir.write(u, text.replacingOccurrences(of: "ExecStart=/usr/local/bin/mt ", with: "ExecStart=\(Products.mt) "), mode: 0o644)
        }
        let r = try Run.program(analyze, ["verify", "--man=no"] + units.map { dir.path + "/" + $0 })
        #expect(r.code == 0 && r.stderr.isEmpty && r.stdout.isEmpty, "systemd-analyze: \(r.stdout)\(r.stderr)")
        let timer = try FileSystem.readString(source + "/mt-export.timer")
        #expect(timer.contains("OnCalendar=*:0/5\n"))

        // A security reviewer's bar: every service rated 2.0 or below ("OK") by systemd's own assessment.
        for u in units where u.hasSuffix(".service") {
            let r = try Run.program(analyze, ["security", "--offline=yes", "--no-pager", dir.path + "/" + u])
            let rating = r.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") }
                .flatMap { line in line.split(separator: " ").compactMap { Double($0) }.last }
            #expect(rating.map { $0 <= 2.0 } == true, "\(u): \(r.stdout.suffix(600))\(r.stderr)")
            let text = try FileSystem.readString(source + "/" + u)
            #expect(text.contains("\nLoadCredential=mt:/etc/mt/credentials\n"), "\(u)")
            #expect(text.contains("\nCapabilityBoundingSet=\n") && text.contains("\nSystemCallFilter=@system-service\n"))
            // Every directive of [Service] is explained: a comment stands above it or above its group (no blank line
            // between).
            var inService = false, explained = false
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("[") { inService = line == "[Service]"; explained = false }
                else if line.hasPrefix("#") { explained = true }
                else if line.isEmpty { explained = false }
                else if inService { #expect(explained, "\(u): \(line) has no comment above it or its group") }
            }
        }
        // The export units write the default data place without any path being edited.
        for u in ["mt-export.service", "mt-export-static.service"] {
            let text = try FileSystem.readString(source + "/" + u)
            #expect(text.contains("\nStateDirectory=mt\n") && !text.contains("\nReadWritePaths="), "\(u)")
        }

        // The check can fail: a misspelt key is reported.
        _ = try dir.write("mt-status.service", try FileSystem.readString(dir.path + "/mt-status.service")
            .replacingOccurrences(of: "PrivateTmp=", with: "PrivateTemp="), mode: 0o644)
        let bad = try Run.program(analyze, ["verify", "--man=no", dir.path + "/mt-status.service"])
        #expect(bad.stderr.contains("PrivateTemp"))
    }

    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw MTError(.software, "no free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
