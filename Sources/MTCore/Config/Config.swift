import Foundation
import Yams

/// The YAML address book: one block per study server, compatible with the original `server.config`.
///
/// A top-level block named `defaults` is not a server: its keys apply to every block that does not set them.
public struct MTConfig: Sendable {
    public var file: String
    public var servers: [ServerConfig]
    /// Unknown keys that resemble no known one, each naming file, block and key. A key that is close to a known
    /// one is a misspelling whose setting is silently not in force: that is `ServerConfig.misspeltKeys`, a problem.
    public var warnings: [String]

    public static let knownKeys: Set<String> = [
        "READY", "DELETE_MODE", "SERVER", "USER", "PASS", "PASS_FILE", "PRIVATE_FILE", "DATE_FORMAT", "TIME_FORMAT",
        "PATH", "ALERT_EMAIL", "SMTP_SERVER", "SMTP_USER", "SMTP_PASS", "SMTP_PASS_FILE", "SMTP_FROM", "SMTP_CA_FILE",
        "CONNECT_TIMEOUT", "TIMEOUT", "LOW_SPEED_TIME", "CONCURRENCY", "MAX_CONCURRENCY", "RETRIES", "CA_FILE", "ALLOW_HTTP", "CATALOGUE",
        "MAX_RESPONSE", "STUDY", "EXCLUDE_IDS", "METRICS_FILE", "SERVER_MAX_RECORDS", "KEY_PASSPHRASE_FILE", "ALERT_REPEAT",
    ]

    public func server(named name: String) throws -> ServerConfig {
        if let s = servers.first(where: { $0.name == name }) { return s }
        let names = servers.map(\.name)
        var hint = "servers in \(file): \(names.joined(separator: ", "))"
        if let close = Suggest.closest(to: name, in: names) { hint = "did you mean '\(close)'? " + hint }
        throw MTError(.config, "no server named '\(name)' in \(file)", hint: hint)
    }

    /// `.` or nothing means every server (READY ones only when `readyOnly`); otherwise the named one.
    public func select(_ name: String?, readyOnly: Bool) throws -> [ServerConfig] {
        guard let name, name != "." else { return readyOnly ? servers.filter(\.ready) : servers }
        let s = try server(named: name)
        if readyOnly && !s.ready {
            throw MTError(.config, "\(file): server \(name): READY is false, so it is not exported",
                          hint: "set READY: true in its block when the server should be exported")
        }
        return [s]
    }

    /// For commands that read what export wrote (verify, recover): `.` or nothing means every READY server, as
    /// for export (a block that is not READY may have no data directory yet); a named server is taken as it is.
    public func selectExported(_ name: String?) throws -> [ServerConfig] {
        guard name == nil || name == "." else { return try select(name, readyOnly: false) }
        let ready = servers.filter(\.ready)
        guard !ready.isEmpty else {
            throw MTError(.config, "\(file): no server block is READY", hint: "name the server to use: \(servers.map(\.name).joined(separator: ", "))")
        }
        return ready
    }

    public static func load(path: String, environment: [String: String], allowReadableSecrets: Bool) throws -> MTConfig {
        let text = try FileSystem.readString(path)
        return try parse(text, file: path, environment: environment, allowReadableSecrets: allowReadableSecrets)
    }

