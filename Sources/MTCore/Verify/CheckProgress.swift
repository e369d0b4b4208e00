import Foundation

/// A one-line progress bar on stderr for long checks; made only when stderr is a terminal (never under cron).
public final class CheckProgress: @unchecked Sendable {
    private let output: Output
    private let label: String
    private let total: Int
    private let lock = NSLock()
    private var done = 0
    private var shown = -1

    public init(output: Output, label: String, total: Int) {
        self.output = output
        self.label = label
        self.total = max(total, 1)
    }

    /// One more unit done; safe from any thread.
    public func tick() {
        lock.lock(); defer { lock.unlock() }
        done += 1
        let percent = done * 100 / total
        guard percent != shown else { return }
        shown = percent
        let width = 30
        let filled = done * width / total
        output.write("\r\(label) [\(String(repeating: "#", count: filled))\(String(repeating: " ", count: width - filled))] \(done)/\(total)")
    }

    /// Clears the line so that the report starts on a clean one.
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        guard shown >= 0 else { return }
        output.write("\r\u{1B}[K")
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
