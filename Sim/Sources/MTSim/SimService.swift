import Foundation
import MTCore

/// How requests without the right credentials are answered.
public enum LoginMode: String, Sendable, CaseIterable {
    /// 401 with `WWW-Authenticate` (today's server).
    case basic
    /// Old deployments: requests without valid credentials get a 302 to an HTML login page.
    case unauthenticated
    /// Every API request gets the 302, even with valid credentials (a server whose basic auth is off).
    case all
}

/// One HTTP request as the service sees it.
public struct SimRequest: Sendable {
    public var method: String
    public var uri: String
    public var authorization: String?
    public var host: String?

    public init(method: String, uri: String, authorization: String? = nil, host: String? = nil) {
        self.method = method
        self.uri = uri
        self.authorization = authorization
        self.host = host
    }
}

/// The answer, and the fault to apply while sending it.
public struct SimResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var fault: FaultAction = .none
    /// Added before anything is sent.
    public var delayMs = 0

    public init(status: Int, contentType: String? = nil, body: [UInt8] = [], headers: [(String, String)] = []) {
        self.status = status
        self.body = body
        self.headers = headers
        if let contentType { self.headers.append(("Content-Type", contentType)) }
    }

    static func json(_ v: JSONValue, status: Int = 200) -> SimResponse {
        SimResponse(status: status, contentType: "application/json;charset=UTF-8", body: JSONWriter.bytes(v))
    }

    static func error(_ status: Int, _ message: String) -> SimResponse {
        json(.object([("status", .int(status)), ("error", .string(message))]), status: status)
    }
}

/// Settings of the API side of the server.
public struct ServiceSettings: Sendable {
    public var prefix = "/api"
    public var user = "admin"
    public var password = Secret("mt-sim")
    public var loginMode = LoginMode.basic
    public var seed: UInt64 = 1
    /// The JVM's default zone, in minutes from UTC, in which `after=` is read (a US study server: UTC−5).
    public var zoneMinutes = -300
    /// The study folder `POST /__sim/reload` reads again, and the scales kept non-deleteable (`--keep`).
    public var studyDir: String?
    public var keep: Set<String> = []
    /// `https` with `--tls`; old deployments redirect to a login page on the same scheme.
    public var scheme = "http"

    public init() {}
}

/// Request counters, served at `GET /__sim/stats`.
struct Counters {
    var requests: [String: Int] = [:]
    var statuses: [String: Int] = [:]
    var faults: [String: Int] = [:]
    var deletes = 0
}

/// The server's behaviour, free of networking: routes a request to the store, applies auth and faults, counts.
public final class SimService: Sendable {
    public let settings: ServiceSettings
    public let store: EntryStore
    public let arrivals: ArrivalGenerator?
    private let faultState: Locked<(settings: FaultSettings, random: SimRandom)>
    private let counters = Locked(Counters())
    private let expectedAuth: String

    public static let loginPage = Array("""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>MindTrails - Please sign in</title></head>
        <body><h1>Please sign in</h1>
        <form method="post" action="/login">
        <p><label>Email <input type="text" name="username"></label></p>
        <p><label>Password <input type="password" name="password"></label></p>
        <p><button type="submit">Sign in</button></p>
        </form></body></html>

        """.utf8)

    public init(settings: ServiceSettings, store: EntryStore, faults: FaultSettings, arrivals: ArrivalGenerator?) {
        self.settings = settings
        self.store = store
        self.arrivals = arrivals
        faultState = Locked((faults, SimRandom(seed: settings.seed, stream: "faults")))
        expectedAuth = "Basic " + Base64.encode(Array("\(settings.user):\(settings.password.reveal)".utf8))
    }

    public var faults: FaultSettings { faultState.withLock { $0.settings } }

    public func setFaults(_ f: FaultSettings) { faultState.withLock { $0.settings = f } }

    func count(_ update: (inout Counters) -> Void) { counters.withLock(update) }

