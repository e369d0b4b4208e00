import Foundation
import MTCore

/// Concurrent DELETEs of archived ids (see ARCHITECTURE.md, safety invariants): worker threads, each with its own
/// kept-alive connection, pull ids from one queue that may still be filled while they work (the CSV step hands over
/// each batch it commits). How many may have a request in flight is adaptive (`AdaptiveConcurrency`): it starts at
/// `concurrency` and grows towards `maxConcurrency` while latency holds, halving on 5xx, timeouts or rising
/// latency. Ids are entered in the deletion ledger in batches, each fsynced before any id of it is sent; the
/// answers that confirmed ids gone are entered after them, a batch (or a second's worth) at a time.
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

    /// Starts the workers; ids are handed over with `Run.add` until `Run.finish`. `expected`, how many ids may
    /// come, bounds the number of threads. `progress` is called (from the worker threads, one call at a time) as
    /// each id is answered.
    func start(scale: String, archive: String, ledger: DeletionLedger, logger: Logger, expected: Int,
               batchSize: Int = 1000, progress: (@Sendable () -> Void)? = nil) -> Run {
        let queue = DeleteQueue(control: AdaptiveConcurrency(initial: concurrency, maximum: maxConcurrency),
                                batchSize: batchSize, progress: progress,
                                record: { batch in try ledger.record(scale: scale, ids: batch, archive: archive) },
                                confirm: { answers in
                                    try ledger.confirm(answers.map {
                                        DeletionLedger.Confirmation(time: $0.time, scale: scale, id: $0.id,
                                                                    archive: archive, status: $0.status)
                                    })
                                })
        let done = DispatchGroup()
        for _ in 0..<max(1, min(maxConcurrency, expected)) {
            done.enter()
            let me = self
            let thread = Thread {
                defer { done.leave() }
                me.work(queue, logger: logger)
            }
            thread.start()
        }
        return Run(queue: queue, done: done)
    }

    /// DELETEs under way.
    struct Run: Sendable {
        let queue: DeleteQueue
        let done: DispatchGroup

        func add(_ ids: [Int64]) { queue.add(ids) }

        /// No more ids: waits for the workers and enters the last confirmations. A failure of the deletion ledger
        /// is thrown (no id of a request batch it concerns was sent).
        func finish() throws -> Result {
            queue.close()
            done.wait()
            queue.flushConfirmations()
            if let e = queue.ledgerError { throw e }
            return queue.result
        }
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
            case .deleted: queue.count(\.deleted, confirming: id, status: 200)
            case .gone: queue.count(\.gone, confirming: id, status: 404)
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

/// The ids to delete, the counts so far and the concurrency controller, shared by the worker threads and the
/// thread that hands ids over. Not `WorkerPool`: each delete worker keeps its own kept-alive connection for the
/// whole run, and how many may send at once changes while they run (AIMD), so the workers are long-lived and
/// gated here.
final class DeleteQueue: @unchecked Sendable { // safe: every stored var is used under `lock` only
    private let lock = NSCondition()
    /// Handed over, not yet in the ledger.
    private var waiting: [Int64] = []
    /// In the ledger; `index` is the next to send.
    private var recorded: [Int64] = []
    private var index = 0
    private var closed = false
    private var added = 0
    private var sent = 0
    private var tally = ExportDeleter.Result()
    private var control: AdaptiveConcurrency
    private var inFlight = 0
    private(set) var ledgerError: MTError?
    private let batchSize: Int
    private let record: @Sendable ([Int64]) throws -> Void
    typealias Answered = (id: Int64, status: Int, time: Date)
    /// Answers that confirmed an id gone, not yet in the ledger, and when the oldest of them came.
    private var answered: [Answered] = []
    private var oldestAnswer = Date.distantFuture
    private let confirm: @Sendable ([Answered]) throws -> Void
    private let progress: (@Sendable () -> Void)?

    init(control: AdaptiveConcurrency, batchSize: Int, progress: (@Sendable () -> Void)?,
         record: @escaping @Sendable ([Int64]) throws -> Void,
         confirm: @escaping @Sendable ([Answered]) throws -> Void = { _ in }) {
        self.control = control
        self.batchSize = max(1, batchSize)
        self.progress = progress
        self.record = record
        self.confirm = confirm
    }

    func add(_ ids: [Int64]) {
        lock.lock(); defer { lock.unlock() }
        waiting += ids
        added += ids.count
        lock.broadcast()
    }

    func close() {
        lock.lock(); defer { lock.unlock() }
        closed = true
        lock.broadcast()
    }

    /// The next id, once it is in the ledger and fewer than the controller's limit are in flight; nil when all
    /// are taken and no more can come, or deleting stopped.
    func next() -> Int64? {
        lock.lock(); defer { lock.unlock() }
        while true {
            guard tally.stop == nil else { return nil }
            if index == recorded.count {
                if !waiting.isEmpty {
                    // The next batch into the ledger (fsynced) before any of its ids goes out. The others wait: they
                    // would have nothing to send.
                    let batch = Array(waiting.prefix(batchSize))
                    do { try record(batch) } catch {
                        ledgerError = error.asMTError
                        tally.stop = ledgerError
                        lock.broadcast()
                        return nil
                    }
                    waiting.removeFirst(batch.count)
                    recorded = batch
                    index = 0
                    continue
                }
                if closed { return nil }
            } else if inFlight < control.limit {
                index += 1
                inFlight += 1
                sent += 1
                return recorded[index - 1]
            }
            lock.wait()
        }
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

    func count(_ field: WritableKeyPath<ExportDeleter.Result, Int>) {
        lock.lock(); defer { lock.unlock() }
        tally[keyPath: field] += 1
        progress?()
    }

    /// Counts an answer that confirmed `id` gone and enters the confirmations once a batch, or a second's worth,
    /// has gathered: a kill loses at most that many confirmation times, never a request line.
    func count(_ field: WritableKeyPath<ExportDeleter.Result, Int>, confirming id: Int64, status: Int) {
        lock.lock(); defer { lock.unlock() }
        tally[keyPath: field] += 1
        let now = Date()
        answered.append((id, status, now))
        oldestAnswer = min(oldestAnswer, now)
        if answered.count >= batchSize || now.timeIntervalSince(oldestAnswer) >= 1 { flushLocked() }
        progress?()
    }

    func flushConfirmations() {
        lock.lock(); defer { lock.unlock() }
        flushLocked()
    }

    private func flushLocked() {
        guard !answered.isEmpty, ledgerError == nil else { return }
        do { try confirm(answered) } catch {
            ledgerError = error.asMTError
            if tally.stop == nil { tally.stop = ledgerError }
            lock.broadcast()
        }
        answered = []
        oldestAnswer = .distantFuture
    }

    func stop(_ error: MTError) {
        lock.lock(); defer { lock.unlock() }
        if tally.stop == nil { tally.stop = error }
        lock.broadcast()
    }

    var result: ExportDeleter.Result {
        lock.lock(); defer { lock.unlock() }
        var r = tally
        r.skipped += added - sent
        r.peakConcurrency = control.peak
        r.backoffs = control.backoffs
        return r
    }
}