    public static func parse(_ text: String, file: String, environment: [String: String],
                             allowReadableSecrets: Bool) throws -> MTConfig {
        let source = ConfigSource(file: file, text: text)
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw source.wrap(error)
        }
        guard let root, case .mapping(let top) = root else {
            throw MTError(.config, "\(file): expected one block per server (a YAML mapping at the top level)",
                          hint: ConfigSample.compareHint)
        }
        let folder = (absolute(file) as NSString).deletingLastPathComponent
        var warnings: [String] = []
        var defaults: Node.Mapping?
        var blocks: [(String, Node.Mapping, Int)] = []
        for (k, v) in top {
            guard let name = k.string else { continue }
            guard case .mapping(let m) = v else {
                throw MTError(.config, "\(file):\(line(k)): block '\(name)' must be a mapping of KEY: value\(source.quote(line(k)))")
            }
            if name == "defaults" { defaults = m } else { blocks.append((name, m, line(k))) }
        }
        var holdsSecret = false
        var servers: [ServerConfig] = []
        // One PATH, one server: two servers sharing a data directory would share its state and CSVs.
        var owners: [String: (name: String, line: Int)] = [:]
        for (name, block, blockLine) in blocks {
            let b = Block(name: name, line: blockLine, source: source, folder: folder, mapping: block, defaults: defaults)
            var misspelt: [String] = []
            for key in b.keys where !knownKeys.contains(key) {
                if let close = Suggest.closest(to: key, in: Array(knownKeys)) {
                    misspelt.append("\(file):\(b.line(key)): server \(name): unknown key \(key) is ignored (did you mean \(close)?): \(close) is not in force, its default applies")
                } else {
                    warnings.append("\(file):\(b.line(key)): server \(name): unknown key \(key) is ignored")
                }
            }
            if b.hasInline("PASS") || b.hasInline("SMTP_PASS") { holdsSecret = true }
            var server = try b.server(environment: environment, allowReadableSecrets: allowReadableSecrets)
            server.misspeltKeys = misspelt
            let key = canonicalPath(server.path)
            if let other = owners[key] {
                throw MTError(.config, "\(file):\(b.line("PATH")): servers \(other.name) (line \(other.line)) and \(name) (line \(blockLine)) share the data directory \(key)",
                              hint: "give each server its own PATH: export state, CSVs and benchmark are per server")
            }
            owners[key] = (name, blockLine)
            servers.append(server)
        }
        if holdsSecret {
            try FileSystem.checkPrivate(file, what: "config file (it holds a password)", allowReadable: allowReadableSecrets)
        }
        if servers.isEmpty {
            throw MTError(.config, "\(file): no server blocks", hint: ConfigSample.compareHint)
        }
        return MTConfig(file: file, servers: servers, warnings: warnings)
    }

    static func line(_ n: Node) -> Int { (n.mark?.line ?? 0) }

    /// An absolute path with symbolic links resolved as far as the folders exist (PATH may not exist yet).
    static func canonicalPath(_ path: String) -> String {
        var head = path
        var tail: [String] = []
        while true {
            if let real = realpath(head, nil) {
                defer { free(real) }
                let base = String(cString: real)
                return tail.isEmpty ? base : (base == "/" ? "" : base) + "/" + tail.reversed().joined(separator: "/")
            }
            let ns = head as NSString
            let last = ns.lastPathComponent
            let parent = ns.deletingLastPathComponent
            if parent == head || parent.isEmpty { return path }
            if !last.isEmpty && last != "." { tail.append(last) }
            head = parent
        }
    }

    static func absolute(_ p: String) -> String {
        p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p
    }
}

/// One server block with the `defaults` block underneath it.
private struct Block {
    let name: String
    let source: ConfigSource
    /// Where the block starts: the place to name for a key it lacks.
    let blockLine: Int
    var file: String { source.file }
    let folder: String
    var values: [String: Node] = [:]
    var lines: [String: Int] = [:]
    var inline: Set<String> = []

    init(name: String, line: Int, source: ConfigSource, folder: String, mapping: Node.Mapping, defaults: Node.Mapping?) {
        self.name = name
        blockLine = line
        self.source = source
        self.folder = folder
        for (k, v) in defaults ?? [:] { if let key = k.string { values[key] = v; lines[key] = MTConfig.line(k) } }
        for (k, v) in mapping {
            if let key = k.string { values[key] = v; lines[key] = MTConfig.line(k); inline.insert(key) }
        }
    }

    var keys: [String] { values.keys.sorted() }
    func line(_ key: String) -> Int { lines[key] ?? blockLine }

    func hasInline(_ key: String) -> Bool {
        guard let v = values[key], let s = v.string else { return false }
        return !s.isEmpty && v.tag.description != "tag:yaml.org,2002:null"
    }

