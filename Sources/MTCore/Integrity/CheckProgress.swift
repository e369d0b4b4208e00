import Foundation

/// The shared `ProgressBar`, advanced from the worker threads of a parallel check; made only when stderr is a
/// terminal (never under cron).
public final class CheckProgress: @unchecked Sendable {
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

/// Work spread over all cores, results kept in input order (output stays deterministic).
enum VerifyWork {
    static func map<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        guard count > 0 else { return [] }
        let box = ResultBox<T>(count: count)
        DispatchQueue.concurrentPerform(iterations: count) { i in box.set(i, body(i)) }
        return box.values()
    }

    private final class ResultBox<T>: @unchecked Sendable {
        private var items: [T?]
        private let lock = NSLock()
        init(count: Int) { items = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ v: T) { lock.lock(); items[i] = v; lock.unlock() }
        func values() -> [T] { items.map { $0! } }
    }
}
