import Foundation

/// One run per data directory (DESIGN §4.5): an flock on `PATH/.mt.lock`. The kernel drops it when the process
/// ends, however it ends, so a lock never outlives its run.
public final class DirectoryLock: @unchecked Sendable {
    private var fd: Int32
    public let path: String

    /// Takes the lock or throws `.tempFail` at once (cron will try again in 5 minutes).
    public init(directory: String) throws {
        try FileSystem.makeDirectories(directory)
        path = directory + "/.mt.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw MTError(FileSystem.codeForErrno(), "cannot open lock file \(path): \(FileSystem.errnoText())")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            close(fd)
            if e == EWOULDBLOCK {
                throw MTError(.tempFail, "another mt run is working on \(directory); this run stopped without doing anything")
            }
            throw MTError(.ioError, "cannot lock \(path): \(String(cString: strerror(e)))")
        }
        let pid = Array("\(getpid())\n".utf8)
        ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
    }

    public func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
