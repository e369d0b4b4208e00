import Foundation

/// Offline checks of a configuration (`mt config check`): everything that can be known without a network call.
public struct ConfigCheck: Sendable {
    public struct ServerReport: Sendable {
        public var name: String
        public var ready: Bool
        public var deleteMode: Bool
        public var apiBase: String
        public var problems: [String] = []
        public var notes: [String] = []
        /// The exit codes of problems that are not plain configuration errors (78): what mt export would exit
        /// with for the same fault (a file where PATH's folder belongs: 73).
        public var codes: [ExitCode] = []

        /// 0, or the worst of 78 and the codes above.
        public var exit: ExitCode { problems.isEmpty ? .ok : ExitCode.worst(codes + [.config]) }
    }

    public var file: String
    public var warnings: [String]
    public var servers: [ServerReport]

    public static func run(config: MTConfig, servers: [ServerConfig]) -> ConfigCheck {
        ConfigCheck(file: config.file, warnings: config.warnings, servers: servers.map(check))
    }

    static func check(_ s: ServerConfig) -> ServerReport {
        var r = ServerReport(name: s.name, ready: s.ready, deleteMode: s.deleteMode, apiBase: s.apiBase)
        r.problems += s.misspeltKeys
        var urlRules = HTTPOptions()
        urlRules.allowInsecureHTTP = s.allowHTTP
        do { try HTTPClient.checkURL(s.exportURL, options: urlRules) } catch {
            r.problems.append(error.asMTError.description)
        }
        if let host = URLComponents(string: s.exportURL)?.host, s.exportURL.lowercased().hasPrefix("http://") {
            let loopback = Loopback.check(host: host)
            r.notes.append("SERVER over plain http: \(loopback.isLoopback ? "loopback" : "not loopback"), because \(loopback.reason)")
        }
        if let alert = s.alert, alert.smtpURL.lowercased().hasPrefix("smtp://"),
           let host = URLComponents(string: alert.smtpURL)?.host {
            let loopback = Loopback.check(host: host)
            r.notes.append("SMTP_SERVER \(loopback.isLoopback ? "is loopback (STARTTLS when offered)" : "is not loopback (STARTTLS required)"), because \(loopback.reason)")
        }
        if s.user.isEmpty { r.problems.append("USER is empty") }
        if let problem = s.passwordProblem {
            r.problems.append(problem.description)
        } else if s.password == nil {
            let msg = "no password: set PASS_FILE, or \(ServerConfig.passwordVariable(for: s.name)) in the environment"
            if s.ready { r.problems.append(msg) } else { r.notes.append(msg) }
        } else if let src = s.passwordSource {
            r.notes.append("password from \(src)")
        }
        // The very checks mt export makes before it fetches anything (ExportNeeds).
        let needs = ExportNeeds.problems(s)
        r.problems += needs.map(\.description)
        r.codes += needs.map(\.exitCode)
        if needs.isEmpty && !FileSystem.exists(s.path) {
            r.notes.append("PATH \(s.path) does not exist yet; the first run creates it")
        }
        if s.privateFiles.isEmpty {
            r.notes.append("no PRIVATE_FILE: export archives only; decrypt where the key lives (mt recover)")
        }
        if let problem = s.keyPassphraseProblem { r.problems.append(problem.description) }
        for key in s.privateFiles where s.keyPassphraseProblem == nil {
            do {
                _ = try RSAPrivateKey.load(path: key, passphrase: s.keyPassphrase?.reveal
                                           ?? ProcessInfo.processInfo.environment["MT_KEY_PASSPHRASE"])
            } catch {
                r.problems.append("PRIVATE_FILE: \(error.asMTError.description)")
            }
        }
        for ca in [s.caFile, s.alert?.caFile].compactMap({ $0 }) where !FileSystem.exists(ca) {
            r.problems.append("CA file \(ca) does not exist")
        }
        if s.alert == nil { r.notes.append("no ALERT_EMAIL: critical events are logged but nobody is mailed") }
        if s.study != nil || s.catalogue != nil {
            // A misspelt STUDY or a broken CATALOGUE file would otherwise surface only in mt scales or mt stats.
            do {
                let c = try ScaleCatalogue.standard(server: s, environment: ProcessInfo.processInfo.environment)
                if let study = c.study { r.notes.append("STUDY \(study.name): its scale definitions of the catalogue apply") }
            } catch {
                r.problems.append(error.asMTError.description)
            }
        }
        return r
    }

    public var json: JSONValue {
        .object([
            ("file", .string(file)),
            ("warnings", .array(warnings.map(JSONValue.string))),
            ("servers", .array(servers.map { s in
                .object([
                    ("name", .string(s.name)), ("ready", .bool(s.ready)), ("deleteMode", .bool(s.deleteMode)),
                    ("server", .string(s.apiBase)), ("ok", .bool(s.problems.isEmpty)),
                    ("problems", .array(s.problems.map(JSONValue.string))), ("notes", .array(s.notes.map(JSONValue.string))),
                ])
            })),
        ])
    }
}
