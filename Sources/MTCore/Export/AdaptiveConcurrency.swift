/// How many DELETEs may be in flight at once: additive increase, multiplicative decrease, as TCP's congestion
/// control and Netflix's concurrency-limits do. A healthy server is cleared fast; a struggling production server
/// gets gentler traffic at once.
///
/// Requests are judged in windows of `limit` completions (about one round trip of every connection). A window
/// whose mean latency stayed within `tolerance` × the lowest window mean seen (plus `slack`) grows the limit:
/// doubling until the first back-off ("slow start"), then by one. A 5xx answer or a timeout halves the limit at
/// once, and so does a window whose latency rose past the tolerance. After a halving, the next window only
/// settles: its requests were mostly sent before the halving and say nothing about the new limit.
///
/// A value type fed by `record`, so that it is tested with made-up latencies and no clock or server.
public struct AdaptiveConcurrency: Sendable, Equatable {
    /// What one request told about the server.
    public enum Signal: Sendable, Equatable {
        /// Answered (2xx, 404, …) after `latency` seconds; nil when the time is not a fair sample (the request
        /// also opened its connection, whose TCP and TLS handshakes say nothing about the server's load).
        case answered(latency: Double?)
        /// 5xx, a timeout or a broken connection: the server is struggling.
        case overloaded
    }

    public private(set) var limit: Int
    public let minimum: Int
    public let maximum: Int
    /// The highest limit reached, and how many times it was halved (for the run's log and the benchmark).
    public private(set) var peak: Int
    public private(set) var backoffs = 0

    /// A window's mean latency above `tolerance` × the baseline, plus `slack` seconds, counts as rising. The slack
    /// keeps the scheduler's jitter on a sub-millisecond loopback from looking like a queueing server.
    public var tolerance = 2.0
    public var slack = 0.001

    /// The lowest window mean latency seen: the server's latency when we are not what is queueing.
    public private(set) var baseline: Double?
    private var slowStart = true
    private var settling = false
    private var completed = 0
    private var latencySum = 0.0
    private var samples = 0

    /// Starts at `initial`, grows to at most `maximum` (raised to `initial` when below it).
    public init(initial: Int, maximum: Int, minimum: Int = 1) {
        self.minimum = max(1, minimum)
        self.limit = max(self.minimum, initial)
        self.maximum = max(self.limit, maximum)
        self.peak = self.limit
    }

    public mutating func record(_ signal: Signal) {
        completed += 1
        switch signal {
        case .overloaded:
            if !settling {
                decrease()
                return
            }
        case .answered(let latency?):
            latencySum += latency
            samples += 1
        case .answered(nil):
            break
        }
        guard completed >= limit else { return }
        defer { completed = 0; latencySum = 0; samples = 0 }
        if settling {
            settling = false
            return
        }
        guard samples > 0 else { return }
        let mean = latencySum / Double(samples)
        // At the minimum we add no queueing of our own: what we see is the server's latency now.
        if limit == minimum { baseline = mean }
        let floor = min(baseline ?? mean, mean)
        baseline = floor
        if mean > floor * tolerance + slack {
            decrease()
        } else {
            limit = min(maximum, slowStart ? limit * 2 : limit + 1)
            peak = max(peak, limit)
        }
    }

    private mutating func decrease() {
        limit = max(minimum, limit / 2)
        slowStart = false
        settling = true
        backoffs += 1
        completed = 0
        latencySum = 0
        samples = 0
    }
}