    func fail(_ key: String, _ what: String, hint: String? = nil) -> MTError {
        MTError(.config, "\(file):\(line(key)): server \(name): \(key) \(what)\(source.quote(line(key)))", hint: hint)
    }

    func string(_ key: String) throws -> String? {
        guard let v = values[key] else { return nil }
        if case .scalar(let s) = v {
            if s.tag.description == "tag:yaml.org,2002:null" || (s.string.isEmpty) { return nil }
            if s.string == "~" || s.string == "null" { return nil }
            return s.string
        }
        throw fail(key, "must be a single value")
    }

    func bool(_ key: String, default d: Bool) throws -> Bool {
        guard let s = try string(key) else { return d }
        switch s.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw fail(key, "must be true or false, not '\(s)'")
        }
    }

    func int(_ key: String, default d: Int, range: ClosedRange<Int>) throws -> Int {
        guard let s = try string(key) else { return d }
        guard let n = Int(s), range.contains(n) else {
            throw fail(key, "must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(s)'")
        }
        return n
    }

    func list(_ key: String) throws -> [String] {
        guard let v = values[key] else { return [] }
        if case .sequence(let seq) = v { return seq.compactMap(\.string).filter { !$0.isEmpty } }
        return try string(key).map { [$0] } ?? []
    }

    func resolve(_ p: String) -> String {
        let expanded = p.hasPrefix("~/") ? (ProcessInfo.processInfo.environment["HOME"] ?? "") + p.dropFirst() : p
        let full = expanded.hasPrefix("/") ? expanded : folder + "/" + expanded
        return (full as NSString).standardizingPath
    }

    func secret(inline key: String, file fileKey: String, env: String?, environment: [String: String],
                allowReadable: Bool) throws -> (Secret, String)? {
        if let s = try string(key) { return (Secret(s), "\(key) in \(file)") }
        if let p = try string(fileKey) {
            return try secretFile(fileKey, p, environment: environment, allowReadable: allowReadable)
        }
        if let env, let v = environment[env], !v.isEmpty { return (Secret(v), "$\(env)") }
        return nil
    }

    /// A URL carrying `user:password@` would be printed wherever the URL is (`mt config check`, `mt status`,
    /// HTTP errors, logs, mail, the run record), so it is refused here, where every value is read, and the
    /// refusal shows it without the userinfo.
    func refuseUserinfo(_ key: String, _ url: String, hint: String) throws {
        guard ConfigSource.withoutUserinfo(url) != url else { return }
        throw fail(key, "holds a user name or password in the URL (\(ConfigSource.withoutUserinfo(url))), which would be shown wherever the URL is", hint: hint)
    }

    /// The first line of the file a `*_FILE` key names: a path, or `credential:NAME` (`Credential`).
    func secretFile(_ key: String, _ value: String, environment: [String: String],
                    allowReadable: Bool) throws -> (Secret, String) {
        let path: String
        if let name = Credential.name(in: value) {
            do { path = try Credential.path(of: name, environment: environment) } catch let e as MTError {
                throw fail(key, e.message, hint: e.hint)
            }
            // No mode check: systemd's credential folder is private to the unit's run, and the ACL it grants the
            // unit's user shows as group bits in the file's mode.
        } else {
            path = resolve(value)
            guard FileSystem.exists(path) else {
                // The value may be the secret itself, typed where its file's path belongs: neither the value nor the
                // path made of it is shown, nor the line that holds it.
                throw MTError(.config, "\(file):\(line(key)): server \(name): \(key) names no file (its value, \(value.count) characters, is not shown in case it is the secret itself)",
                              hint: "\(key) takes the path of a file holding the secret on one line (mode 600), or credential:NAME; create that file, or correct the path")
            }
            try FileSystem.checkPrivate(path, what: "password file", allowReadable: allowReadable)
        }
        let text = try FileSystem.readString(path)
        // "\r\n" is one Character in Swift, so splitting at "\n" alone would keep a Windows line end in the secret.
        let pass = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .first.map(String.init) ?? ""
        guard !pass.isEmpty else { throw fail(key, "names \(path), which is empty") }
        return (Secret(pass.hasSuffix("\r") ? String(pass.dropLast()) : pass), path)
    }

    func server(environment: [String: String], allowReadableSecrets: Bool) throws -> ServerConfig {
        guard let url = try string("SERVER") else { throw fail("SERVER", "is missing", hint: "e.g. SERVER: https://host/study/api/") }
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
            throw fail("SERVER", "must start with https:// (got '\(ConfigSource.withoutUserinfo(url))')")
        }
        try refuseUserinfo("SERVER", url, hint: "remove user:password@ from the URL; give the user as USER and the password in a file named by PASS_FILE (mode 600), or in \(ServerConfig.passwordVariable(for: name))")
        guard let path = try string("PATH") else { throw fail("PATH", "is missing", hint: "the folder where this server's data is kept") }
        var pass: (Secret, String)?
        var passwordProblem: MTError?
        do {
            pass = try secret(inline: "PASS", file: "PASS_FILE", env: ServerConfig.passwordVariable(for: name),
                              environment: environment, allowReadable: allowReadableSecrets)
        } catch let e as MTError where e.exitCode == .config {
            passwordProblem = e
        }
        var alert: AlertConfig?
        let to = try list("ALERT_EMAIL")
        if !to.isEmpty {
            guard let smtp = try string("SMTP_SERVER") else {
                throw fail("SMTP_SERVER", "is missing while ALERT_EMAIL is set", hint: "e.g. SMTP_SERVER: smtp://mail.example.edu:587")
            }
            guard smtp.hasPrefix("smtp://") || smtp.hasPrefix("smtps://") else {
                throw fail("SMTP_SERVER", "must start with smtp:// or smtps:// (got '\(ConfigSource.withoutUserinfo(smtp))')")
            }
            try refuseUserinfo("SMTP_SERVER", smtp, hint: "remove user:password@ from the URL; give the user as SMTP_USER and the password in a file named by SMTP_PASS_FILE (mode 600)")
            let smtpPass = try secret(inline: "SMTP_PASS", file: "SMTP_PASS_FILE", env: nil, environment: environment,
                                      allowReadable: allowReadableSecrets)
            alert = AlertConfig(to: to, from: try string("SMTP_FROM") ?? "mt@\(ProcessInfo.processInfo.hostName)",
                                smtpURL: smtp, user: try string("SMTP_USER"), password: smtpPass?.0,
                                caFile: try string("SMTP_CA_FILE").map(resolve))
            if let text = try string("ALERT_REPEAT") {
                guard let seconds = DurationText.parse(text) else {
                    throw fail("ALERT_REPEAT", "must be a duration such as 1h, 30m, 2h30m or 0 (every run mails), not '\(text)'")
                }
                alert?.repeatInterval = seconds
            }
        }
        let dateFormat = try string("DATE_FORMAT") ?? "%b_%d_%Y"
        let timeFormat = try string("TIME_FORMAT") ?? "%H_%M_%S"
        for (k, f) in [("DATE_FORMAT", dateFormat), ("TIME_FORMAT", timeFormat)] {
            if let problem = CSVName.problem(format: f) {
                throw fail(k, "\"\(f)\" \(problem); it becomes part of file names that mt must read back",
                           hint: "for example \(k): \"\(k == "DATE_FORMAT" ? CSVName.defaultDateFormat : CSVName.defaultTimeFormat)\" or \"\(k == "DATE_FORMAT" ? "%Y-%m-%d" : "%H-%M-%S")\"")
            }
        }
        var server = ServerConfig(
            name: name,
            ready: try bool("READY", default: false),
            deleteMode: try bool("DELETE_MODE", default: false),
            apiBase: ServerConfig.normaliseAPIBase(url),
            user: try string("USER") ?? "",
            password: pass?.0,
            passwordSource: pass?.1,
            privateFiles: try list("PRIVATE_FILE").map(resolve),
            dateFormat: dateFormat,
            timeFormat: timeFormat,
            path: resolve(path),
            alert: alert,
            connectTimeout: try int("CONNECT_TIMEOUT", default: 10, range: 1...600),
            timeout: try int("TIMEOUT", default: 300, range: 1...86_400),
            lowSpeedTime: try int("LOW_SPEED_TIME", default: 30, range: 1...3_600),
            concurrency: try int("CONCURRENCY", default: 4, range: 1...64),
            retries: try int("RETRIES", default: 3, range: 0...20),
            caFile: try string("CA_FILE").map(resolve),
            allowHTTP: try bool("ALLOW_HTTP", default: false),
            catalogue: try string("CATALOGUE").map(resolve),
            configFile: file)
        server.passwordProblem = passwordProblem
        server.maxConcurrency = try int("MAX_CONCURRENCY", default: max(16, server.concurrency), range: 1...64)
        guard server.maxConcurrency >= server.concurrency else {
            throw fail("MAX_CONCURRENCY", "(\(server.maxConcurrency)) is below CONCURRENCY (\(server.concurrency))",
                       hint: "deleting starts at CONCURRENCY connections and grows to MAX_CONCURRENCY while the server keeps up; set them equal never to go above CONCURRENCY")
        }
        server.maxRecords = try int("SERVER_MAX_RECORDS", default: ServerConfig.defaultMaxRecords, range: 1...Int(Int32.max))
        if let text = try string("MAX_RESPONSE") {
            guard let n = ByteSize.parse(text), n >= 1024 else {
                throw fail("MAX_RESPONSE", "must be a size of at least 1 KiB, such as 4G, 500M or 1048576, not '\(text)'")
            }
            server.maxResponse = n
        }
        server.study = try string("STUDY")
        let exclude = try list("EXCLUDE_IDS")
        // Each item of a YAML list is read as a line of an exclusion file, so `spam: 20-420` keeps its reason.
        server.excludeIDs = exclude.isEmpty ? nil : exclude.joined(separator: "\n")
        server.metricsFile = try string("METRICS_FILE").map(resolve)
        if let p = try string("KEY_PASSPHRASE_FILE") {
            // Reported when a key is loaded, as the password is, so that commands that need no key still work.
            do {
                server.keyPassphrase = try secretFile("KEY_PASSPHRASE_FILE", p, environment: environment,
                                                      allowReadable: allowReadableSecrets).0
            } catch let e as MTError where e.exitCode == .config {
                server.keyPassphraseProblem = e
            }
        }
        return server
    }
}

