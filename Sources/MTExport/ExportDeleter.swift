import Foundation
import MTCore

/// Concurrent DELETEs of archived ids (see ARCHITECTURE.md, safety invariants): worker threads, each with its own kept-alive `HTTPClient`,
/// pull ids from one queue. How many may have a request in flight is adaptive (`AdaptiveConcurrency`): it starts at
/// `concurrency` and grows towards `maxConcurrency` while latency holds, halving on 5xx, timeouts or rising
/// latency. The deletion ledger entry of a batch is fsynced before the batch goes out.
struct ExportDeleter: Sendable {
    struct Result: Sendable, Equatable {
        /// Answered 200 (or 204).
        var deleted = 0
        /// Answered 404: already gone (an earlier run's DELETE that succeeded before a crash).
        var gone = 0
        /// Still on the server after the retries.
        var failed = 0
        /// Not sent because deleting stopped (403 or an unexpected answer).
        var skipped = 0
        /// Why deleting stopped, when it did.
        var stop: MTError?
        /// The most DELETEs in flight at once that the server's answers allowed, and how often they were halved.
        var peakConcurrency = 0
        var backoffs = 0
    }

    var options: HTTPOptions
    var deleteURL: @Sendable (Int64) -> String
    var concurrency: Int
    var maxConcurrency: Int
    var retries: Int
    /// First backoff in seconds; doubled per retry, capped at 5 s.
    var backoff: Double = 0.2
    /// Seconds on a monotonic clock, for the latency samples.
    var clock: @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    /// Opens each worker thread's own transport (the unit tests' seam; see `ExportTransport`).
    var connect: @Sendable () throws -> any ExportTransport

    /// `maxConcurrency` below `concurrency` means never above `concurrency` (it still halves).
    init(options: HTTPOptions, deleteURL: @escaping @Sendable (Int64) -> String, concurrency: Int,
                maxConcurrency: Int? = nil, retries: Int) {
        self.options = options
        self.deleteURL = deleteURL
        self.concurrency = max(1, concurrency)
        self.maxConcurrency = max(self.concurrency, maxConcurrency ?? self.concurrency)
        self.retries = retries
        connect = { try HTTPClient(options: options) }
    }

