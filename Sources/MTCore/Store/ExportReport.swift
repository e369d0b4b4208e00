import Foundation

/// The one-line verdict on a scale; control flow reads the case, the table and the JSON its text.
public enum ScaleStatus: Sendable, Equatable, CustomStringConvertible {
    case ok
    /// The answer was byte-identical to the last archive, which was reused.
    case unchanged
    /// Finished, with problems the log explains (the exit code says which).
    case problems
    /// The scale list promised entries and the answer held none.
    case emptyAnswer(listed: Int)
    /// `--dry-run`: what a real run would do.
    case dryRun(String)
    case deletesFailed(Int)
    /// The scale stopped: the error's message.
    case failed(String)
    /// This data directory exported the scale before, and the server's list no longer holds it.
    case vanished

    public var description: String {
        switch self {
        case .ok: "ok"
        case .unchanged: "unchanged"
        case .problems: "problems (see the log)"
        case .emptyAnswer(let n): "warning: listed \(n) entries, sent none"
        case .dryRun(let s): "dry run: " + s
        case .deletesFailed(let n): "\(n) deletes failed"
        case .failed(let message): message
        case .vanished: "warning: no longer in the server's list of scales"
        }
    }
}

/// What happened to one scale of one server.
public struct ScaleOutcome: Sendable, Equatable {
    public var scale: String
    public var deleteable: Bool
    /// Entries the server sent.
    public var fetched = 0
    /// Entries in the archive this run wrote (0 when nothing new or an identical snapshot).
    public var archived = 0
    /// The archive written, if any.
    public var archive: String?
    /// Rows written to the active CSVs (including rows replayed after a crash).
    public var written = 0
    /// Entries deleted from the server (404 "already gone" included).
    public var deleted = 0
    /// Deletes that failed after the retries.
    public var failed = 0
    /// Worst outcome of the scale.
    public var exit: ExitCode = .ok
    /// Short status for the table.
    public var status = ScaleStatus.ok

    public init(scale: String, deleteable: Bool) {
        self.scale = scale
        self.deleteable = deleteable
    }

    /// Entries still on the server after this run.
    public var left: Int { max(fetched - deleted, 0) }
}

public struct ServerOutcome: Sendable, Equatable {
    public var server: String
    public var scales: [ScaleOutcome] = []
    /// A failure that stopped the whole server (lock, config, list of scales).
    public var error: MTError?
    public var alertSent = false
    /// Misspelt keys of the server's block (`ServerConfig.misspeltKeys`): the run went on without them (1).
    public var misspeltKeys: [String] = []
    /// The server's backlog as its list of scales gave it at the start of the run (sum of `size` over deleteable
    /// scales), and the limit it was held against; nil when the list was not read.
    public var backlog: Backlog?
    /// The run record could not be written: the work was done, but mt status would not see it (1).
    public var recordFailed = false

    public init(server: String) { self.server = server }

    public var exit: ExitCode {
        ExitCode.worst(scales.map(\.exit) + [error?.exitCode ?? .ok, recordFailed ? .problems : .ok,
                                              misspeltKeys.isEmpty ? .ok : .problems])
    }
}

/// The end summary of `mt export`: a table per server and scale, or JSON.
public struct ExportReport: Sendable, Equatable {
    public var servers: [ServerOutcome]
    /// Log files that could not be written during the run: the work was done, but not all of it recorded (1).
    public var logFailures: [String] = []
    /// METRICS_FILEs that could not be written (1, as a log file).
    public var metricsFailures: [String] = []

    public init(servers: [ServerOutcome]) { self.servers = servers }

    /// 0 ok; otherwise the worst code of any server or scale, or 1 for a log, run record or metrics file that
    /// could not be written (see mt-export(1)).
    public var exit: ExitCode {
        ExitCode.worst(servers.map(\.exit) + [logFailures.isEmpty && metricsFailures.isEmpty ? .ok : .problems])
    }

