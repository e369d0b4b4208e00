import Foundation

/// File-system primitives with durability: every byte `mt` keeps goes through here.
///
/// Durability is what survives a power cut (ARCHITECTURE.md, "Durability"): a file's data once that file is
/// fsynced, a name (create, mkdir, rename, link) once the folder holding it is fsynced, and a folder only while
/// every folder above it holds its name durably. A killed process keeps the page cache and so proves none of
/// this. Every writer here therefore makes the name durable as well as the bytes, before it returns.
public enum FileSystem {
    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func codeForErrno(_ e: Int32 = errno) -> ExitCode {
        switch e {
        case ENOENT: .noInput
        case EACCES, EPERM: .noPermission
        case ENOSPC, EROFS, EIO, EDQUOT: .ioError
        default: .cantCreate
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// How a wrong file type in a data directory is reported, whatever operation ran into it: a folder that is
    /// a plain file, a ledger or CSV that is a symlink (refused by O_NOFOLLOW), a file name that is a folder.
    /// The generic "cannot write" hints (disk space, permissions) would send the reader the wrong way.
    public static let wrongTypeAdvice = "mt never follows links in the data directory; move it aside"

    /// The error for `message` (which names `path`) failing with errno `e`: for a wrong file type, the
    /// component at fault and what to do (exit 73); otherwise the system's reason with the code it maps to.
    static func failure(_ message: String, path: String, errno e: Int32, folder: Bool = false, hint: String? = nil) -> MTError {
        if [ELOOP, ENOTDIR, EISDIR, EMLINK].contains(e), let culprit = wrongType(path, folder: folder) {
            return culprit
        }
        return MTError(codeForErrno(e), "\(message): \(String(cString: strerror(e)))", hint: hint)
    }

    /// The component of `path` (or `path` itself) that is a symlink, or a non-folder standing where a folder
    /// belongs (`folder`: `path` itself should be one), or a folder standing where a file belongs; nil if none.
    public static func wrongType(_ path: String, folder: Bool = false) -> MTError? {
        var st = stat()
        if lstat(path, &st) == 0 {
            let type = st.st_mode & S_IFMT
            if type == S_IFLNK || (folder && type != S_IFDIR) { return wrongTypeError(path) }
            if type == S_IFDIR && !folder {
                return MTError(.cantCreate, "\(path) is a folder where a file belongs: mt never removes it; move it aside")
            }
        }
        var parent = (path as NSString).deletingLastPathComponent
        var culprit: String?
        while !parent.isEmpty && parent != "/" {
            if lstat(parent, &st) == 0 && (st.st_mode & S_IFMT) != S_IFDIR { culprit = parent }
            let next = (parent as NSString).deletingLastPathComponent
            if next == parent { break }
            parent = next
        }
        return culprit.map(wrongTypeError)
    }

    static func wrongTypeError(_ path: String) -> MTError {
        MTError(.cantCreate, "\(path) is a symlink (or a file where a folder belongs): \(wrongTypeAdvice)")
    }

    /// Whether an error is the wrong-file-type report above (callers keep its code and advice).
    public static func isWrongType(_ e: MTError) -> Bool { e.exitCode == .cantCreate && e.message.hasSuffix("; move it aside") }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates a folder and its parents (mode 0700 unless told otherwise), durably: each level's name is fsynced
    /// in its parent, so a power cut never takes a folder (and everything under it) that mt went on to rely on.
    /// A level that already existed is synced as well, once per process, because a run killed between its
    /// mkdir and that fsync left a name that only the page cache holds.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws {
        let path = normalized(path)
        if Durable.folders.holds(path) { return }
        let parent = (path as NSString).deletingLastPathComponent
        let hasParent = !parent.isEmpty && parent != path
        if hasParent { try makeDirectories(parent, mode: mode) }
        var made = false
        if !isDirectory(path) {
            if mkdir(path, mode) == 0 {
                made = true
            } else if errno != EEXIST {
                throw failure("cannot create folder \(path)", path: path, errno: errno, folder: true,
                              hint: "check that the parent folder exists and is writable by this user")
            }
        }
        var st = stat()
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR {
            throw wrongTypeError(path)
        }
        if hasParent { try syncDirectory(parent, making: path, strict: made) }
        Durable.folders.record(path)
    }

    /// What `makeDirectories(path)` needs, found without creating anything: every level that exists is a folder
    /// (not a link, not a file), and the deepest existing level is one this user may write in. The errors are the
    /// ones `makeDirectories` would throw, so a check cannot say ok where the creation then fails.
    public static func checkCanMakeDirectories(_ path: String) throws {
        let path = normalized(path)
        var levels = [path]
        while let last = levels.last {
            let parent = (last as NSString).deletingLastPathComponent
            if parent.isEmpty || parent == last { break }
            levels.append(parent)
        }
        var deepest: String?
        for level in levels.reversed() {
            var st = stat()
            guard lstat(level, &st) == 0 else {
                if errno == ENOENT { break }
                throw failure("cannot look at \(level)", path: level, errno: errno, folder: true)
            }
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw wrongTypeError(level) }
            deepest = level
        }
        guard let deepest else { return }
        guard access(deepest, W_OK | X_OK) == 0 else {
            let what = deepest == path ? "cannot write in folder \(path)" : "cannot create folder \(path) in \(deepest)"
            throw failure(what, path: deepest, errno: errno, folder: true,
                          hint: "check that the parent folder exists and is writable by this user")
        }
    }

