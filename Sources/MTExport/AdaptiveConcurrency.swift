import MTCore
/// How many DELETEs may be in flight at once: additive increase, multiplicative decrease, as TCP's congestion
/// control and Netflix's concurrency-limits do. A healthy server is cleared fast; a struggling production server
/// gets gentler traffic at once.
///
/// Requests are judged in windows of `limit` completions (about one round trip of every connection). A window
/// whose median latency stayed within `tolerance` × the lowest window median seen (plus `slack`) grows the limit:
/// doubling until the first back-off ("slow start"), then by one. A 5xx answer or a timeout halves the limit at
/// once, and so does the second window in a row whose latency rose past the tolerance. The median, not the
/// mean, and two windows, not one: a request stalled by the scheduler of a busy client machine, or one burst of
/// a neighbour's work, says nothing about the server; a queue that keeps growing does. After a halving, the next window only
/// settles: its requests were mostly sent before the halving and say nothing about the new limit.
///
/// A value type fed by `record`, so that it is tested with made-up latencies and no clock or server.
struct AdaptiveConcurrency: Sendable, Equatable {
    /// What one request told about the server.
    enum Signal: Sendable, Equatable {
        /// Answered (2xx, 404, …) after `latency` seconds; nil when the time is not a fair sample (the request
        /// also opened its connection, whose TCP and TLS handshakes say nothing about the server's load).
        case answered(latency: Double?)
        /// 5xx, a timeout or a broken connection: the server is struggling.
        case overloaded
    }

    private(set) var limit: Int
    let minimum: Int
    let maximum: Int
    /// The highest limit reached, and how many times it was lowered (for the run's log and the benchmark).
    private(set) var peak: Int
    private(set) var backoffs = 0

    /// A window's median latency above `tolerance` × the baseline, plus `slack` seconds, counts as rising. The slack
    /// keeps the scheduler's jitter on a sub-millisecond loopback from looking like a queueing server.
    var tolerance = 2.0
    var slack = 0.001

    /// The lowest window median latency seen: the server's latency when we are not what is queueing.
    private(set) var baseline: Double?
    private var slowStart = true
    private var settling = false
    private var rising = false
    private var completed = 0
    private var samples: [Double] = []

    /// Starts at `initial`, grows to at most `maximum` (raised to `initial` when below it).
    init(initial: Int, maximum: Int, minimum: Int = 1) {
        self.minimum = max(1, minimum)
        self.limit = max(self.minimum, initial)
        self.maximum = max(self.limit, maximum)
        self.peak = self.limit
    }

    mutating func record(_ signal: Signal) {
        completed += 1
        switch signal {
        case .overloaded:
            if !settling {
                decrease()
                return
            }
        case .answered(let latency?):
            samples.append(latency)
        case .answered(nil):
            break
        }
        guard completed >= limit else { return }
        defer { completed = 0; samples.removeAll(keepingCapacity: true) }
        if settling {
            settling = false
            return
        }
        guard !samples.isEmpty else { return }
        samples.sort()
        let median = samples[samples.count / 2]
        // At the minimum we add no queueing of our own: what we see is the server's latency now.
        if limit == minimum { baseline = median }
        let floor = min(baseline ?? median, median)
        baseline = floor
        if median > floor * tolerance + slack {
            if rising { decrease() } else { rising = true }
        } else {
            rising = false
            limit = min(maximum, slowStart ? limit * 2 : limit + 1)
            peak = max(peak, limit)
        }
    }

    private mutating func decrease() {
        if limit > minimum { backoffs += 1 }
        limit = max(minimum, limit / 2)
        slowStart = false
        settling = true
        rising = false
        completed = 0
        samples.removeAll(keepingCapacity: true)
    }
}
