import Foundation

/// Shared mutable state of the running server behind one lock: NIO's event-loop threads and the signal and
/// arrival timers all reach it, and every change (a delete and its ledger line) must be atomic.
final class Locked<State>: @unchecked Sendable { // safe: `state` is reached through withLock only
    private let lock = NSLock()
    private var state: State

    init(_ state: State) { self.state = state }

    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }
}
