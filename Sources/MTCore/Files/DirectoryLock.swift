import Foundation

/// One run per data directory (ARCHITECTURE.md, "Safety invariants"): an flock on `PATH/.mt.lock`. The kernel drops it when the process
/// ends, however it ends, so a lock never outlives its run.
public final class DirectoryLock: @unchecked Sendable { // safe: `fd` changes only in release(), called by the run that took the lock
    private var fd: Int32
    public let path: String

    /// Takes the lock or throws `.tempFail` at once (cron will try again in 5 minutes).
    public init(directory: String) throws {
        try FileSystem.makeDirectories(directory)
        path = directory + "/.mt.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            // A folder or a symlink named .mt.lock is refused (exit 73), never followed or removed.
            throw FileSystem.failure("cannot open lock file \(path)", path: path, errno: errno)
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

    /// The run holding a data directory's lock right now.
    public struct Holder: Sendable, Equatable {
        public var pid: Int32
        /// When it took the lock (it writes its pid into the lock file then).
        public var since: Date

        /// "pid 123, since 2026-11-29T03:40:12.000+0100".
        public var description: String { "pid \(pid), since \(LocalTime.stamp(since))" }
    }

    /// Who holds the lock of `directory`, without disturbing it: nil when nobody does (or no run ever made the
    /// lock file). On Linux the kernel's lock table (/proc/locks) answers without touching the lock; elsewhere a
    /// shared lock is tried for an instant, which a run starting at that very moment would see as "locked"
    /// (it stops with 75 and cron tries again).
    public static func holder(of directory: String) -> Holder? {
        let path = directory + "/.mt.lock"
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let since = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        #if os(Linux)
        if let table = try? FileSystem.readString("/proc/locks") {
            // "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF": pid, then major:minor:inode (hex device).
            for line in table.split(separator: "\n") {
                let f = line.split(separator: " ")
                guard f.count >= 6, f[1] == "FLOCK", let pid = Int32(f[4]) else { continue }
                let dev = f[5].split(separator: ":")
                guard dev.count == 3, let major = UInt32(dev[0], radix: 16), let minor = UInt32(dev[1], radix: 16),
                      let inode = UInt64(dev[2]) else { continue }
                // glibc's gnu_dev_major/minor (macros Swift does not import).
                let d = UInt64(st.st_dev)
                let devMajor = UInt32(truncatingIfNeeded: ((d >> 8) & 0xfff) | ((d >> 32) & ~0xfff))
                let devMinor = UInt32(truncatingIfNeeded: (d & 0xff) | ((d >> 12) & ~0xff))
                if inode == UInt64(st.st_ino) && major == devMajor && minor == devMinor {
                    return Holder(pid: pid, since: since)
                }
            }
            return nil
        }
        #endif
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        let text = (try? FileSystem.readString(path)) ?? ""
        return Holder(pid: Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, since: since)
    }
}
