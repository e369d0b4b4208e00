import Foundation

/// Independent jobs spread over the cores, results in job order, so output never depends on scheduling.
///
///     let pool = WorkerPool()                              // one worker per core (workers: 1 runs inline)
///     let sums = pool.map(files.count) { i in checksum(files[i]) }
///
/// Each worker takes the next job not yet started, so a slow job does not hold up the others. Jobs must not
/// depend on each other; a job that needs state of its own (an OpenSSL context) makes it inside the job.
public struct WorkerPool: Sendable {
    public let workers: Int

    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.workers = max(1, workers)
    }

    /// `job(0)`, `job(1)`, … `job(count - 1)`, run concurrently; their results in that order.
    public func map<T: Sendable>(_ count: Int, _ job: @Sendable (Int) -> T) -> [T] {
        guard count > 0 else { return [] }
        if workers == 1 || count == 1 { return (0..<count).map(job) }
        let board = Board<T>(count: count)
        DispatchQueue.concurrentPerform(iterations: min(workers, count)) { _ in
            while let i = board.take() { board.put(i, job(i)) }
        }
        return board.results()
    }

    /// The next job to start and the results so far.
    private final class Board<T>: @unchecked Sendable { // safe: every stored property is used under `lock` only
        private let lock = NSLock()
        private var next = 0
        private var slots: [T?]

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func take() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard next < slots.count else { return nil }
            next += 1
            return next - 1
        }

        func put(_ i: Int, _ value: T) {
            lock.lock(); defer { lock.unlock() }
            slots[i] = value
        }

        /// After `concurrentPerform` returned: every slot is filled.
        func results() -> [T] {
            lock.lock(); defer { lock.unlock() }
            return slots.map { $0! }
        }
    }
}
