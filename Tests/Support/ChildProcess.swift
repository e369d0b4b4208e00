import Foundation
import MTCore

/// A long-running child (a test server) started with posix_spawn and a clean signal state.
///
/// Foundation's Process hands its children the test runner's blocked signal mask, so SIGTERM never reaches
/// them and `terminate()` + `waitUntilExit()` hangs. Here the mask is emptied and every signal reset to its
/// default, as a shell would start a server.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private var exited = false
    private var status: Int32 = 0
    private let lock = NSLock()

    /// Starts `path` with `arguments`; stdout and stderr go to `output` (a file path) or /dev/null.
    public init(_ path: String, _ arguments: [String], environment: [String: String] = [:], output: String? = nil) throws {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let out = output ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var env = ProcessInfo.processInfo.environment
        env["MT_CONFIG"] = nil
        for (k, v) in environment { env[k] = v }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, envp)
        guard rc == 0 else { throw MTError(.software, "cannot start \(path): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// Sends a signal (SIGTERM by default) and waits for the child to end; SIGKILL after `grace` seconds.
    /// Returns the exit code (128 + the signal for a child killed by one).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, grace: Double = 10) -> Int32 {
        lock.lock(); defer { lock.unlock() }
        if exited { return Self.code(status) }
        kill(pid, signal)
        return waitLocked(grace: grace, killAfter: true)
    }

    /// Sends a signal without waiting.
    public func send(_ signal: Int32) {
        lock.lock(); defer { lock.unlock() }
        if !exited { kill(pid, signal) }
    }

    /// Waits up to `timeout` seconds for the child to end by itself; its exit code, or nil if still running.
    public func wait(timeout: Double = 60) -> Int32? {
        lock.lock(); defer { lock.unlock() }
        if exited { return Self.code(status) }
        let code = waitLocked(grace: timeout, killAfter: false)
        return exited ? code : nil
    }

    private func waitLocked(grace: Double, killAfter: Bool) -> Int32 {
        let deadline = Date().addingTimeInterval(grace)
        while true {
            var st: Int32 = 0
            let r = waitpid(pid, &st, WNOHANG)
            if r == pid { exited = true; status = st; return Self.code(st) }
            if r < 0 { exited = true; return -1 }
            if Date() > deadline {
                if !killAfter { return -1 }
                kill(pid, SIGKILL)
            }
            usleep(10_000)
        }
    }

    static func code(_ st: Int32) -> Int32 {
        st & 0x7F == 0 ? (st >> 8) & 0xFF : 128 + (st & 0x7F)
    }

    public var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        if exited { return false }
        var st: Int32 = 0
        if waitpid(pid, &st, WNOHANG) == pid { exited = true; status = st; return false }
        return true
    }

    deinit { stop(signal: SIGKILL) }
}
