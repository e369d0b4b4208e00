import Foundation
import MTCore

/// `mt status`: the state of an export host at a glance, and the dead man's switch (`--max-age`).
public struct StatusCommand: Command {
    public static let name = "status"
    public static let summary = "show when exports last ran and worked; alert when they stopped (--max-age)"
    public static let usage = """
        mt status [SERVER|.] [--max-age DURATION] [--remote] [--json]
        """
    public static let help = """
        One screen per server (every server with ., the default): when the last export ran, its outcome and exit
        code; when an export last succeeded (exit 0 or 1: every selected scale handled); whether a run holds the
        data directory lock now (pid, for how long); free disk space at PATH. Per scale: the last complete fetch,
        the last archive and delete, entries archived in the last 24 hours and 7 days, leftovers (entries still on
        the server after the last run allowed to delete them), entries held back, a pending CSV journal, and the
        age of the newest archive.

        Read-only and fast: it reads PATH/state (the run record state/last_run.json that every export run
        rewrites, and export's state files), the archive names in raw_data, and nothing else; no server is
        contacted unless --remote is given. PATH/state alone is enough (another machine may copy or mount it).
        """

    public static let options: [OptionSpec] = [
        .value("--max-age", "DURATION", """
            dead man's switch: when a READY server's last successful export is older than
            DURATION (90s, 30m, 2h, 1d, 1h30m; a bare number is seconds), or it never had one,
            say so on stderr, send one alert mail per such server (ALERT_EMAIL) and exit 1
            """),
        .flag("--remote", "also ask each server for its list of scales (entries waiting per scale)"),
        .global("--json", "the same as JSON (times in Unix seconds)"),
    ]

    public static let notes = """
          */5 * * * *  mt export -q
          17 * * * *   mt status --max-age 30m -q    # a second cron line: mails when exports stop working
        """

    public static let exitStatus = """
        EXIT STATUS: 0 shown; 1 --max-age and a READY server's last success is older (or missing), or a scale
        exported before is no longer in the server's list (by the last run, or by --remote); 64 usage error;
        69 --remote and a server did not answer as expected; 78 configuration error.
        """

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        var p = ArgumentParser(arguments, for: Self.self)
        let remote = p.flag("--remote")
        var maxAge: Double?
        if let text = try p.value("--max-age") {
            guard let d = DurationText.parse(text), d > 0 else {
                throw MTError.usage("--max-age expects a duration such as 30m, 2h or 1d, got '\(text)'", usage: usage)
            }
            maxAge = d
        }
        let args = try p.positionals(max: 1)
        let config = try context.loadConfig()
        let now = Date()
        var statuses = try config.select(args.first, readyOnly: false).map { ServerStatus.read($0, now: now) }
        if remote { for i in statuses.indices { statuses[i].readRemote() } }