    /// What `writeAtomically(to: path)` needs, found without writing: its folder exists and this user may write
    /// in it, and `path` is not a folder.
    public static func checkCanWriteAtomically(_ path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let folder = dir.isEmpty ? "." : dir
        guard isDirectory(folder) else {
            throw MTError(exists(folder) ? .cantCreate : .noInput, "cannot write \(path): its folder \(folder) \(exists(folder) ? "is not a folder" : "does not exist")",
                          hint: "create the folder, or correct the path")
        }
        guard access(folder, W_OK | X_OK) == 0 else {
            throw failure("cannot write \(path) in \(folder)", path: folder, errno: errno, folder: true,
                          hint: "make \(folder) writable by this user")
        }
        if isDirectory(path) {
            throw MTError(.cantCreate, "\(path) is a folder where a file belongs: mt never removes it; move it aside")
        }
    }

    /// What this process has made durable, each name with the inode it was made durable for: a folder or file
    /// that was removed and made again under the same name is a new one, and is synced again.
    enum Durable {
        /// Folders whose name is durable all the way up.
        static let folders = Names()
        /// Files whose name is durable in their (durable) folder.
        static let files = Names()

        // safe: `names` is reached under `lock` only. NSLock rather than Synchronization.Mutex, whose futex
        // ThreadSanitizer cannot see (it reported every use as a race).
        final class Names: @unchecked Sendable {
            private let lock = NSLock()
            private var names: [String: ino_t] = [:]

            func holds(_ path: String) -> Bool {
                var st = stat()
                guard lstat(path, &st) == 0 else { return false }
                return lock.withLock { names[path] == st.st_ino }
            }

            func record(_ path: String) {
                var st = stat()
                guard lstat(path, &st) == 0 else { return }
                lock.withLock { names[path] = st.st_ino }
            }
        }
    }

    /// `path` without a trailing slash or `.` parts, so that one folder has one key in `Durable`.
    static func normalized(_ path: String) -> String {
        let p = (path as NSString).standardizingPath
        return p.isEmpty ? "." : p
    }

    /// The file's name durable in its folder, and the folder's all the way up (once per process and inode).
    static func makeNameDurable(_ path: String) throws {
        let path = normalized(path)
        if Durable.files.holds(path) { return }
        let dir = (path as NSString).deletingLastPathComponent
        let folder = dir.isEmpty ? "." : dir
        try ensureDurableFolder(folder)
        try syncDirectory(folder, making: path, strict: true)
        Durable.files.record(path)
    }

