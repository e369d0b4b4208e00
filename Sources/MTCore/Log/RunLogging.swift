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
    public func sendAlerts(subject: String) -> Bool {
        let messages = alerts.messages
        guard !messages.isEmpty else { return false }
        guard let alert = server.alert else {
            logger.warning("critical events happened but no ALERT_EMAIL is configured; nobody was mailed")
            return false
        }
        do {
            try AlertMailer(config: alert).send(subject: subject, body: AlertMailer.body(server: server, messages: messages))
            logger.info("alert mail sent to \(alert.to.joined(separator: ", "))")
            return true
        } catch {
            logger.error("alert mail could not be sent: \(error.asMTError.message)")
            return false
        }
    }
}
