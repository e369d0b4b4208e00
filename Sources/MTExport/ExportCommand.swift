import MTCore

/// `mt export`: download each scale, archive it, write CSVs, delete what is archived. The pipeline lives in
/// `ExportEngine.swift` and `ExportSteps.swift` beside it; this file parses arguments and prints the summary.
public struct ExportCommand: Command {
    public static let name = "export"
    public static let summary = "download each scale, archive it, write CSVs, delete what is archived"
    public static let usage = """
        mt export [SERVER|.] [SCALE|.|all|static] [--dry-run] [--no-delete] [--concurrency N] [--after STAMP]
        """
    public static let help = """
        SERVER is a server block of the config; `.` (default) means every READY server. A named server must be
        READY. SCALE is `.` (default: deleteable scales only, the 5-minute cron run), `static` (non-deleteable
        scales only, the daily run), `all`, or one scale's exact name.

        Per scale: fetch; check the answer (HTTP 200, JSON, an array of objects with a whole-number id); write the
        server's bytes as a gzip archive in raw_data (temporary file, fsync, rename, folder fsync), read it back
        and verify it, record its SHA-256; append the new rows, decrypted, to active_data/<Scale>_<DATE>.csv when
        PRIVATE_FILE is set (crash-safe, each entry once); then, with DELETE_MODE on and a deleteable scale,
        delete the archived entries (ledger/deletions.tsv first); then update benchMark.json.
        """

    public static let options: [OptionSpec] = [
        .flag("--dry-run", "fetch and check only: nothing is written or deleted"),
        .flag("--no-delete", "archive and write CSVs, delete nothing (even with DELETE_MODE)"),
        .integer("--concurrency", "N", range: 1...64, """
            parallel DELETE connections to start with (1-64; default CONCURRENCY, 4); they
            grow towards MAX_CONCURRENCY (16) while the server keeps up, halve on 5xx
            """),
        .value("--after", "STAMP", """
            only entries after STAMP (yyyy-MM-dd-HH-mm-ss) for every selected scale; the
            server reads it in its own JVM zone (US servers: UTC-5), not UTC. Non-deleteable
            scales whose every row has a date get after=<last fetch - 26 h 5 min> (UTC)
            automatically, and a full fetch at least weekly; rows fetched twice are dropped by id
            """),
    ]

    public static let notes = """
        An archive is in raw_data/SHA256SUMS before anything else happens; if its line cannot be written, the
        run stops there (nothing more fetched or deleted). A scale the server lists with entries but whose
        answer holds none is a warning in the log and the summary (exit 0): nothing was sent, nothing is lost.
        A log file that cannot be written is said once on stderr, told in the alert mail, and the run exits 1.
        Critical events are mailed once a run; the same alerts again only after ALERT_REPEAT (default 1h, 0:
        every run), a new one at once, and the end of all alerts once ("resolved"; PATH/state/alerts.json).
        A first run on an empty PATH is not an alert. A misspelt key (DELET_MODE) is critical and exits 1.
        Benchmark marks written as 50.0 or "50" are read with a warning and written back as whole numbers.

        Silent on success when stderr is not a terminal (cron); the summary table (or --json) is printed
        otherwise, and always when something went wrong. On a terminal (without -q) a line per scale and a bar
        for large fetches and for deletes show the progress.

        Every run but a dry run ends by rewriting PATH/state/last_run.json, read by mt status; with METRICS_FILE
        (a server or defaults: key) it also rewrites that file in the Prometheus text format (node_exporter's
        textfile collector).
          */5 * * * *  mt export -q          # deleteable scales, every 5 minutes
          17 3 * * *   mt export . static -q # non-deleteable scales, daily
          17 * * * *   mt status --max-age 30m -q  # mails when exports have stopped working
        """

    public static let exitStatus = """
        EXIT STATUS (mt export: the worst outcome of every server and scale)
          0   every selected scale was handled
          1   partial: leftovers still on the server, entries held back because their id is already written
              with other content (ids restarted?), a scale whose deleteability changed, values that could
              not be decrypted (ciphertext kept), a log file that could not be written (said once on stderr
              and in the alert mail), a misspelt key in the server's block (DELET_MODE: not in force)
          64  usage error, or a named scale the server does not list
          65  an archive needed to finish an interrupted CSV append is corrupt, or the key does not match
          69  a server was unreachable or answered unexpectedly (status, HTML, not JSON, wrong shape, unsafe
              scale name, DELETE answered 403/other or failed after the retries; a DELETE answered 302 or
              401: the login expired or the password changed)
          73  a symlink, or a file where a folder belongs, in the data directory (raw_data, state, ledger,
              logs, SHA256SUMS, deletions.tsv, a CSV, .mt.lock): mt never follows it; move it aside.
              Folders and ledgers are checked before anything is fetched; nothing is deleted
          74  the data directory could not be written (disk full, read-only, permissions): nothing deleted
          75  another run holds the data directory lock (one info line; cron tries again), or a withdrawal
              is unfinished (state/withdrawal.json; run mt withdraw again)
          77  a key or config file holding a secret is readable by others
          78  configuration error (unknown or not READY server, no password, key cannot be loaded, a URL
              with user:password@)
        """

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        var args = ArgumentParser(arguments, for: Self.self)
        var options = ExportOptions()
        options.dryRun = args.flag("--dry-run")
        options.noDelete = args.flag("--no-delete")
        options.concurrency = try args.int("--concurrency")
        if let stamp = try args.value("--after") {
            guard let after = AfterStamp(stamp) else {
                throw MTError.usage("--after expects yyyy-MM-dd-HH-mm-ss (in the server's zone), got '\(stamp)'", usage: usage)
            }
            options.after = after
        }
        let positionals = try args.positionals(max: 2)
        options.server = positionals.first
        options.scales = ScaleSelector(argument: positionals.count > 1 ? positionals[1] : nil)

        var report = try ExportEngine.run(options: options, context: context)
        report.logFailures = context.logHealth.failures
        if context.global.json {
            context.stdout.write(JSONWriter.bytes(report.json, pretty: true) + [0x0A])
        } else if report.exit == .tempFail && report.servers.allSatisfy({ $0.scales.isEmpty }) {
            // Locked out: the one info line is all (cron must not mail every 5 minutes while a long run works).
        } else if report.exit != .ok || context.stderrIsTerminal || context.stdout.isTerminal || context.global.verbosity == .verbose {
            context.stdout.write(Untrusted.message(report.table))
        }
        return report.exit
    }
}