/// Where the configuration is looked for, in order.
public enum ConfigLocator {
    public static func candidates(environment: [String: String]) -> [String] {
        var out: [String] = []
        if let p = environment["MT_CONFIG"], !p.isEmpty { out.append(p) }
        out.append("config/server.yaml")
        let xdg = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"].map { $0 + "/.config" } ?? "")
        if !xdg.isEmpty { out.append(xdg + "/mt/config.yaml") }
        out.append("/etc/mt/config.yaml")
        return out
    }

    public static func locate(explicit: String?, environment: [String: String]) throws -> String {
        if let explicit {
            guard FileSystem.exists(explicit) else {
                throw MTError(.config, "config file \(explicit) does not exist", hint: "check the --config path")
            }
            return explicit
        }
        let all = candidates(environment: environment)
        if let first = environment["MT_CONFIG"], !first.isEmpty, !FileSystem.exists(first) {
            throw MTError(.config, "config file \(first) (from $MT_CONFIG) does not exist")
        }
        if let found = all.first(where: FileSystem.exists) { return found }
        throw MTError(.config, "no configuration found; looked in: \(all.joined(separator: ", "))",
                      hint: "copy \(ConfigSample.path) to one of them, or pass --config PATH")
    }
}

/// "Did you mean …?" by edit distance.
public enum Suggest {
    public static func closest(to word: String, in candidates: [String], maxDistance: Int = 2) -> String? {
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
            .filter { $0.1 <= max(maxDistance, word.count / 3) }
        return scored.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }?.0
    }

    /// Damerau–Levenshtein (optimal string alignment): `exprot` is one transposition from `export`.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
