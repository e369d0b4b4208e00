import Foundation

/// The shared `ProgressBar`, advanced from the worker threads of a parallel check; made only when stderr is a
/// terminal (never under cron).
public final class CheckProgress: @unchecked Sendable { // safe: the bar is drawn under `lock` only
    private let bar: ProgressBar
    private let lock = NSLock()

    public init(output: Output, label: String, total: Int, unit: String) {
        bar = ProgressBar(output: output, label: label, total: total, unit: unit)
    }

    /// One more unit done; safe from any thread.
    public func tick() {
        lock.lock(); defer { lock.unlock() }
        bar.advance(by: 1)
    }

    /// Clears the line so that the report starts on a clean one.
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        bar.finish()
    }
}
