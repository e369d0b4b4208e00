import MTCore

/// The three kinds of API request a fault can target.
public enum RequestKind: String, CaseIterable, Sendable {
    case list, fetch, delete
}

/// Which requests a fault hits: some kinds, each time with probability `rate`.
public struct FaultTrigger: Sendable, Equatable {
    public var kinds: Set<RequestKind>
    public var rate: Double

    public init(kinds: Set<RequestKind>, rate: Double = 1) {
        self.kinds = kinds
        self.rate = rate
    }

    /// `KINDS[@RATE]`: `all` or a comma list of list, fetch, delete; RATE from 0 to 1 (default 1).
    static func parse(_ text: String, key: String) throws -> FaultTrigger {
        let (head, rate) = try splitRate(text, key: key)
        var kinds: Set<RequestKind> = []
        for word in head.split(separator: ",") {
            if word == "all" { kinds.formUnion(RequestKind.allCases); continue }
            guard let k = RequestKind(rawValue: String(word)) else {
                throw MTError(.usage, "\(key): '\(word)' is not a request kind", hint: "use all, or a comma list of list, fetch, delete")
            }
            kinds.insert(k)
        }
        guard !kinds.isEmpty else { throw MTError(.usage, "\(key) needs request kinds (all, list, fetch, delete)") }
        return FaultTrigger(kinds: kinds, rate: rate)
    }

    var text: String {
        let k = kinds.count == RequestKind.allCases.count ? "all" : RequestKind.allCases.filter(kinds.contains).map(\.rawValue).joined(separator: ",")
        return rate >= 1 ? k : "\(k)@\(rate)"
    }
}

func splitRate(_ text: String, key: String) throws -> (String, Double) {
    let parts = text.split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count <= 2, !parts[0].isEmpty else { throw MTError(.usage, "\(key): '\(text)' is not VALUE[@RATE]") }
    guard parts.count == 2 else { return (String(parts[0]), 1) }
    guard let r = Double(parts[1]), r >= 0, r <= 1 else {
        throw MTError(.usage, "\(key): rate '\(parts[1])' must be a number from 0 to 1")
    }
    return (String(parts[0]), r)
}

/// What the server does to one request instead of (or on top of) answering it normally.
public enum FaultAction: Sendable, Equatable {
    case none
    case status(Int)
    /// Announce the full Content-Length, send half the body, close.
    case truncate
    /// 200 with a JSON content type and a body cut in half (framed correctly, so only the JSON is wrong).
    case invalidJSON
    /// 200 text/html: the login page of an old deployment.
    case html
    /// Never answer; keep the connection open.
    case hang
    /// Close with a TCP reset (SO_LINGER 0) without answering.
    case reset
    /// Send the body a few bytes at a time.
    case slow(bytesPerSecond: Int)
}

/// Every switchable fault, set from flags at start and replaced at run time by `POST /__sim/faults`.
public struct FaultSettings: Sendable, Equatable {
    public var latencyMs = 0
    public var fail: [RequestKind: StatusFault] = [:]
    public var truncate: FaultTrigger?
    public var invalidJSON: FaultTrigger?
    public var html: FaultTrigger?
    public var hang: FaultTrigger?
    public var reset: FaultTrigger?
    public var slowBody: FaultTrigger?
    public var slowBytesPerSecond = 200

    public struct StatusFault: Sendable, Equatable {
        public var status: Int
        public var rate: Double

        public init(status: Int, rate: Double) {
            self.status = status
            self.rate = rate
        }
    }

    public init() {}

    /// The setting names, as flags (`--NAME VALUE`) and as admin query keys (`NAME=VALUE`).
    public static let keys = ["latency-ms", "fail-list", "fail-fetch", "fail-delete", "truncate", "invalid-json",
                              "html", "hang", "reset", "slow-body", "slow-rate"]

    /// Sets one fault from its flag or query form.
    public mutating func set(_ key: String, _ value: String) throws {
        switch key {
        case "latency-ms":
            guard let n = Int(value), (0...600_000).contains(n) else { throw MTError(.usage, "latency-ms: '\(value)' is not 0…600000") }
            latencyMs = n
        case "fail-list", "fail-fetch", "fail-delete":
            let kind = RequestKind(rawValue: String(key.dropFirst(5)))!
            let (head, rate) = try splitRate(value, key: key)
            guard let status = Int(head), (100...599).contains(status) else {
                throw MTError(.usage, "\(key): '\(head)' is not an HTTP status (100…599)", hint: "for example --\(key) 500@0.2")
            }
            fail[kind] = StatusFault(status: status, rate: rate)
        case "truncate": truncate = try FaultTrigger.parse(value, key: key)
        case "invalid-json": invalidJSON = try FaultTrigger.parse(value, key: key)
        case "html": html = try FaultTrigger.parse(value, key: key)
        case "hang": hang = try FaultTrigger.parse(value, key: key)
        case "reset": reset = try FaultTrigger.parse(value, key: key)
        case "slow-body": slowBody = try FaultTrigger.parse(value, key: key)
        case "slow-rate":
            guard let n = Int(value), (1...100_000_000).contains(n) else { throw MTError(.usage, "slow-rate: '\(value)' is not 1…100000000 bytes/s") }
            slowBytesPerSecond = n
        default:
            throw MTError(.usage, "unknown fault '\(key)'", hint: "faults: \(Self.keys.joined(separator: ", "))")
        }
    }

    /// Picks the action for one request; at most one fault fires, the most disruptive first.
    public func decide(_ kind: RequestKind, random: inout SimRandom) -> FaultAction {
        func fires(_ t: FaultTrigger?) -> Bool {
            guard let t, t.kinds.contains(kind) else { return false }
            return random.chance(t.rate)
        }
        if fires(hang) { return .hang }
        if fires(reset) { return .reset }
        if let f = fail[kind], random.chance(f.rate) { return .status(f.status) }
        if fires(html) { return .html }
        if fires(invalidJSON) { return .invalidJSON }
        if fires(truncate) { return .truncate }
        if fires(slowBody) { return .slow(bytesPerSecond: slowBytesPerSecond) }
        return .none
    }

    /// The settings as JSON (`GET /__sim/faults`), in the flag syntax.
    public var json: JSONValue {
        var f: [(String, JSONValue)] = [("latency-ms", .int(latencyMs))]
        for k in RequestKind.allCases {
            if let s = fail[k] { f.append(("fail-\(k.rawValue)", .string(s.rate >= 1 ? "\(s.status)" : "\(s.status)@\(s.rate)"))) }
        }
        for (name, t) in [("truncate", truncate), ("invalid-json", invalidJSON), ("html", html), ("hang", hang),
                          ("reset", reset), ("slow-body", slowBody)] {
            if let t { f.append((name, .string(t.text))) }
        }
        f.append(("slow-rate", .int(slowBytesPerSecond)))
        return .object(f)
    }
}
