import Foundation

extension FileSystem {
    /// Writes a command's `-o` output. A regular file (or a new one) is replaced atomically, so it holds all of
    /// the new content or its old one, never half; a device or FIFO the user named (`/dev/stdout`, `/dev/full`,
    /// a pipe) is written in place, because renaming over it would replace the device node itself. Either way
    /// every write is checked: a full disk is exit 74, never a silent success.
    public static func writeOutput(to path: String, mode: mode_t = 0o600, _ body: (Int32) throws -> Void) throws {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG, (st.st_mode & S_IFMT) != S_IFDIR else {
            try writeAtomically(to: path, mode: mode, body)
            return
        }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MTError(codeForErrno(), "cannot open \(path) for writing: \(errnoText())") }
        do {
            try body(fd)
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 || errno == EINTR else {
            throw MTError(codeForErrno(), "cannot write \(path): \(errnoText())")
        }
    }

    public static func writeOutput(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        try writeOutput(to: path, mode: mode) { fd in try writeAll(fd, bytes, path: path) }
    }
}