    /// Deletes `ids` (after recording them in the ledger, in batches). Errors of the ledger stop everything
    /// before the batch they concern is sent.
    /// `progress` is called (from the worker threads, one call at a time) as each id is answered.
    func delete(_ ids: [Int64], scale: String, archive: String, ledger: DeletionLedger, logger: Logger,
                       batchSize: Int = 1000, progress: (@Sendable () -> Void)? = nil) throws -> Result {
        var total = Result()
        var start = 0
        // One controller across the batches: what the server showed in one batch holds for the next.
        var control = AdaptiveConcurrency(initial: concurrency, maximum: maxConcurrency)
        while start < ids.count {
            let batch = Array(ids[start..<min(start + batchSize, ids.count)])
            start += batch.count
            try ledger.record(scale: scale, ids: batch, archive: archive)
            let r = run(batch, control: &control, logger: logger, progress: progress)
            total.peakConcurrency = control.peak
            total.backoffs = control.backoffs
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

    func run(_ ids: [Int64], control: inout AdaptiveConcurrency, logger: Logger,
             progress: (@Sendable () -> Void)? = nil) -> Result {
        let shared = DeleteQueue(ids: ids, control: control, progress: progress)
        defer { control = shared.controller }
        let workers = min(maxConcurrency, ids.count)
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
        let client: any ExportTransport
        do { client = try connect() } catch {
            queue.stop(error.asMTError)
            return
        }
        // Threads above the current limit wait in next() and open no connection until they are let in.
        var connected = false
        while let id = queue.next() {
            let answer = deleteOne(id, client: client, logger: logger) { signal in
                // A request that also opened its connection is no fair latency sample.
                if case .answered = signal, !connected { queue.observe(.answered(latency: nil)) } else { queue.observe(signal) }
                if case .answered = signal { connected = true } else { connected = false }
            }
            queue.done()
            switch answer {
            case .deleted: queue.count(\.deleted)
            case .gone: queue.count(\.gone)
            case .failed: queue.count(\.failed)
            case .stop(let e): queue.count(\.skipped); queue.stop(e)
            }
        }
    }

    /// One id, with retries; every attempt's outcome goes to `observe`.
    func deleteOne(_ id: Int64, client: any ExportTransport, logger: Logger,
                   observe: (AdaptiveConcurrency.Signal) -> Void = { _ in }) -> Answer {
        let url = deleteURL(id)
        var attempt = 0
        while true {
            var why: String
            do {
                let sent = clock()
                let r = try client.delete(url)
                observe((500...599).contains(r.status) ? .overloaded : .answered(latency: clock() - sent))
                switch r.status {
                case 200, 202, 204: return .deleted
                case 404: logger.debug("id \(id) was already gone (404)"); return .gone
                case 403:
                    return .stop(MTError(.unavailable, "DELETE of id \(id) answered 403: the server says this scale must stay; deleting it stopped",
                                         hint: "the scale list said deleteable; ask the server's admin which is right"))
                case 500...599: why = "HTTP \(r.status)"
                case let status where LoginAnswer.isLoginRefused(status):
                    return .stop(MTError(.unavailable, "DELETE of id \(id) answered \(LoginAnswer.explain(status: status)); deleting this scale stopped",
                                         hint: LoginAnswer.hint))
                default:
                    return .stop(MTError(.unavailable, "DELETE of id \(id) answered HTTP \(r.status); deleting this scale stopped"))
                }
            } catch let e as HTTPTransportError {
                observe(.overloaded)
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

/// The ids left to delete, the counts so far and the concurrency controller, shared by the worker threads.
/// Not `WorkerPool`: each delete worker keeps its own kept-alive connection for the whole run, and how many may
/// send at once changes while they run (AIMD), so the workers are long-lived and gated here.
final class DeleteQueue: @unchecked Sendable { // safe: every stored var is used under `lock` only
    private let lock = NSCondition()
    private let ids: [Int64]
    private var index = 0
    private var tally = ExportDeleter.Result()
    private var control: AdaptiveConcurrency
    private var inFlight = 0

    private let progress: (@Sendable () -> Void)?

    init(ids: [Int64], control: AdaptiveConcurrency, progress: (@Sendable () -> Void)? = nil) {
        self.ids = ids
        self.control = control
        self.progress = progress
    }

    /// The next id, once fewer than the controller's limit are in flight; nil when all are taken or deleting stopped.
    func next() -> Int64? {
        lock.lock(); defer { lock.unlock() }
        while tally.stop == nil, index < ids.count, inFlight >= control.limit { lock.wait() }
        guard tally.stop == nil, index < ids.count else { return nil }
        index += 1
        inFlight += 1
        return ids[index - 1]
    }

    func observe(_ signal: AdaptiveConcurrency.Signal) {
        lock.lock(); defer { lock.unlock() }
        control.record(signal)
        lock.broadcast()
    }

    /// The id taken by next() is finished (its counts follow).
    func done() {
        lock.lock(); defer { lock.unlock() }
        inFlight -= 1
        lock.broadcast()
    }

    var controller: AdaptiveConcurrency {
        lock.lock(); defer { lock.unlock() }
        return control
    }

    func count(_ field: WritableKeyPath<ExportDeleter.Result, Int>) {
        lock.lock(); defer { lock.unlock() }
        tally[keyPath: field] += 1
        progress?()
    }

    func stop(_ error: MTError) {
        lock.lock(); defer { lock.unlock() }
        if tally.stop == nil { tally.stop = error }
        lock.broadcast()
    }

    var result: ExportDeleter.Result {
        lock.lock(); defer { lock.unlock() }
        var r = tally
        r.skipped += ids.count - index
        return r
    }
}
