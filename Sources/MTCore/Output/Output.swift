import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A buffered, thread-safe writer on a file descriptor (stdout, stderr, or an opened file).
///
/// A failed write is remembered, never dropped: `finish` turns it into the process's exit status, so output lost
/// to a full disk or a closed descriptor is a failure (as git's `run_builtin` treats it).
public final class Output: @unchecked Sendable { // safe: buffer and firstError are used under `lock` only
    private let fd: Int32
    private let lock = NSLock()
    private var buffer: [UInt8] = []
    private let capacity: Int
    private var firstError: Int32?
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

    /// The errno of the first write that failed (ENOSPC, EIO, EPIPE, EBADF…), or nil while every byte arrived.
    public var writeError: Int32? {
        lock.lock(); defer { lock.unlock() }
        return firstError
    }

    private func flushLocked() {
        defer { buffer.removeAll(keepingCapacity: true) }
        // After a failure the rest would only fail too (or land after a gap); the first error is what counts.
        guard firstError == nil else { return }
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    firstError = errno
                    return
                }
                offset += n
            }
        }
    }

    deinit { flushLocked() }

    /// The exit status of a run that ended with `code`, once stdout is flushed and both outputs are checked.
    ///
    /// A reader that closed its end on purpose (`mt … | head`) ends the run quietly, as git does: the process
    /// dies of SIGPIPE, which shells do not report. Any other lost output (disk full, `/dev/full`, a closed
    /// descriptor) gets a one-line message and exit 74, unless the command already failed worse.
    public static func finish(_ code: ExitCode, stdout: Output, stderr: Output) -> ExitCode {
        stdout.flush()
        let outError = stdout.writeError, errError = stderr.writeError
        if outError == EPIPE || errError == EPIPE {
            guard code == .ok else { return code }
            signal(SIGPIPE, SIG_DFL)
            raise(SIGPIPE)
        }
        if let e = outError {
            stderr.line("mt: cannot write to standard output: \(String(cString: strerror(e)))")
            return max(code, .ioError)
        }
        if errError != nil { return max(code, .ioError) }
        return code
    }
}
