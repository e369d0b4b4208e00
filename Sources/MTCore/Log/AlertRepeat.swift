import Foundation

/// Which alerts of a server have been mailed, and when: `PATH/state/alerts.json`. A failing 5-minute cron run
/// mails an alert it mailed before only once ALERT_REPEAT has passed; a new alert is mailed at once; a run with
/// no alert after mailed ones sends one "resolved" mail. Alertmanager's `repeat_interval` and resolve are the
/// model. The file is history, not data: a damaged or missing one means "nothing mailed yet" (mail rather than
/// keep quiet).
public struct AlertRepeat: Sendable, Equatable {
    public static let format = FileFormat("mt-alert-state", 1)

    /// One alert that was mailed and still occurred in the last run.
    public struct Active: Sendable, Equatable {
        /// The alert's log line without its time stamp and with numbers as `#`: the same fault in every run.
        public var key: String
        /// The line as it was last mailed.
        public var text: String
        /// When it first occurred, and when it was last mailed (seconds since 1970).
        public var since: Double
        public var mailed: Double
    }

    public var active: [Active] = []

    public init(active: [Active] = []) { self.active = active }

    public enum Decision: Sendable, Equatable {
        /// Nothing to mail: no alert now, none mailed before.
        case none
        /// Mail these lines (every alert of the run): one is new, or ALERT_REPEAT has passed.
        case mail([String])
        /// The same alerts as already mailed, ALERT_REPEAT not passed: keep quiet.
        case suppressed(since: Double)
        /// No alert any more: mail once what was alerting.
        case resolved([Active])
    }

    public static func path(root: String) -> String { root + "/state/alerts.json" }

    /// What to do with this run's alert lines; `self` becomes the state to save afterwards.
    public mutating func decide(_ lines: [String], now: Double, repeatInterval: Double) -> Decision {
        guard !lines.isEmpty else {
            let was = active
            active = []
            return was.isEmpty ? .none : .resolved(was)
        }
        let previous = Dictionary(active.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var current: [Active] = []
        var due = false
        for line in lines {
            let key = Self.key(line)
            guard !current.contains(where: { $0.key == key }) else { continue }
            if let p = previous[key] {
                if now - p.mailed >= repeatInterval || now < p.mailed { due = true }
                current.append(Active(key: key, text: line, since: p.since, mailed: p.mailed))
            } else {
                due = true
                current.append(Active(key: key, text: line, since: now, mailed: now))
            }
        }
        if due {
            active = current.map { var a = $0; a.mailed = now; return a }
            return .mail(lines)
        }
        active = current
        return .suppressed(since: current.map(\.mailed).max() ?? now)
    }

    /// The line after its time stamp (the level word onward), every run of digits as `#`.
    static func key(_ line: String) -> String {
        let body = line.range(of: " CRITICAL ").map { String(line[$0.lowerBound...]) } ?? line
        var out = ""
        var inDigits = false
        for c in body.trimmingCharacters(in: .whitespacesAndNewlines) {
            if c.isASCII && c.isNumber {
                if !inDigits { out.append("#") }
                inDigits = true
            } else {
                out.append(c)
                inDigits = false
            }
        }
        return out
    }

    /// The saved state; empty when there is none or it cannot be read. One written by a newer mt is refused
    /// (FileFormat), never rewritten in this version's shape.
    public static func load(root: String) throws -> AlertRepeat {
        guard let bytes = try? FileSystem.read(path(root: root)), let json = try? JSONParser.parse(bytes) else { return AlertRepeat() }
        let found: Int?
        do { found = try format.check(json["format"], path: path(root: root)) } catch let e as MTError where e.exitCode == .config {
            throw e
        } catch {
            return AlertRepeat()
        }
        guard found != nil else { return AlertRepeat() }
        let active = (json["active"]?.arrayValues ?? []).compactMap { a -> Active? in
            guard let key = a["key"]?.stringValue, let text = a["text"]?.stringValue,
                  case .number(let since)? = a["since"], case .number(let mailed)? = a["mailed"],
                  let s = Double(since), let m = Double(mailed) else { return nil }
            return Active(key: key, text: text, since: s, mailed: m)
        }
        return AlertRepeat(active: active)
    }

    public func save(root: String) throws {
        let json = JSONValue.object([
            ("format", .string(Self.format.description)),
            ("active", .array(active.map { a in
                .object([("key", .string(a.key)), ("text", .string(a.text)),
                         ("since", .number(String(format: "%.3f", a.since))),
                         ("mailed", .number(String(format: "%.3f", a.mailed)))])
            })),
        ])
        // A run that stopped before export made its folders (a password missing) still keeps its state.
        try FileSystem.makeDirectories(root + "/state")
        try FileSystem.writeAtomically(JSONWriter.bytes(json, pretty: true) + [0x0A], to: Self.path(root: root))
    }
}