        var exit = ExitCode.ok
        if statuses.contains(where: { $0.remoteError != nil }) { exit = .unavailable }
        for s in statuses where !s.vanished.isEmpty {
            exit = max(exit, .problems)
            context.stderr.line("mt status: server \(s.server.name): no longer in the server's list of scales, though exported here before: \(s.vanished.joined(separator: ", "))")
        }
        var alerts: [String: Bool] = [:]
        if let maxAge {
            for s in statuses where s.server.ready && s.isStale(maxAge: maxAge) {
                exit = max(exit, .problems)
                let text = staleText(s, maxAge: maxAge)
                context.stderr.line("mt status: \(text)")
                alerts[s.server.name] = sendAlert(s, text: text, context: context)
            }
        }
        if context.global.json {
            let doc = JSONValue.object([("exit", .int(exit.rawValue)),
                                        ("servers", .array(statuses.map { json($0, maxAge: maxAge, alertSent: alerts[$0.server.name]) }))])
            context.stdout.write(JSONWriter.bytes(doc, pretty: true) + [0x0A])
        } else if context.global.verbosity != .quiet {
            context.stdout.write(statuses.map { text($0, maxAge: maxAge) }.joined(separator: "\n"))
        }
        return exit
    }

    static func staleText(_ s: ServerStatus, maxAge: Double) -> String {
        guard let last = s.record?.lastSuccess else {
            return "server \(s.server.name): no successful export recorded in \(ExportRunRecord.path(layout: DataLayout(server: s.server)))"
        }
        let age = DurationText.format(s.now.timeIntervalSince1970 - last)
        return "server \(s.server.name): the last successful export was \(age) ago (\(stamp(last))), more than --max-age \(DurationText.format(maxAge))"
    }

    /// One mail per stale server through the alert mailer; a failed mail is reported, never thrown.
    static func sendAlert(_ s: ServerStatus, text: String, context: CommandContext) -> Bool {
        guard let alert = s.server.alert else {
            context.stderr.line("mt status: server \(s.server.name) has no ALERT_EMAIL; nobody was mailed")
            return false
        }
        var body = """
            mt status on \(ProcessInfo.processInfo.hostName) found that exports of server \(s.server.name) \
            (\(s.server.apiBase)) have stopped working:

            \(text).

            """
        if let r = s.record {
            body += "The last export run ended \(stamp(r.finished)) with exit \(r.exit.rawValue) (\(r.outcome))"
            body += r.error.map { ": \($0)" } ?? ""
            body += ".\n"
        }
        body += """

            Check that the cron line or systemd timer of mt export still runs on the export host, that the host is up,
            and the logs in \(s.server.logsDirectory) (error.log, break_down.log). `mt status` there shows the details.
            """
        do {
            try AlertMailer(config: alert).send(subject: "mt status: exports of \(s.server.name) have stopped", body: body)
            return true
        } catch {
            context.stderr.line("mt status: \(error.asMTError.message)")
            return false
        }
    }

    static func stamp(_ t: Double) -> String {
        LocalTime.strftime("%Y-%m-%d %H:%M:%S", Date(timeIntervalSince1970: t))
    }

    static func ago(_ t: Double?, _ now: Date) -> String {
        guard let t else { return "-" }
        return DurationText.format(now.timeIntervalSince1970 - t)
    }

    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
    }

    static func text(_ s: ServerStatus, maxAge: Double?) -> String {
        let now = s.now
        var out = "\(s.server.name): \(s.health(maxAge: maxAge))\n"
        func row(_ k: String, _ v: String) { out += "  " + k.padding(toLength: 14, withPad: " ", startingAt: 0) + v + "\n" }
        row("server", "\(s.server.apiBase) (\(s.server.ready ? "READY" : "not READY"), DELETE_MODE \(s.server.deleteMode ? "on" : "off"))")
        if let r = s.record {
            var line = "\(stamp(r.finished)) (\(ago(r.finished, now)) ago): \(r.outcome), exit \(r.exit.rawValue), took \(DurationText.format(r.finished - r.started))"
            if let e = r.error { line += ": \(e)" }
            row("last export", line)
            row("last success", r.lastSuccess.map { "\(stamp($0)) (\(ago($0, now)) ago)" } ?? "never")
        } else {
            row("last export", "never (no \(ExportRunRecord.path(layout: DataLayout(server: s.server))))")
        }
        row("lock", s.lock.map { "held by pid \($0.pid) for \(DurationText.format(now.timeIntervalSince($0.since)))" } ?? "free")
        if let b = s.record?.backlog {
            var line = "\(b.records) of SERVER_MAX_RECORDS \(b.limit) (\(b.percent)) deleteable records on the server, \(ago(b.time, now)) ago"
            if b.level != .normal { line += b.level == .critical ? ": CRITICAL, the server stops serving sessions past the limit" : ": warning, half the limit" }
            row("backlog", line)
        }
        row("free disk", s.freeBytes.map { "\(bytes($0)) at \(s.server.path)" } ?? "unknown (\(s.server.path) cannot be read)")
        for p in s.problems { row("problem", p) }
        for name in s.vanished { row("vanished", "\(name): exported here before, no longer in the server's list of scales") }
        if let e = s.remoteError { row("remote", "failed: \(e)") }
        if let list = s.remote { row("remote", "answered: \(list.count) scales") }
        guard !s.scales.isEmpty || s.remote != nil else { return out }
        var head = ["SCALE", "LAST FETCH", "LAST ARCHIVE", "LAST DELETE", "ARCHIVED 24H", "7D", "LEFT", "HELD", "JOURNAL",
                    "NEWEST ARCHIVE", "LAST RUN"]
        if s.remote != nil { head.append("ON SERVER") }
        var rows: [[String]] = []
        var names = s.scales.map(\.name)
        for r in s.remote ?? [] where !names.contains(r.name) { names.append(r.name) }
        for name in names {
            let c = s.scales.first { $0.name == name } ?? ServerStatus.ScaleStatus(name: name)
            var last = "-"
            if let code = c.lastExit { last = code == ExitCode.ok ? "ok" : "exit \(code.rawValue): \(c.lastStatus ?? "")" }
            if let p = c.problem { last = p }
            let left: String = c.leftovers.map { String($0) } ?? "-"
            let journal = c.pendingJournal ? "pending" : "-"
            var r: [String] = [name, ago(c.lastFetch, now), ago(c.lastArchive, now), ago(c.lastDelete, now)]
            r += [String(c.archived24h), String(c.archived7d), left, String(c.heldBack), journal]
            r += [ago(c.newestArchive, now), last]
            if let remote = s.remote {
                r.append(remote.first { $0.name == name }.map { $0.size.map(String.init) ?? "?" } ?? "not listed")
            }
            rows.append(r)
        }
        var width = head.map(\.count)
        for r in rows { for (i, f) in r.enumerated() { width[i] = max(width[i], f.count) } }
        func line(_ r: [String]) -> String {
            r.enumerated().map { i, f in f.padding(toLength: width[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        out += "\n  " + line(head) + "\n" + rows.map { "  " + line($0) + "\n" }.joined()
        out += "  (times are how long ago; LEFT is - where deleting is off)\n"
        return out
    }

    static func json(_ s: ServerStatus, maxAge: Double?, alertSent: Bool?) -> JSONValue {
        func time(_ t: Double?) -> JSONValue { t.map { .number(String(format: "%.3f", $0)) } ?? .null }
        var fields: [(String, JSONValue)] = [
            ("server", .string(s.server.name)), ("ready", .bool(s.server.ready)), ("deleteMode", .bool(s.server.deleteMode)),
            ("path", .string(s.server.path)), ("health", .string(s.health(maxAge: maxAge))),
            ("now", time(s.now.timeIntervalSince1970)),
        ]
        if let maxAge { fields.append(("stale", .bool(s.server.ready && s.isStale(maxAge: maxAge)))) }
        if let alertSent { fields.append(("alertSent", .bool(alertSent))) }
        if let r = s.record {
            fields.append(("lastRun", .object([("started", time(r.started)), ("finished", time(r.finished)),
                                               ("exit", .int(r.exit.rawValue)), ("outcome", .string(r.outcome)),
                                               ("error", r.error.map(JSONValue.string) ?? .null), ("pid", .int(r.pid))])))
        } else {
            fields.append(("lastRun", .null))
        }
        fields.append(("lastSuccess", time(s.record?.lastSuccess)))
        fields.append(("lock", s.lock.map { .object([("pid", .int($0.pid)), ("since", time($0.since.timeIntervalSince1970))]) } ?? .null))
        fields.append(("backlog", s.record?.backlog?.json ?? .null))
        fields.append(("freeBytes", s.freeBytes.map { .int($0) } ?? .null))
        fields.append(("problems", .array(s.problems.map(JSONValue.string))))
        fields.append(("vanished", .array(s.vanished.map(JSONValue.string))))
        fields.append(("scales", .array(s.scales.map { c in
            .object([("scale", .string(c.name)), ("deleteable", c.deleteable.map(JSONValue.bool) ?? .null),
                     ("lastFetch", time(c.lastFetch)), ("lastSuccess", time(c.lastSuccess)),
                     ("lastArchive", time(c.lastArchive)), ("lastDelete", time(c.lastDelete)),
                     ("archived24h", .int(c.archived24h)), ("archived7d", .int(c.archived7d)),
                     ("leftovers", c.leftovers.map { .int($0) } ?? .null), ("heldBack", .int(c.heldBack)),
                     ("pendingJournal", .bool(c.pendingJournal)), ("newestArchive", time(c.newestArchive)),
                     ("lastExit", c.lastExit.map { .int($0.rawValue) } ?? .null),
                     ("lastStatus", c.lastStatus.map(JSONValue.string) ?? .null),
                     ("problem", c.problem.map(JSONValue.string) ?? .null)])
        })))
        if s.remote != nil || s.remoteError != nil {
            fields.append(("remote", .object([
                ("error", s.remoteError.map(JSONValue.string) ?? .null),
                ("scales", .array((s.remote ?? []).map { .object([("scale", .string($0.name)),
                                                                   ("size", $0.size.map { .int($0) } ?? .null),
                                                                   ("deleteable", .bool($0.deleteable))]) })),
            ])))
        }
        return .object(fields)
    }
}
