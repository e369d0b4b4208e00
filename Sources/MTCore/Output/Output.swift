import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A buffered, thread-safe writer on a file descriptor (stdout, stderr, or an opened file).
public final class Output: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    private var buffer: [UInt8] = []
    private let capacity: Int
    public let isTerminal: Bool

    public init(fd: Int32, capacity: Int = 64 * 1024) {
        self.fd = fd
        self.capacity = capacity
        self.isTerminal = isatty(fd) == 1
        buffer.reserveCapacity(capacity)
    }

    public static func standardOutput() -> Output { Output(fd: STDOUT_FILENO) }
    public static func standardError() -> Output { Output(fd: STDERR_FILENO, capacity: 0) }

    public func write(_ s: String) { write(Array(s.utf8)) }

    public func line(_ s: String = "") { write(s + "\n") }

    public func write<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        lock.lock(); defer { lock.unlock() }
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { flushLocked() }
    }

    public func flush() {
        lock.lock(); defer { lock.unlock() }
        flushLocked()
    }

    private func flushLocked() {
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; break } // a closed pipe: nothing left to tell
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flushLocked() }
}
