import Foundation

/// Alert e-mail settings (keys ALERT_EMAIL, SMTP_SERVER, SMTP_USER, SMTP_PASS/SMTP_PASS_FILE, SMTP_FROM).
public struct AlertConfig: Sendable, Equatable {
    /// Recipients.
    public var to: [String]
    public var from: String
    /// `smtp://host:port` (STARTTLS when offered, required unless loopback) or `smtps://host:port` (TLS).
    public var smtpURL: String
    public var user: String?
    public var password: Secret?
    public var caFile: String?
    /// ALERT_REPEAT: how long mt export keeps quiet about alerts it has mailed and that still occur (0: every run
    /// mails). A new alert is mailed at once; the end of all alerts is mailed once ("resolved").
    public var repeatInterval: Double = 3600

    public init(to: [String], from: String, smtpURL: String, user: String? = nil, password: Secret? = nil,
                caFile: String? = nil) {
        self.to = to
        self.from = from
        self.smtpURL = smtpURL
        self.user = user
        self.password = password
        self.caFile = caFile
    }
}

/// One block of the address book, with paths resolved and the password found.
public struct ServerConfig: Sendable, Equatable {
    public var name: String
    public var ready: Bool
    public var deleteMode: Bool
    /// The API base without a trailing slash or `/export`, e.g. `https://host/study/api`.
    public var apiBase: String
    public var user: String
    public var password: Secret?
    /// Where the password came from (PASS, PASS_FILE path, or the environment variable), for `mt config`.
    public var passwordSource: String?
    /// Why the password could not be read (a PASS_FILE that is missing or empty): reported when it is needed,
    /// so that one server's missing file does not stop commands working on another.
    public var passwordProblem: MTError?
    public var privateFiles: [String]
    public var dateFormat: String
    public var timeFormat: String
    /// The server's data directory (absolute).
    public var path: String
    public var alert: AlertConfig?
    public var connectTimeout: Int
    public var timeout: Int
    public var lowSpeedTime: Int
    public var concurrency: Int
    /// The most parallel DELETEs that adaptive concurrency grows to (MAX_CONCURRENCY; never below `concurrency`).
    public var maxConcurrency = 16
    public var retries: Int
    public var caFile: String?
    public var allowHTTP: Bool
    public var catalogue: String?
    /// SERVER_MAX_RECORDS: the server's own `export.maxRecords`. Once the sizes of its deleteable scales add up to
    /// more, the study server stops showing sessions to participants (MT-Java's ExportService and
    /// SessionController), so an export that falls behind ends the study; export alerts at 50% and 80% of it.
    public var maxRecords = ServerConfig.defaultMaxRecords
    public static let defaultMaxRecords = 900_000
    /// MAX_RESPONSE: the largest answer accepted from the server, in bytes.
    public var maxResponse: Int64 = ByteSize.defaultMaxResponse
    /// `STUDY`: which study's questionnaire definitions of the catalogue apply (r34, r01, kaiser, templeton).
    public var study: String?
    /// EXCLUDE_IDS: participant ids and ranges that `mt stats flow` excludes (test accounts), as ExclusionList reads them.
    public var excludeIDs: String?
    /// Unknown keys of this block (or of `defaults`) that are close to a known key (`DELET_MODE`): the key meant
    /// is not in force. `mt config check` counts each as a problem (78); `mt export` logs each at critical (the
    /// error log and the alert mail) and the server's run exits at least 1.
    public var misspeltKeys: [String] = []
    /// The config file this block came from, for messages.
    public var configFile: String
    /// KEY_PASSPHRASE_FILE: the passphrase of protected PRIVATE_FILE keys (a file or a systemd credential);
    /// before $MT_KEY_PASSPHRASE and the terminal's question.
    public var keyPassphrase: Secret?
    /// Why KEY_PASSPHRASE_FILE could not be read; thrown by `passphraseForKeys()` when keys are loaded.
    public var keyPassphraseProblem: MTError?
    /// Prometheus text file (node_exporter's textfile collector) that every export run rewrites.
    public var metricsFile: String?

    public init(name: String, ready: Bool = true, deleteMode: Bool = false, apiBase: String, user: String = "",
                password: Secret? = nil, passwordSource: String? = nil, privateFiles: [String] = [],
                dateFormat: String = "%b_%d_%Y", timeFormat: String = "%H_%M_%S", path: String, alert: AlertConfig? = nil,
                connectTimeout: Int = 10, timeout: Int = 300, lowSpeedTime: Int = 30, concurrency: Int = 4,
                retries: Int = 3, caFile: String? = nil, allowHTTP: Bool = false, catalogue: String? = nil,
                configFile: String = "<none>") {
        self.name = name
        self.ready = ready
        self.deleteMode = deleteMode
        self.apiBase = apiBase
        self.user = user
        self.password = password
        self.passwordSource = passwordSource
        self.passwordProblem = nil
        self.privateFiles = privateFiles
        self.dateFormat = dateFormat
        self.timeFormat = timeFormat
        self.path = path
        self.alert = alert
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.lowSpeedTime = lowSpeedTime
        self.concurrency = concurrency
        self.retries = retries
        self.caFile = caFile
        self.allowHTTP = allowHTTP
        self.catalogue = catalogue
        self.configFile = configFile
    }

    public var exportURL: String { apiBase + "/export" }

    /// The data directory's paths are DataLayout's alone.
    public var logsDirectory: String { DataLayout(server: self).logs }

    /// The password, or a config error naming where it could have come from.
    public func requirePassword() throws -> Secret {
        if let passwordProblem { throw passwordProblem }
        guard let password else {
            throw MTError(.config, "\(configFile): server \(name): no password (PASS, PASS_FILE or \(ServerConfig.passwordVariable(for: name)))",
                          hint: "put it in a file readable only by you and set PASS_FILE, or export \(ServerConfig.passwordVariable(for: name))")
        }
        return password
    }

    /// KEY_PASSPHRASE_FILE's passphrase (nil when the key is not set), or the error that reading it gave.
    public func passphraseForKeys() throws -> Secret? {
        if let keyPassphraseProblem { throw keyPassphraseProblem }
        return keyPassphrase
    }

    /// `MT_PASS_<NAME>` with the name upper-cased and anything but letters and digits turned into `_`.
    public static func passwordVariable(for name: String) -> String {
        "MT_PASS_" + String(name.uppercased().unicodeScalars.map { c in
            (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") ? Character(c) : "_"
        })
    }

    /// Normalises both accepted forms (`…/api/` and `…/api/export`) to the API base.
    public static func normaliseAPIBase(_ s: String) -> String {
        var base = s.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/export") { base.removeLast("/export".count) }
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}
