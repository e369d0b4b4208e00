import Foundation

/// The `METRICS_FILE` of `mt export`: Prometheus text exposition format for node_exporter's textfile collector.
///
/// Built from the servers' run records (state/last_run.json) rather than from this run's outcome alone, so that
/// servers sharing one file (a `defaults:` key) all stay in it when a run exports only one of them, and a server
/// that was not exported this time keeps its old timestamps (which is what makes a silence visible).
public enum ExportMetrics {
    public struct Server: Sendable {
        public var name: String
        public var record: ExportRunRecord?
        /// scale → held-back entries and whether a CSV append journal is pending, from the export state.
        public var heldBack: [String: Int]
        public var pending: [String: Bool]

        public init(name: String, record: ExportRunRecord?, heldBack: [String: Int] = [:], pending: [String: Bool] = [:]) {
            self.name = name
            self.record = record
            self.heldBack = heldBack
            self.pending = pending
        }

        /// Everything the metrics need from one server's data directory (read-only).
        public static func read(_ server: ServerConfig) -> Server {
            let layout = DataLayout(server: server)
            let record = try? ExportRunRecord.load(layout: layout)
            var held: [String: Int] = [:], pending: [String: Bool] = [:]
            for s in record?.scales ?? [] {
                guard let state = try? ExportScaleState.load(scale: s.name, layout: layout) else { continue }
                held[s.name] = state.heldBack.count
                pending[s.name] = state.pending != nil
            }
            return Server(name: server.name, record: record, heldBack: held, pending: pending)
        }
    }

    /// `value` of a label, escaped as the exposition format requires (backslash, double quote, newline).
    static func label(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.3f", v) }

    /// The whole file. Every family is announced with HELP and TYPE even when empty, so dashboards and alert rules
    /// find their names from the first run on.
    public static func text(_ servers: [Server]) -> String {
        var out = ""
        func family(_ name: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for s in samples { out += "\(name){\(s.labels)} \(number(s.value))\n" }
        }
        let recorded = servers.compactMap { s in s.record.map { (s, $0) } }
        func server(_ s: Server) -> String { "server=\"\(label(s.name))\"" }
        func perServer(_ f: (ExportRunRecord) -> Double?) -> [(labels: String, value: Double)] {
            recorded.compactMap { s, r in f(r).map { (server(s), $0) } }
        }
        func perScale(_ f: (Server, ExportRunRecord.Scale) -> Double?) -> [(labels: String, value: Double)] {
            recorded.flatMap { s, r in
                r.scales.compactMap { c in f(s, c).map { ("\(server(s)),scale=\"\(label(c.name))\"", $0) } }
            }
        }
        family("mt_export_server_last_run_timestamp_seconds", "End of the last mt export run on the server (Unix time).",
               perServer { $0.finished })
        family("mt_export_server_last_success_timestamp_seconds",
               "End of the last mt export run that handled every selected scale, exit 0 or 1 (Unix time).",
               perServer { $0.lastSuccess })
        family("mt_export_last_run_duration_seconds", "Duration of the last mt export run on the server.",
               perServer { max($0.finished - $0.started, 0) })
        family("mt_export_last_run_exit_code", "Exit code of the last mt export run on the server (see mt-export(1)).",
               perServer { Double($0.exit.rawValue) })
        family("mt_export_server_backlog_records",
               "Records of deleteable scales on the server (the sum of size in its list) when a run last read it.",
               perServer { $0.backlog.map { Double($0.records) } })
        family("mt_export_server_max_records",
               "SERVER_MAX_RECORDS: past this backlog the study server stops showing sessions to participants.",
               perServer { $0.backlog.map { Double($0.limit) } })
        family("mt_export_last_run_timestamp_seconds", "End of the last mt export run that selected the scale (Unix time).",
               perScale { $1.lastRun })
        family("mt_export_last_success_timestamp_seconds",
               "End of the last mt export run that handled the scale completely, exit 0 or 1 (Unix time).",
               perScale { $1.lastSuccess })
        family("mt_export_last_run_scale_exit_code", "Exit code of the scale in the last run that selected it.",
               perScale { Double($1.exit.rawValue) })
        family("mt_export_fetched_entries", "Entries the server sent in the last run that selected the scale.",
               perScale { Double($1.fetched) })
        family("mt_export_archived_entries", "Entries archived by the last run that selected the scale.",
               perScale { Double($1.archived) })
        family("mt_export_deleted_entries", "Entries deleted from the server by the last run that selected the scale.",
               perScale { Double($1.deleted) })
        family("mt_export_failed_delete_entries", "DELETEs that failed after the retries in the last run that selected the scale.",
               perScale { Double($1.failed) })
        family("mt_export_leftover_entries",
               "Entries left on the server after the last run allowed to delete the scale (absent when deleting is off).",
               perScale { $1.leftovers.map(Double.init) })
        family("mt_export_held_back_entries", "Entries held back on the server until someone checks them (mt benchmark).",
               perScale { s, c in s.heldBack[c.name].map(Double.init) })
        family("mt_export_pending_journal", "1 while a CSV append journal is waiting to be finished by the next run.",
               perScale { s, c in s.pending[c.name].map { $0 ? 1 : 0 } })
        return out
    }

    /// Rewrites every METRICS_FILE the configuration names, each with all servers that name it; returns the files
    /// that could not be written. A failure is reported on stderr (so cron mails it) and makes the run exit 1:
    /// the data was handled, but the staleness alert built on the file would never see this run.
    public static func writeAll(config: MTConfig, context: CommandContext) -> [String] {
        var failed: [String] = []
        var files: [String: [ServerConfig]] = [:]
        var order: [String] = []
        for s in config.servers {
            guard let f = s.metricsFile else { continue }
            if files[f] == nil { order.append(f) }
            files[f, default: []].append(s)
        }
        for file in order {
            let text = self.text(files[file]!.map(Server.read))
            do {
                try ExportNeeds.checkMetricsFile(file)
                // node_exporter runs as its own user: the file must be readable by it whatever the umask (it holds
                // no secrets). The temporary name does not end in .prom, so the collector never reads a half file.
                try FileSystem.writeAtomically(to: file, mode: 0o644) { fd in
                    fchmod(fd, 0o644)
                    try FileSystem.writeAll(fd, Array(text.utf8), path: file)
                }
            } catch {
                context.stderr.line("mt export: METRICS_FILE \(file) could not be written: \(error.asMTError.message) (the data was handled; this run exits 1 so that the monitoring built on the file does not miss it)")
                failed.append(file)
            }
        }
        return failed
    }
}
