import Foundation

/// File-system primitives with durability: every byte `mt` keeps goes through here.
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

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates a folder and its parents (mode 0700 unless told otherwise); a folder is never assumed to exist.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws {
        if isDirectory(path) { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw MTError(codeForErrno(), "cannot create folder \(path): \(errnoText())",
                          hint: "check that the parent folder exists and is writable by this user")
        }
        if !isDirectory(path) {
            throw MTError(.cantCreate, "\(path) exists but is not a folder")
        }
    }

    /// Reads a whole file.
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw MTError(codeForErrno(), "cannot read \(path): \(errnoText())")
        }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        var out: [UInt8] = []
        out.reserveCapacity(Int(max(st.st_size, 0)))
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw MTError(.ioError, "cannot read \(path): \(errnoText())") }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
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
            throw MTError(codeForErrno(), "cannot create \(tmp): \(errnoText())",
                          hint: "check that \(dir.isEmpty ? "." : dir) is writable and the disk is not full")
        }
        do {
            try body(fd)
            guard fsync(fd) == 0 else { throw MTError(.ioError, "cannot flush \(tmp) to disk: \(errnoText())") }
            close(fd)
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw MTError(codeForErrno(e), "cannot rename \(tmp) to \(path): \(String(cString: strerror(e)))")
        }
        try syncDirectory(dir.isEmpty ? "." : dir)
    }

    /// Makes a rename or a new file in `dir` durable.
    public static func syncDirectory(_ dir: String) throws {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw MTError(codeForErrno(), "cannot open folder \(dir): \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw MTError(.ioError, "cannot flush folder \(dir) to disk: \(errnoText())") }
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

    /// Appends and fsyncs (ledgers: the line is on disk before the next step starts).
    public static func appendDurably(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw MTError(codeForErrno(), "cannot open \(path) for appending: \(errnoText())") }
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
        guard fsync(fd) == 0 else { throw MTError(.ioError, "cannot flush \(path) to disk: \(errnoText())") }
    }

    /// Appends whole lines to a ledger, durably. A run killed in the middle of an append leaves a last line
    /// without its newline; it is ended first, so the new record is never glued to it and stays readable.
    public static func appendLinesDurably(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw MTError(codeForErrno(), "cannot open \(path) for appending: \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        var last: UInt8 = 0x0A
        if fstat(fd, &st) == 0, st.st_size > 0 { _ = pread(fd, &last, 1, st.st_size - 1) }
        try writeAll(fd, last == 0x0A ? bytes : [0x0A] + bytes, path: path)
        guard fsync(fd) == 0 else { throw MTError(.ioError, "cannot flush \(path) to disk: \(errnoText())") }
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
            throw MTError(codeForErrno(), "cannot list \(dir): \(errnoText())")
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
