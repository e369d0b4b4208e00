import Foundation

/// What `mt export` last did on one data directory, in `PATH/state/last_run.json`, rewritten atomically at the
/// end of every run that held the lock (dry runs and locked-out runs leave it alone).
///
/// It is the durable answer to "when did an export last work?", which `mt status`, its dead man's switch and the
/// metrics file need; nothing in it is needed to export correctly, so a lost or damaged record costs history,
/// never data. Per-scale times carry over from run to run: the 5-minute run keeps the daily scales' times.
public struct ExportRunRecord: Sendable, Equatable {
    public struct Batch: Sendable, Equatable {
        public var time: Double
        public var entries: Int
        public init(time: Double, entries: Int) { self.time = time; self.entries = entries }
    }

    public struct Scale: Sendable, Equatable {
        public var name: String
        public var deleteable = true
        /// The last run that selected this scale, with its outcome and counts.
        public var lastRun: Double?
        public var exit: ExitCode = .ok
        public var status = ""
        public var fetched = 0
        public var archived = 0
        public var deleted = 0
        public var failed = 0
        /// Entries left on the server by the last run that was allowed to delete this scale; nil when deleting is
        /// off for it (non-deleteable, DELETE_MODE off, --no-delete), where "left" would mean nothing.
        public var leftovers: Int?
        /// The last run that handled the scale completely (exit 0 or 1).
        public var lastSuccess: Double?
        /// The last run that wrote an archive, and the last that deleted anything.
        public var lastArchive: Double?
        public var lastDelete: Double?
        /// The archives written in the last 7 days, for "archived in 24 h / 7 days".
        public var history: [Batch] = []
        /// Every entry the server confirmed deleted (200 or 404) over all recorded runs: the deletion ledger
        /// holds at least as many lines, since each DELETE is recorded there before it is sent. `mt verify`
        /// compares the two to notice a data directory that lost files the record outlived.
        public var deletedTotal = 0
        /// The last run found the scale missing from the server's list (`DataLayout.vanishedScales`).
        public var vanished = false

        public init(name: String) { self.name = name }

        public func archived(since: Double) -> Int {
            history.filter { $0.time >= since }.reduce(0) { $0 + $1.entries }
        }
    }

    public var started: Double
    public var finished: Double
    public var exit: ExitCode
    /// The server-level failure that stopped the run (lock, config, list of scales), if any.
    public var error: String?
    public var pid: Int32
    /// The last run that reached the server and handled every selected scale (exit 0 or 1).
    public var lastSuccess: Double?
    public var scales: [Scale]
    /// The server's backlog when a run last read its list of scales.
    public var backlog: Backlog?

    public init(started: Double, finished: Double, exit: ExitCode, error: String? = nil, pid: Int32,
                lastSuccess: Double? = nil, scales: [Scale]) {
        self.started = started
        self.finished = finished
        self.exit = exit
        self.error = error
        self.pid = pid
        self.lastSuccess = lastSuccess
        self.scales = scales
    }

    public static let fileName = "last_run.json"
    static let historyWindow: Double = 7 * 86_400

    public static func path(layout: DataLayout) -> String { layout.state + "/" + fileName }

    /// "ok", "partial" (exit 1: something to look at, reported by the run itself) or "failed".
    public var outcome: String {
        switch exit {
        case .ok: "ok"
        case .problems: "partial"
        default: "failed"
        }
    }

    /// The record after a run: this run's outcome on top of the previous record.
    public static func after(_ outcome: ServerOutcome, previous: ExportRunRecord?, started: Date, finished: Date,
                             deleting: Bool) -> ExportRunRecord {
        let end = finished.timeIntervalSince1970
        var byName: [String: Scale] = [:]
        for s in previous?.scales ?? [] { byName[s.name] = s }
        for o in outcome.scales {
            var s = byName[o.scale] ?? Scale(name: o.scale)
            s.deleteable = o.deleteable
            s.lastRun = end
            s.exit = o.exit
            s.status = o.status.description
            s.fetched = o.fetched
            s.archived = o.archived
            s.deleted = o.deleted
            s.failed = o.failed
            s.deletedTotal += o.deleted
            s.vanished = o.status == .vanished
            let handled = o.exit <= .problems && !s.vanished
            if deleting && o.deleteable && handled { s.leftovers = o.left } else if !(deleting && o.deleteable) { s.leftovers = nil }
            if handled { s.lastSuccess = end }
            if o.archived > 0 {
                s.lastArchive = end
                s.history.append(Batch(time: end, entries: o.archived))
            }
            if o.deleted > 0 { s.lastDelete = end }
            byName[o.scale] = s
        }
        for (k, var s) in byName {
            s.history.removeAll { $0.time < end - historyWindow }
            byName[k] = s
        }
        let success = outcome.error == nil && outcome.exit <= .problems
        var record = ExportRunRecord(started: started.timeIntervalSince1970, finished: end, exit: outcome.exit,
                                     error: outcome.error?.message, pid: getpid(),
                                     lastSuccess: success ? end : previous?.lastSuccess,
                                     scales: byName.values.sorted { $0.name < $1.name })
        record.backlog = outcome.backlog ?? previous?.backlog
        return record
    }

