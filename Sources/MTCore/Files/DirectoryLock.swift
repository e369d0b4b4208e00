import Foundation

/// One run per data directory (DESIGN §4.5): an flock on `PATH/.mt.lock`. The kernel drops it when the process
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

    /// Who holds the lock of a data directory: the process id it wrote and when it took the lock.
    public struct Holder: Sendable, Equatable {
        public var pid: Int32?
        public var since: Date?

        /// "pid 123, since 2026-11-29T03:40:12.000+0100" (what is known of it).
        public var description: String {
            [pid.map { "pid \($0)" }, since.map { "since \(LocalTime.stamp($0))" }].compactMap { $0 }.joined(separator: ", ")
        }
    }

    /// The holder of `directory`'s lock, or nil when no run holds it. Read-only: it never takes the lock
    /// (`mt verify` and `mt status` run beside an export and must not make it fail with 75). On Linux the
    /// kernel's table of locks (/proc/locks) is asked; elsewhere a shared lock is tried for an instant.
    public static func holder(directory: String) -> Holder? {
        let path = directory + "/.mt.lock"
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        var buf = [UInt8](repeating: 0, count: 32)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        let written = n > 0 ? Int32(String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) : nil
        let holder = Holder(pid: written, since: Date(timeIntervalSince1970: TimeInterval(st.st_mtim.tv_sec)))
        if let table = try? FileSystem.readString("/proc/locks") {
            // "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF": type, pid, device:inode.
            for line in table.split(separator: "\n") {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                guard f.count >= 6, f[1] == "FLOCK", let inode = f[5].split(separator: ":").last,
                      UInt64(inode) == UInt64(st.st_ino) else { continue }
                let pid = Int32(f[4])
                // The same inode number on another device is not ours: the holder wrote its pid in the file.
                if written == nil || pid == written { return Holder(pid: pid ?? written, since: holder.since) }
            }
            return nil
        }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        return errno == EWOULDBLOCK ? holder : nil
    }

    public func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
