import Foundation

/// Concurrent DELETEs of archived ids (DESIGN §4.1): N worker threads, each with its own kept-alive
/// `HTTPClient`, pull ids from one queue. The deletion ledger entry of a batch is fsynced before the batch goes out.
public struct ExportDeleter: Sendable {
    public struct Result: Sendable, Equatable {
        /// Answered 200 (or 204).
        public var deleted = 0
        /// Answered 404: already gone (an earlier run's DELETE that succeeded before a crash).
        public var gone = 0
        /// Still on the server after the retries.
        public var failed = 0
        /// Not sent because deleting stopped (403 or an unexpected answer).
        public var skipped = 0
        /// Why deleting stopped, when it did.
        public var stop: MTError?
    }

    public var options: HTTPOptions
    public var deleteURL: @Sendable (Int64) -> String
    public var concurrency: Int
    public var retries: Int
    /// First backoff in seconds; doubled per retry, capped at 5 s.
    public var backoff: Double = 0.2

    public init(options: HTTPOptions, deleteURL: @escaping @Sendable (Int64) -> String, concurrency: Int, retries: Int) {
        self.options = options
        self.deleteURL = deleteURL
        self.concurrency = max(1, concurrency)
        self.retries = retries
    }

    /// Deletes `ids` (after recording them in the ledger, in batches). Errors of the ledger stop everything
    /// before the batch they concern is sent.
    /// `progress` is called (from the worker threads, one call at a time) as each id is answered.
    public func delete(_ ids: [Int64], scale: String, archive: String, ledger: DeletionLedger, logger: Logger,
                       batchSize: Int = 1000, progress: (@Sendable () -> Void)? = nil) throws -> Result {
        var total = Result()
        var start = 0
        while start < ids.count {
            let batch = Array(ids[start..<min(start + batchSize, ids.count)])
            start += batch.count
            try ledger.record(scale: scale, ids: batch, archive: archive)
            let r = run(batch, logger: logger, progress: progress)
            total.deleted += r.deleted
            total.gone += r.gone
            total.failed += r.failed
            total.skipped += r.skipped
            if let stop = r.stop {
                total.stop = stop
                total.skipped += ids.count - start
                break
            }
        }
        return total
    }

    func run(_ ids: [Int64], logger: Logger, progress: (@Sendable () -> Void)? = nil) -> Result {
        let shared = DeleteQueue(ids: ids, progress: progress)
        let workers = min(concurrency, ids.count)
        let done = DispatchGroup()
        for _ in 0..<workers {
            done.enter()
            let me = self
            let thread = Thread {
                defer { done.leave() }
                me.work(shared, logger: logger)
            }
            thread.start()
        }
        done.wait()
        return shared.result
    }

    enum Answer { case deleted, gone, failed, stop(MTError) }

    func work(_ queue: DeleteQueue, logger: Logger) {
        let client: HTTPClient
        do { client = try HTTPClient(options: options) } catch {
            queue.stop(error.asMTError)
            return
        }
        while let id = queue.next() {
            switch deleteOne(id, client: client, logger: logger) {
            case .deleted: queue.count(\.deleted)
            case .gone: queue.count(\.gone)
            case .failed: queue.count(\.failed)
            case .stop(let e): queue.count(\.skipped); queue.stop(e)
            }
        }
    }

    func deleteOne(_ id: Int64, client: HTTPClient, logger: Logger) -> Answer {
        let url = deleteURL(id)
        var attempt = 0
        while true {
            var why: String
            do {
                let r = try client.delete(url)
                switch r.status {
                case 200, 202, 204: return .deleted
                case 404: logger.debug("id \(id) was already gone (404)"); return .gone
                case 403:
                    return .stop(MTError(.unavailable, "DELETE of id \(id) answered 403: the server says this scale must stay; deleting it stopped",
                                         hint: "the scale list said deleteable; ask the server's admin which is right"))
                case 500...599: why = "HTTP \(r.status)"
                default:
                    return .stop(MTError(.unavailable, "DELETE of id \(id) answered HTTP \(r.status); deleting this scale stopped",
                                         hint: r.status == 401 ? "the server refused USER/PASS" : nil))
                }
            } catch let e as HTTPTransportError {
                why = e.message
            } catch {
                return .stop(error.asMTError)
            }
            if attempt >= retries {
                logger.error("DELETE of id \(id) failed \(attempt + 1) times (\(why)); it stays on the server and is retried next run")
                return .failed
            }
            logger.debug("DELETE of id \(id): \(why); retrying")
            usleep(useconds_t(min(backoff * Double(1 << min(attempt, 10)), 5) * 1_000_000))
            attempt += 1
        }
    }
}

/// The ids left to delete and the counts so far, shared by the worker threads.
final class DeleteQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let ids: [Int64]
    private var index = 0
    private var tally = ExportDeleter.Result()
    private let progress: (@Sendable () -> Void)?

    init(ids: [Int64], progress: (@Sendable () -> Void)? = nil) {
        self.ids = ids
        self.progress = progress
    }

    func next() -> Int64? {
        lock.lock(); defer { lock.unlock() }
        guard tally.stop == nil, index < ids.count else { return nil }
        index += 1
        return ids[index - 1]
    }

    func count(_ field: WritableKeyPath<ExportDeleter.Result, Int>) {
        lock.lock(); defer { lock.unlock() }
        tally[keyPath: field] += 1
        progress?()
    }

    func stop(_ error: MTError) {
        lock.lock(); defer { lock.unlock() }
        if tally.stop == nil { tally.stop = error }
    }

    var result: ExportDeleter.Result {
        lock.lock(); defer { lock.unlock() }
        var r = tally
        r.skipped += ids.count - index
        return r
    }
}
