import Foundation

/// The passphrase of a protected PEM key, asked on the controlling terminal with echo off.
enum Passphrase {
    /// True when the file is an encrypted PEM key (`ENCRYPTED PRIVATE KEY` or a `Proc-Type: 4,ENCRYPTED` header).
    static func isProtected(path: String) -> Bool {
        guard let bytes = try? FileSystem.read(path) else { return false }
        let text = String(decoding: bytes.prefix(8192), as: UTF8.self)
        return text.contains("-----BEGIN") && text.contains("ENCRYPTED")
    }

    /// Asks on /dev/tty, so that piped stdin/stdout stay untouched; throws when no terminal is attached.
    static func ask(_ prompt: String) throws -> String {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            throw MTError(.config, "a private key is protected by a passphrase and no terminal is attached to ask for it",
                          hint: "set MT_KEY_PASSPHRASE in the environment of this run")
        }
        defer { close(fd) }
        var saved = termios()
        let isTTY = tcgetattr(fd, &saved) == 0
        if isTTY {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(fd, TCSAFLUSH, &quiet)
        }
        defer {
            if isTTY { var s = saved; tcsetattr(fd, TCSAFLUSH, &s) }
            _ = write(fd, "\n", 1)
        }
        try FileSystem.writeAll(fd, Array(prompt.utf8), path: "/dev/tty")
        var line: [UInt8] = []
        var c: UInt8 = 0
        while read(fd, &c, 1) == 1, c != 0x0A { if c != 0x0D { line.append(c) } }
        return String(decoding: line, as: UTF8.self)
    }
}
