import Foundation
import Logging

/// The four log files (ARCHITECTURE.md, "MTCore, folder by folder") in `PATH/logs`, each rotated at local midnight with a date suffix and kept
/// for 366 days. `mt` runs are short (cron), so rotation also looks at the file's last change when it opens.
public final class LogFiles: @unchecked Sendable { // safe: handles and failed are used under `lock` only
    public static let files: [(name: String, minimum: Logger.Level)] = [
        ("DEBUG.log", .debug), ("Daily.log", .info), ("error.log", .warning), ("break_down.log", .critical),
    ]
    public static let retentionDays = 366

    private let lock = NSLock()
    private var handles: [(file: RotatingFile, minimum: Logger.Level)]
    private var failed: [String] = []
    private let onFailure: @Sendable (String) -> Void

    /// `onFailure` hears once per file that it could not be written (the record of the run is incomplete).
    public init(directory: String, now: Date = Date(), onFailure: @escaping @Sendable (String) -> Void = { _ in }) throws {
        try FileSystem.makeDirectories(directory)
        handles = Self.files.map { (RotatingFile(path: directory + "/" + $0.name, now: now), $0.minimum) }
        self.onFailure = onFailure
    }

    public func write(_ line: String, level: Logger.Level, now: Date = Date()) {
        let bytes = Array(line.utf8)
        var news: [String] = []
        lock.lock()
        for h in handles where level >= h.minimum {
            if let problem = h.file.append(bytes, now: now), !failed.contains(h.file.path) {
                failed.append(h.file.path)
                news.append(problem)
            }
        }
        lock.unlock()
        for n in news { onFailure(n) }
    }

    /// The log files that could not be written in this run.
    public var failures: [String] {
        lock.lock(); defer { lock.unlock() }
        return failed
    }
}

/// One log file that rolls over to `NAME.YYYY-MM-DD` when the local day changes.
final class RotatingFile {
    let path: String
    private var day: String
    private var fd: Int32 = -1

    init(path: String, now: Date) {
        self.path = path
        day = LocalTime.day(now)
        rotateIfStale(now: now)
        pruneOld(now: now)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Rolls a file last written on an earlier day over to that day's name.
    private func rotateIfStale(now: Date) {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        let written = Date(timeIntervalSince1970: TimeInterval(st.st_mtim.tv_sec))
        let writtenDay = LocalTime.day(written)
        if writtenDay < LocalTime.day(now) { roll(to: writtenDay) }
    }

    private func roll(to suffixDay: String) {
        if fd >= 0 { close(fd); fd = -1 }
        var target = "\(path).\(suffixDay)"
        var n = 1
        while FileSystem.exists(target) { target = "\(path).\(suffixDay).\(n)"; n += 1 }
        rename(path, target)
    }

    private func pruneOld(now: Date) {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent + "."
        let cutoff = LocalTime.day(now.addingTimeInterval(-Double(LogFiles.retentionDays) * 86_400))
        for name in (try? FileSystem.list(dir)) ?? [] where name.hasPrefix(base) {
            let suffix = String(name.dropFirst(base.count).prefix(10))
            if suffix.count == 10, suffix < cutoff { unlink(dir + "/" + name) }
        }
    }

    /// Appends a line; returns why it could not be, or nil. A log that cannot be written must not stop the
    /// run, but it must not go unnoticed either: the caller reports it.
    func append(_ bytes: [UInt8], now: Date) -> String? {
        let today = LocalTime.day(now)
        if today != day {
            roll(to: day)
            day = today
            pruneOld(now: now)
        }
        if fd < 0 {
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd < 0 {
                let e = FileSystem.failure("cannot write log file \(path)", path: path, errno: errno)
                return FileSystem.isWrongType(e) ? "cannot write log file: \(e.message)" : e.message
            }
        }
        do { try FileSystem.writeAll(fd, bytes, path: path) } catch { return error.asMTError.message }
        return nil
    }
}