    /// nil when no run has been recorded yet.
    public static func load(layout: DataLayout) throws -> ExportRunRecord? {
        let p = path(layout: layout)
        guard FileSystem.exists(p) else { return nil }
        let v: JSONValue
        do { v = try JSONParser.parse(FileSystem.read(p)) } catch {
            throw MTError(.dataError, "\(p): the export run record is not valid JSON (\(error))",
                          hint: "it is rewritten atomically by every export run, so this is damage from outside; delete it and the next run writes a new one")
        }
        func time(_ x: JSONValue?) -> Double? { if case .number(let n)? = x { Double(n) } else { nil } }
        func int(_ x: JSONValue?) -> Int { x?.int64Value.map { Int(clamping: $0) } ?? 0 }
        func code(_ x: JSONValue?) -> ExitCode { x?.int64Value.flatMap { ExitCode(rawValue: Int32(clamping: $0)) } ?? .software }
        guard let started = time(v["started"]), let finished = time(v["finished"]) else {
            throw MTError(.dataError, "\(p): the export run record has no start or end time",
                          hint: "delete it; the next export run writes a new one")
        }
        var scales: [Scale] = []
        for (name, f) in v["scales"]?.objectFields ?? [] where SafeName.isValidScale(name) {
            var s = Scale(name: name)
            if case .bool(let b)? = f["deleteable"] { s.deleteable = b }
            s.lastRun = time(f["lastRun"])
            s.exit = code(f["exit"])
            s.status = f["status"]?.stringValue ?? ""
            s.fetched = int(f["fetched"])
            s.archived = int(f["archived"])
            s.deleted = int(f["deleted"])
            s.failed = int(f["failed"])
            s.deletedTotal = int(f["deletedTotal"])
            if case .bool(let b)? = f["vanished"] { s.vanished = b }
            s.leftovers = f["leftovers"]?.int64Value.map { Int(clamping: $0) }
            s.lastSuccess = time(f["lastSuccess"])
            s.lastArchive = time(f["lastArchive"])
            s.lastDelete = time(f["lastDelete"])
            s.history = (f["history"]?.arrayValues ?? []).compactMap { b in
                guard let pair = b.arrayValues, pair.count == 2, let t = time(pair[0]), let n = pair[1].int64Value else { return nil }
                return Batch(time: t, entries: Int(clamping: n))
            }
            scales.append(s)
        }
        var record = ExportRunRecord(started: started, finished: finished, exit: code(v["exit"]), error: v["error"]?.stringValue,
                                     pid: Int32(clamping: v["pid"]?.int64Value ?? 0), lastSuccess: time(v["lastSuccess"]),
                                     scales: scales)
        record.backlog = Backlog.read(v["backlog"])
        return record
    }

    public var json: JSONValue {
        func time(_ t: Double) -> JSONValue { .number(String(format: "%.3f", t)) }
        func opt(_ t: Double?) -> JSONValue { t.map(time) ?? .null }
        return .object([
            ("started", time(started)), ("finished", time(finished)), ("exit", .int(exit.rawValue)),
            ("outcome", .string(outcome)), ("error", error.map(JSONValue.string) ?? .null), ("pid", .int(pid)),
            ("lastSuccess", opt(lastSuccess)), ("backlog", backlog?.json ?? .null),
            ("scales", .object(scales.map { s in
                (s.name, .object([
                    ("deleteable", .bool(s.deleteable)), ("lastRun", opt(s.lastRun)), ("exit", .int(s.exit.rawValue)),
                    ("status", .string(s.status)), ("fetched", .int(s.fetched)), ("archived", .int(s.archived)),
                    ("deleted", .int(s.deleted)), ("deletedTotal", .int(s.deletedTotal)), ("vanished", .bool(s.vanished)), ("failed", .int(s.failed)),
                    ("leftovers", s.leftovers.map { .int($0) } ?? .null), ("lastSuccess", opt(s.lastSuccess)),
                    ("lastArchive", opt(s.lastArchive)), ("lastDelete", opt(s.lastDelete)),
                    ("history", .array(s.history.map { .array([time($0.time), .int($0.entries)]) })),
                ]))
            })),
        ])
    }

    public func save(layout: DataLayout) throws {
        try FileSystem.makeDirectories(layout.state)
        try FileSystem.writeAtomically(JSONWriter.bytes(json, pretty: true) + [0x0A], to: Self.path(layout: layout), mode: 0o600)
    }
}
