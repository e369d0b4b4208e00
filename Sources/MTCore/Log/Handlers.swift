import Foundation
import Logging

/// Console messages on stderr. Under cron (stderr not a terminal) only warnings and above, so a quiet run
/// mails nothing; `-v` and `-q` move the threshold.
public struct ConsoleLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// What the Logger filters on; a MultiplexLogHandler sets it for all its handlers, so the console keeps its
    /// own `threshold` too.
    public var logLevel: Logger.Level
    let threshold: Logger.Level
    let output: Output

    public init(output: Output, verbosity: Verbosity) {
        self.output = output
        switch verbosity {
        case .verbose: threshold = .debug
        case .quiet: threshold = .error
        case .normal: threshold = output.isTerminal ? .info : .warning
        }
        logLevel = threshold
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        guard event.level >= threshold else { return }
        var where_ = ""
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        if let s = all["server"] { where_ += "\(s)" }
        if let s = all["scale"] { where_ += (where_.isEmpty ? "" : " ") + "\(s)" }
        let prefix = event.level >= .warning ? "\(event.level.rawValue): " : ""
        // One event, one line: a value that slipped through unescaped cannot start a line of its own.
        output.line(Untrusted.record("mt: \(prefix)\(where_.isEmpty ? "" : where_ + ": ")\(event.message)"))
    }
}

/// Writes to a server's four log files.
public struct FileLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .debug
    let files: LogFiles

    public init(files: LogFiles) { self.files = files }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        files.write(LogLine.format(event, metadata: metadata), level: event.level)
    }
}

/// Gathers the run's critical messages so that one e-mail carries them all (no alert storm).
public final class AlertCollector: @unchecked Sendable { // safe: `lines` is used under `lock` only
    private let lock = NSLock()
    private var lines: [String] = []

    public init() {}

    public func add(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        lines.append(line)
    }

    public var messages: [String] {
        lock.lock(); defer { lock.unlock() }
        return lines
    }
}

struct AlertLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .critical
    let collector: AlertCollector

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        // The multiplexer sets one level for all handlers; only critical events become alerts.
        guard event.level == .critical else { return }
        collector.add(LogLine.format(event, metadata: metadata))
    }
}
