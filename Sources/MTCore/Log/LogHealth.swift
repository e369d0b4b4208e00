import Foundation

/// Whether every log line of a command run reached its files. Shared by the run's loggers (one per server);
/// a run whose record is incomplete exits 1 (partial) rather than 0, so the gap is noticed.
public final class LogHealth: @unchecked Sendable { // safe: problems and said are used under `lock` only
    private let lock = NSLock()
    private var problems: [String] = []
    private var said: Set<String> = []

    public init() {}

    /// Records a problem; true the first time for `key` (a server), when it is to be said on stderr.
    @discardableResult
    func record(_ problem: String, key: String = "") -> Bool {
        lock.lock(); defer { lock.unlock() }
        problems.append(problem)
        return said.insert(key).inserted
    }

    /// What could not be written, once per log file.
    public var failures: [String] {
        lock.lock(); defer { lock.unlock() }
        return problems
    }
}

extension CommandContext {
    /// The server's logging for a command whose work does not need it (a benchmark edit): when the log files
    /// cannot be opened the work goes on, but the gap is said on stderr and the run exits 1, never silently.
    public func loggingIfPossible(for server: ServerConfig) -> RunLogging? {
        do { return try makeLogging(for: server) } catch {
            let text = "\(error.asMTError.message); this run is not recorded in the log files"
            logHealth.record(text)
            stderr.line("mt \(commandName): \(server.name): warning: \(text)")
            return nil
        }
    }
}
