import Foundation
import Logging

/// The logging of one command run on one server: console, the server's log files, and the alert collector.
///
/// Built per server rather than bootstrapped globally: one run may touch several servers, each with its own
/// `PATH/logs`, and no global state is kept.
public final class RunLogging: @unchecked Sendable { // safe: every stored property is a let of a Sendable type
    public let logger: Logger
    public let alerts: AlertCollector
    let server: ServerConfig
    let environment: [String: String]

    public init(command: String, server: ServerConfig, verbosity: Verbosity, console: Output,
                environment: [String: String], health: LogHealth = LogHealth()) throws {
        let alerts = AlertCollector()
        let name = server.name
        let mailNote = server.alert == nil ? "" : "; the alert mail lists every log file that failed"
        // Said once on stderr (whatever the verbosity), every file in the alert mail; the run then exits 1.
        let files = try LogFiles(directory: server.logsDirectory) { problem in
            let text = "\(problem); this run's record in it is incomplete (the run goes on)"
            if health.record(text, key: name) {
                console.line("mt \(command): \(name): warning: \(text)\(mailNote)")
            }
            alerts.add("\(LocalTime.stamp(Date())) CRITICAL \(command) \(name) - \(text)\n")
        }
        var logger = Logger(label: "mt.\(command)") { _ in
            MultiplexLogHandler([
                ConsoleLogHandler(output: console, verbosity: verbosity),
                FileLogHandler(files: files),
                AlertLogHandler(collector: alerts),
            ])
        }
        logger.logLevel = .debug
        logger[metadataKey: "command"] = "\(command)"
        logger[metadataKey: "server"] = "\(server.name)"
        self.logger = logger
        self.alerts = alerts
        self.server = server
        self.environment = environment
    }

    public static func consoleOnly(command: String, verbosity: Verbosity, console: Output) -> Logger {
        var logger = Logger(label: "mt.\(command)") { _ in ConsoleLogHandler(output: console, verbosity: verbosity) }
        logger.logLevel = .debug
        logger[metadataKey: "command"] = "\(command)"
        return logger
    }

    public func logger(scale: String) -> Logger {
        var l = logger
        l[metadataKey: "scale"] = "\(scale)"
        return l
    }

    /// Sends the run's one alert e-mail if anything critical was logged. A failed mail is logged, never thrown:
    /// it must not hide the run's own outcome. Returns whether a mail went out.
    @discardableResult
    public func sendAlerts(subject: String, footer: String? = nil) -> Bool {
        let messages = alerts.messages
        guard !messages.isEmpty else { return false }
        guard let alert = server.alert else {
            logger.warning("critical events happened but no ALERT_EMAIL is configured; nobody was mailed")
            return false
        }
        return send(alert, subject: subject, body: AlertMailer.body(server: server, messages: messages, footer: footer))
    }

    /// As `sendAlerts`, for the repeating cron run (mt export, under the data directory's lock): alerts mailed
    /// before and still occurring are mailed again only after ALERT_REPEAT, and when none occurs any more one
    /// "resolved" mail goes out (`AlertRepeat`, kept in `PATH/state/alerts.json`). A state that cannot be
    /// written is logged and the mail still goes out: better one mail too many than an alarm lost.
    @discardableResult
    public func sendRepeatingAlerts(subject: String, resolvedSubject: String, footer: String? = nil,
                                    now: Date = Date()) -> Bool {
        let messages = alerts.messages
        guard let alert = server.alert else { return sendAlerts(subject: subject, footer: footer) }
        let root = DataLayout(server: server).root
        var state: AlertRepeat
        do { state = try AlertRepeat.load(root: root) } catch {
            logger.error("\(error.asMTError.message); every alert is mailed until then")
            return sendAlerts(subject: subject, footer: footer)
        }
        let before = state
        let decision = state.decide(messages, now: now.timeIntervalSince1970, repeatInterval: alert.repeatInterval)
        var sent = false
        switch decision {
        case .none:
            break
        case .mail(let lines):
            sent = send(alert, subject: subject, body: AlertMailer.body(server: server, messages: lines, footer: footer))
            // Unsent, it is not "mailed": the next run tries again.
            if !sent { state = before }
        case .suppressed(let since):
            logger.info("alert mail not sent: the same alert(s) were mailed at \(LocalTime.stamp(Date(timeIntervalSince1970: since))); ALERT_REPEAT is \(DurationText.format(alert.repeatInterval))")
        case .resolved(let was):
            sent = send(alert, subject: resolvedSubject, body: AlertMailer.resolvedBody(server: server, was: was))
            if !sent { state = before }
        }
        if state != before {
            do { try state.save(root: root) } catch {
                logger.error("the alert state \(AlertRepeat.path(root: root)) could not be written: \(error.asMTError.message) (the next run mails again)")
            }
        }
        return sent
    }

    private func send(_ alert: AlertConfig, subject: String, body: String) -> Bool {
        do {
            try AlertMailer(config: alert).send(subject: subject, body: body)
            logger.info("alert mail sent to \(alert.to.joined(separator: ", "))")
            return true
        } catch {
            logger.error("alert mail could not be sent: \(error.asMTError.message)")
            return false
        }
    }
}