    /// Counters as JSON.
    public func stats() -> JSONValue {
        let c = counters.withLock { $0 }
        func obj(_ d: [String: Int]) -> JSONValue { .object(d.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }) }
        var requests = c.requests
        for k in RequestKind.allCases.map(\.rawValue) + ["admin", "other"] where requests[k] == nil { requests[k] = 0 }
        var statuses = c.statuses
        for k in ["2xx", "3xx", "4xx", "5xx"] where statuses[k] == nil { statuses[k] = 0 }
        return .object([
            ("requests", obj(requests)), ("statuses", obj(statuses)), ("deletes", .int(c.deletes)),
            ("faults", obj(c.faults)), ("entries", .int(store.entryCount)),
        ])
    }

    /// Records the status class of what is about to be sent (faults that send no status are counted as faults).
    func countStatus(_ status: Int) {
        count { $0.statuses["\(status / 100)xx", default: 0] += 1 }
    }

    public func handle(_ req: SimRequest) -> SimResponse {
        let (path, query) = Self.split(req.uri)
        if path.hasPrefix("/__sim/") { return admin(req, path: path, query: query) }
        if path == "/login" {
            count { $0.requests["other", default: 0] += 1 }
            guard settings.loginMode != .basic else { return .error(404, "no such page") }
            return SimResponse(status: 200, contentType: "text/html;charset=UTF-8", body: Self.loginPage)
        }
        let route: Route
        switch match(req.method, path) {
        case .none:
            count { $0.requests["other", default: 0] += 1 }
            return .error(404, "no such resource: \(path)")
        case .badMethod(let allow):
            count { $0.requests["other", default: 0] += 1 }
            var r = SimResponse.error(405, "method \(req.method) not allowed")
            r.headers.append(("Allow", allow))
            return r
        case .api(let r): route = r
        }
        let kind = route.kind
        count { $0.requests[kind.rawValue, default: 0] += 1 }
        let authorized = req.authorization == expectedAuth
        if settings.loginMode == .all || (settings.loginMode == .unauthenticated && !authorized) {
            return SimResponse(status: 302, headers: [("Location", "\(settings.scheme)://\(req.host ?? "127.0.0.1")/login")])
        }
        guard authorized else {
            return SimResponse(status: 401, contentType: "application/json;charset=UTF-8",
                               body: JSONWriter.bytes(.object([("status", .int(401)), ("error", .string("Unauthorized"))])),
                               headers: [("WWW-Authenticate", "Basic realm=\"MindTrails\"")])
        }
        let (fault, latency) = faultState.withLock { s in (s.settings.decide(kind, random: &s.random), s.settings.latencyMs) }
        if fault != .none { count { $0.faults[Self.faultName(fault), default: 0] += 1 } }
        var response: SimResponse
        // Failed, hanging, reset and login-page requests never reach the data: such a delete deletes nothing.
        switch fault {
        case .status(let code):
            response = .error(code, "simulated failure")
        case .html, .hang, .reset:
            response = SimResponse(status: 200)
            response.fault = fault
        case .none, .truncate, .invalidJSON, .slow:
            // The request is carried out; only its answer is damaged (a delete happened even if the client cannot tell).
            switch route {
            case .list:
                response = .json(.array(store.list().map { s in
                    .object([("name", .string(s.name)), ("size", .int(s.size)), ("deleteable", .bool(s.deleteable))])
                }))
            case .fetch(let name):
                var after: Int64?
                if let a = query["after"] {
                    guard let t = JavaDate.parseAfter(a) else {
                        return .error(400, "after must be yyyy-MM-dd-HH-mm-ss, got '\(a)'")
                    }
                    after = t - Int64(settings.zoneMinutes) * 60
                }
                if let body = store.body(of: name, after: after) {
                    response = SimResponse(status: 200, contentType: "application/json;charset=UTF-8", body: body)
                } else {
                    response = .error(404, "no scale named \(name)")
                }
            case .delete(let name, let idText):
                guard let id = Int64(idText) else { response = .error(404, "no entry \(idText) in \(name)"); break }
                switch store.delete(scale: name, id: id) {
                case .deleted:
                    count { $0.deletes += 1 }
                    response = SimResponse(status: 200)
                case .notDeleteable: response = .error(403, "\(name) is not deleteable")
                case .unknownScale: response = .error(404, "no scale named \(name)")
                case .unknownEntry: response = .error(404, "no entry \(id) in \(name)")
                case .ledgerFailed(let why): response = .error(500, "ledger write failed: \(why)")
                }
            }
            if fault != .none { response.fault = fault }
        }
        response.delayMs = latency
        return response
    }

    enum Route {
        case list, fetch(String), delete(String, String)

        var kind: RequestKind {
            switch self {
            case .list: .list
            case .fetch: .fetch
            case .delete: .delete
            }
        }
    }

    enum Match {
        case api(Route), badMethod(allow: String), none
    }

    /// `{prefix}/export[/]`, `{prefix}/export/{name}`, `{prefix}/export/{name}/{id}`.
    func match(_ method: String, _ path: String) -> Match {
        let base = settings.prefix + "/export"
        guard path == base || path.hasPrefix(base + "/") else { return .none }
        let rest = path.dropFirst(base.count).split(separator: "/", omittingEmptySubsequences: true)
            .map { String($0).removingPercentEncoding ?? String($0) }
        switch rest.count {
        case 0: return method == "GET" ? .api(.list) : .badMethod(allow: "GET")
        case 1: return method == "GET" ? .api(.fetch(rest[0])) : .badMethod(allow: "GET")
        case 2: return method == "DELETE" ? .api(.delete(rest[0], rest[1])) : .badMethod(allow: "DELETE")
        default: return .none
        }
    }

    /// `/__sim/stats`, `/__sim/faults`, `/__sim/arrivals`: same credentials as the API, never faulted or redirected.
    func admin(_ req: SimRequest, path: String, query: [String: String]) -> SimResponse {
        count { $0.requests["admin", default: 0] += 1 }
        guard req.authorization == expectedAuth else {
            return SimResponse(status: 401, contentType: "text/plain", body: Array("admin endpoints need the API credentials\n".utf8),
                               headers: [("WWW-Authenticate", "Basic realm=\"mt-sim\"")])
        }
        switch (req.method, path) {
        case ("GET", "/__sim/stats"): return .json(stats())
        case ("GET", "/__sim/faults"): return .json(faults.json)
        case ("POST", "/__sim/faults"), ("PUT", "/__sim/faults"):
            var f = FaultSettings()
            do {
                for (k, v) in query.sorted(by: { $0.key < $1.key }) { try f.set(k, v) }
            } catch {
                return .error(400, (error as? MTError)?.description ?? "\(error)")
            }
            setFaults(f)
            return .json(f.json)
        case ("DELETE", "/__sim/faults"):
            setFaults(FaultSettings())
            return .json(FaultSettings().json)
        case ("POST", "/__sim/arrivals"):
            guard let arrivals else { return .error(409, "arrivals need a public key (--public-key) or a generated study") }
            guard let n = Int(query["count"] ?? "1"), (0...1_000_000).contains(n) else {
                return .error(400, "count must be a whole number from 0 to 1000000")
            }
            do {
                let added = try arrivals.arrive(n)
                return .json(.object([("added", .int(added.count)),
                                      ("ids", .array(added.map { .object([("scale", .string($0.scale)), ("id", .int($0.id))]) }))]))
            } catch {
                return .error(500, "arrivals failed: \(error)")
            }
        case ("POST", "/__sim/reload"):
            guard let dir = settings.studyDir else { return .error(409, "reload needs a study folder (--data or --generate)") }
            do {
                let scales = try StudyFiles.load(directory: dir, keep: settings.keep)
                store.replace(scales)
                return .json(.object([("scales", .int(scales.count)), ("entries", .int(store.entryCount))]))
            } catch {
                return .error(400, (error as? MTError)?.description ?? "\(error)")
            }
        default:
            return .error(404, "admin endpoints: GET /__sim/stats, GET|POST|DELETE /__sim/faults, POST /__sim/arrivals?count=N, POST /__sim/reload")
        }
    }

    static func faultName(_ f: FaultAction) -> String {
        switch f {
        case .none: "none"
        case .status: "status"
        case .truncate: "truncate"
        case .invalidJSON: "invalid-json"
        case .html: "html"
        case .hang: "hang"
        case .reset: "reset"
        case .slow: "slow-body"
        }
    }

    /// Path and decoded query parameters of a request target.
    static func split(_ uri: String) -> (String, [String: String]) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var params: [String: String] = [:]
        for pair in uri[uri.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[0])
            let value = kv.count > 1 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[1])) : ""
            params[key] = value
        }
        return (String(uri[..<q]), params)
    }
}