    public var table: String {
        let head = ["SERVER", "SCALE", "FETCHED", "ARCHIVED", "WRITTEN", "DELETED", "LEFT", "FAILED", "STATUS"]
        var rows: [[String]] = []
        for s in servers {
            if let e = s.error { rows.append([s.server, "-", "", "", "", "", "", "", "\(e.message) (exit \(e.exitCode.rawValue))"]) }
            if s.scales.isEmpty && s.error == nil { rows.append([s.server, "-", "", "", "", "", "", "", "no scale selected"]) }
            for c in s.scales {
                rows.append([s.server, c.scale, String(c.fetched), String(c.archived), String(c.written), String(c.deleted),
                             String(c.left), String(c.failed), c.status.description])
            }
        }
        var width = head.map(\.count)
        for r in rows { for (i, f) in r.enumerated() where i < head.count - 1 { width[i] = max(width[i], f.count) } }
        func line(_ r: [String]) -> String {
            r.enumerated().map { i, f in
                guard i < head.count - 1 else { return f }
                let pad = String(repeating: " ", count: width[i] - f.count)
                return i < 2 ? f + pad : pad + f
            }.joined(separator: "  ")
        }
        return ([line(head)] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    public var json: JSONValue {
        .object([
            ("exit", .int(exit.rawValue)),
            ("logFailures", .array(logFailures.map { .string($0) })),
            ("metricsFailures", .array(metricsFailures.map { .string($0) })),
            ("servers", .array(servers.map { s in
                var fields: [(String, JSONValue)] = [("server", .string(s.server)), ("exit", .int(s.exit.rawValue))]
                if let e = s.error { fields.append(("error", .string(e.message))) }
                fields.append(("alertSent", .bool(s.alertSent)))
                fields.append(("recordFailed", .bool(s.recordFailed)))
                fields.append(("scales", .array(s.scales.map { c in
                    .object([("scale", .string(c.scale)), ("deleteable", .bool(c.deleteable)),
                             ("fetched", .int(c.fetched)), ("archived", .int(c.archived)),
                             ("archive", c.archive.map(JSONValue.string) ?? .null), ("written", .int(c.written)),
                             ("deleted", .int(c.deleted)), ("left", .int(c.left)), ("failed", .int(c.failed)),
                             ("exit", .int(c.exit.rawValue)), ("status", .string(c.status.description))])
                })))
                return .object(fields)
            })),
        ])
    }
}

/// The records waiting on a study server against its own limit (`SERVER_MAX_RECORDS`, the server's
/// `export.maxRecords`): past the limit the server stops serving sessions to participants.
public struct Backlog: Sendable, Equatable {
    public var records: Int
    public var limit: Int
    /// When the server's list said so (Unix time).
    public var time: Double

    public init(records: Int, limit: Int, time: Double) {
        self.records = records
        self.limit = limit
        self.time = time
    }

    /// From the server's list: what its `totalDeleteableRecords()` counts.
    public init(scales: [ScaleInfo], limit: Int, time: Double) {
        self.init(records: scales.filter(\.deleteable).reduce(0) { $0 + ($1.size ?? 0) }, limit: limit, time: time)
    }

    public var fraction: Double { Double(records) / Double(max(limit, 1)) }

    /// 80% and 50% of the limit: the levels at which export alerts (critical, warning).
    public enum Level: Sendable, Equatable { case normal, warning, critical }

    public var level: Level { fraction >= 0.8 ? .critical : fraction >= 0.5 ? .warning : .normal }

    public var percent: String { String(format: "%.1f%%", fraction * 100) }

    public var json: JSONValue {
        .object([("records", .int(records)), ("limit", .int(limit)),
                 ("fraction", .number(String(format: "%.4f", fraction))), ("time", .number(String(format: "%.3f", time)))])
    }

    public static func read(_ v: JSONValue?) -> Backlog? {
        guard let v, let r = v["records"]?.int64Value, let l = v["limit"]?.int64Value,
              case .number(let t)? = v["time"], let time = Double(t) else { return nil }
        return Backlog(records: Int(clamping: r), limit: Int(clamping: l), time: time)
    }
}