    /// An existing folder's name made durable up to the root, creating nothing (a missing folder is reported
    /// by the operation that needed it).
    static func ensureDurableFolder(_ dir: String) throws {
        let dir = normalized(dir)
        if Durable.folders.holds(dir) || !isDirectory(dir) { return }
        let parent = (dir as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != dir {
            try ensureDurableFolder(parent)
            try syncDirectory(parent, making: dir, strict: false)
        }
        Durable.folders.record(dir)
    }

    /// Reads a whole file.
    public static func read(_ path: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var st = stat()
        if stat(path, &st) == 0 { out.reserveCapacity(Int(max(st.st_size, 0))) }
        try readChunks(path, chunkSize: 1 << 16) { out.append(contentsOf: $0) }
        return out
    }

    /// Streams a file through `body` chunk by chunk: memory stays bounded whatever the file's size.
    public static func readChunks(_ path: String, chunkSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw MTError(codeForErrno(), "cannot read \(path): \(errnoText())")
        }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let n = buf.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw MTError(.ioError, "cannot read \(path): \(errnoText())") }
            if n == 0 { break }
            try buf.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    public static func readString(_ path: String) throws -> String {
        let bytes = try read(path)
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw MTError(.dataError, "\(path) is not valid UTF-8 text")
        }
        return s
    }

    /// Writes `bytes` so that `path` holds either its old content or all of the new one, even across a crash:
    /// temporary file in the same folder, fsync, rename, fsync of the folder.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        try writeAtomically(to: path, mode: mode) { fd in try writeAll(fd, bytes, path: path) }
    }

    /// Same durability, with the content produced by `body` writing to the temporary file's descriptor.
    public static func writeAtomically(to path: String, mode: mode_t = 0o600, _ body: (Int32) throws -> Void) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let tmp = (dir.isEmpty ? "." : dir) + "/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else {
            throw failure("cannot create \(tmp)", path: tmp, errno: errno,
                          hint: "check that \(dir.isEmpty ? "." : dir) is writable and the disk is not full")
        }
        do {
            try body(fd)
            guard fsync(fd) == 0 else {
                throw MTError(.ioError, "cannot flush \(tmp) to disk (\(errnoText())); \(path) keeps its old content",
                              hint: "check the disk (dmesg); nothing that depends on it is deleted from the server")
            }
            close(fd)
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            if let culprit = [EISDIR, ENOTDIR, ENOTEMPTY, EEXIST].contains(e) ? wrongType(path) : nil { throw culprit }
            throw MTError(codeForErrno(e), "cannot rename \(tmp) to \(path): \(String(cString: strerror(e)))")
        }
        try ensureDurableFolder(dir.isEmpty ? "." : dir)
        try syncDirectory(dir.isEmpty ? "." : dir)
    }

    /// Makes a rename, link or new file in `dir` durable. A failed fsync means the folder's new names may be
    /// gone: it is thrown, never retried, because a second fsync can succeed on what the first one lost.
    /// `making` names the entry being made durable, for the message. Not `strict`: the entry was there before
    /// this process, in a folder above the data directory that this user may search but not read; mt made none
    /// of the names in such a folder and cannot sync it.
    public static func syncDirectory(_ dir: String, making entry: String? = nil, strict: Bool = true) throws {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            if !strict && errno == EACCES { return }
            throw MTError(codeForErrno(), "cannot open folder \(dir) to make \(entry ?? "its new names") durable: \(errnoText())")
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw MTError(.ioError, "cannot flush folder \(dir) to disk (\(errnoText())): \(entry ?? "its new names") may not survive a power cut",
                          hint: "check the disk (dmesg); nothing that depends on it is deleted from the server")
        }
    }

    /// A rename made durable: the target folder synced, and the source folder too when it is another one (so a
    /// power cut cannot bring the old name back beside the new).
    public static func renameDurably(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else {
            let e = errno
            throw failure("cannot rename \(from) to \(to)", path: to, errno: e)
        }
        try syncNames(from: from, to: to)
    }

    /// A second name for a file, made durable; false when `to` exists already (link(2) never replaces a name).
    public static func linkDurably(_ from: String, to: String) throws -> Bool {
        guard link(from, to) == 0 else {
            let e = errno
            if e == EEXIST { return false }
            if let culprit = wrongType(to) { throw culprit }
            throw MTError(codeForErrno(e), "cannot name \(to): \(String(cString: strerror(e)))")
        }
        try syncNames(from: from, to: to)
        return true
    }

    private static func syncNames(from: String, to: String) throws {
        func folder(_ p: String) -> String { let d = (p as NSString).deletingLastPathComponent; return normalized(d.isEmpty ? "." : d) }
        let target = folder(to), source = folder(from)
        try ensureDurableFolder(target)
        try syncDirectory(target, making: to)
        if source != target { try syncDirectory(source, making: to) }
    }

    public static func writeAll<C: Collection>(_ fd: Int32, _ bytes: C, path: String) throws where C.Element == UInt8 {
        let array = Array(bytes)
        var off = 0
        try array.withUnsafeBytes { raw in
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw MTError(codeForErrno(), "cannot write \(path): \(errnoText())",
                                  hint: errno == ENOSPC ? "the disk is full; free space and run again" : nil)
                }
                off += n
            }
        }
    }

    /// Appends and fsyncs the file, and the file's name in its folder (a new file, or the first append of this
    /// process): the bytes and the name are durable before the next step starts.
    public static func appendDurably(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw failure("cannot open \(path) for appending", path: path, errno: errno) }
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
        try flush(fd, path: path)
    }

    /// fsync of a file just written, then of its name. A failed fsync is thrown, never retried: the kernel may
    /// have dropped the pages it could not write, and a second fsync would report them as safe.
    static func flush(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else {
            throw MTError(.ioError, "cannot flush \(path) to disk (\(errnoText())): what was just written may be lost",
                          hint: "check the disk (dmesg); nothing that depends on it is deleted from the server")
        }
        try makeNameDurable(path)
    }

    /// Fails now, before anything relies on it, if `path` could not take an append: a symlink, a folder or
    /// another non-regular file there, or a file that cannot be opened for writing. A missing file is fine.
    public static func checkAppendable(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw wrongType(path) ?? wrongTypeError(path)
        default: throw wrongTypeError(path)
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw failure("cannot open \(path) for appending", path: path, errno: errno) }
        close(fd)
    }

    /// Appends whole lines to a ledger, durably. A run killed in the middle of an append leaves a last line
    /// without its newline; it is ended first, so the new record is never glued to it and stays readable.
    public static func appendLinesDurably(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw failure("cannot open \(path) for appending", path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        var last: UInt8 = 0x0A
        if fstat(fd, &st) == 0, st.st_size > 0 { _ = pread(fd, &last, 1, st.st_size - 1) }
        try writeAll(fd, last == 0x0A ? bytes : [0x0A] + bytes, path: path)
        try flush(fd, path: path)
    }

    /// Permission bits of a file, or nil if it does not exist.
    public static func mode(of path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }

    /// Refuses a file holding a secret that group or others can read, with the exact chmod to run.
    public static func checkPrivate(_ path: String, what: String, allowReadable: Bool) throws {
        guard let m = mode(of: path) else { return }
        if m & 0o077 != 0 && !allowReadable {
            throw MTError(.noPermission,
                          "\(what) \(path) is readable by group or others (mode \(String(m, radix: 8)))",
                          hint: "run: chmod 600 \(shellQuote(path))   (or pass --allow-readable-secrets if you really must)")
        }
    }

    public static func shellQuote(_ s: String) -> String {
        if s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+:@".contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Names of the entries of a folder (no `.`/`..`), unsorted; empty if the folder does not exist.
    public static func list(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else {
            if errno == ENOENT { return [] }
            throw failure("cannot list \(dir)", path: dir, errno: errno, folder: true)
        }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
