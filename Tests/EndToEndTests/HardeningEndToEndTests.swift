import Foundation
import MTCore
import MTTestSupport
import Testing

/// The built `mt` with its standard output sent somewhere that fails: how it ended, and what it said on stderr.
struct SpawnedRun {
    enum Stdout { case path(String), closedPipe, closed }

    var exitCode: Int32?
    var signal: Int32?
    var stderr: String

    static func mt(_ arguments: [String], stdout: Stdout, stderr: String? = nil) throws -> SpawnedRun {
        let dir = try TempDir("mt-spawn")
        defer { dir.remove() }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let stderr {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, dir.file("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        var pipeEnds: [Int32] = [-1, -1]
        switch stdout {
        case .path(let p): posix_spawn_file_actions_addopen(&actions, 1, p, O_WRONLY, 0)
        case .closed: posix_spawn_file_actions_addclose(&actions, 1)
        case .closedPipe:
            guard pipe(&pipeEnds) == 0 else { throw MTError(.software, "pipe failed") }
            close(pipeEnds[0]) // the reader is gone before mt writes a byte, as after `| head` has read its lines
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
            posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var env = ProcessInfo.processInfo.environment
        env["MT_CONFIG"] = nil
        env["XDG_CONFIG_HOME"] = "/nonexistent-mt-test"
        let argv = ([Products.mt] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, Products.mt, &actions, &attr, argv, envp)
        if pipeEnds[1] >= 0 { close(pipeEnds[1]) }
        guard rc == 0 else { throw MTError(.software, "cannot start mt: \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let err = (try? FileSystem.readString(dir.file("stderr"))) ?? ""
        let termsig = status & 0x7F
        return termsig == 0 ? SpawnedRun(exitCode: (status >> 8) & 0xFF, signal: nil, stderr: err)
                            : SpawnedRun(exitCode: nil, signal: termsig, stderr: err)
    }
}

@Suite(.serialized) struct OutputFailureTests {
    @Test("a full disk on stdout is exit 74 with one line, not a silent success")
    func fullStdoutFails() throws {
        let r = try SpawnedRun.mt(["help"], stdout: .path("/dev/full"))
        #expect(r.exitCode == 74)
        #expect(r.stderr == "mt: cannot write to standard output: No space left on device\n", "\(r.stderr)")
        let closed = try SpawnedRun.mt(["--version"], stdout: .closed)
        #expect(closed.exitCode == 74)
        #expect(closed.stderr.hasPrefix("mt: cannot write to standard output: "), "\(closed.stderr)")
    }

    @Test("a message lost on a full stderr is exit 74 too")
    func fullStderrFails() throws {
        let r = try SpawnedRun.mt(["nosuchcommand"], stdout: .path("/dev/null"), stderr: "/dev/full")
        #expect(r.exitCode == 74)
        let ok = try SpawnedRun.mt(["--version"], stdout: .path("/dev/null"), stderr: "/dev/full")
        #expect(ok.exitCode == 0, "nothing was written to stderr, nothing was lost")
    }

    @Test("mt decrypt > /dev/full and -o onto a full device lose the output: both fail, nothing half-written")
    func decryptToAFullDevice() throws {
        let dir = try TempDir("mt-full")
        defer { dir.remove() }
        let (priv, _) = try TestKeys.generate(in: dir.path)
        let key = try RSAPrivateKey.load(path: priv)
        let cipher = try key.publicKey.encryptField("a secret answer")
        let r = try SpawnedRun.mt(["decrypt", "--key", priv, "--value", cipher], stdout: .path("/dev/full"))
        #expect(r.exitCode == 74, "\(r.stderr)")
        #expect(r.stderr.contains("No space left on device"))

        let data = try dir.write("OA.json", "[{\"id\": 1, \"noteRSA\": \"\(cipher)\"}]")
        // -o naming a device (here through a link) writes to the device: renaming a file over it would replace it.
        #expect(symlink("/dev/full", dir.file("out.csv")) == 0)
        let o = try Run.mt(["decrypt", "--key", priv, "-o", dir.file("out.csv"), data])
        #expect(o.code == 74, "\(o.stderr)")
        #expect(o.stderr.contains("No space left on device"))
        var st = stat()
        #expect(lstat(dir.file("out.csv"), &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK, "the link was replaced")
        #expect(try FileSystem.list(dir.path).sorted() == ["OA.json", "key.pem", "key.pub.pem", "out.csv"], "a temporary file was left")
        // A regular -o file is still replaced whole.
        let ok = try Run.mt(["decrypt", "--key", priv, "-o", dir.file("plain.csv"), data])
        #expect(ok.code == 0, "\(ok.stderr)")
        #expect(try FileSystem.readString(dir.file("plain.csv")).contains("a secret answer"))
    }

    @Test("a reader that closed the pipe on purpose (mt … | head) ends the run quietly, as git does")
    func closedPipeIsQuiet() throws {
        let r = try SpawnedRun.mt(["help"], stdout: .closedPipe)
        #expect(r.signal == SIGPIPE, "exit \(String(describing: r.exitCode)): \(r.stderr)")
        #expect(r.stderr.isEmpty, "\(r.stderr)")
    }
}

@Suite(.serialized) struct HostileNameOutputTests {
    /// Raw bytes that would drive a terminal: ESC, the C1 CSI, BEL, a bidi override.
    static func drives(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0 == "\u{1b}" || $0 == "\u{9b}" || $0 == "\u{07}" || $0 == "\u{202e}" }
    }

    @Test("scale names with escape sequences are shown escaped on the console, in the logs, the mail and --json")
    func escapeSequencesNeverReachAnOutput() throws {
        let dir = try TempDir("mt-ansi")
        defer { dir.remove() }
        let server = try PythonServer(script: "hostile_server.py", environment: ["HOSTILE_LOG": dir.file("requests.log")])
        defer { server.stop() }
        let smtp = try SMTPSink()
        defer { smtp.stop() }
        _ = try dir.write("pass", "pw\n")
        let cfg = try dir.write("c.yaml", """
            evil:
              READY: true
              SERVER: \(server.baseURL)/api/
              USER: admin
              PASS_FILE: pass
              PATH: data
              ALERT_EMAIL: lab@example.edu
              SMTP_SERVER: \(smtp.url)
            """)
        // A scale the server does not have: the hint lists (and suggests) the server's names.
        let named = try Run.mt(["--config", cfg, "export", "evil", "OAX"])
        #expect(named.code != 0)
        #expect(named.stderr.contains("did you mean"), "\(named.stderr)")
        #expect(named.stderr.contains("OA\\u{1b}[31mRED"), "\(named.stderr)")
        #expect(!Self.drives(named.stderr), "raw escape on the console: \(named.stderr.debugDescription)")
        #expect(!named.stderr.contains("\nCRITICAL forged"))
        #expect(!named.stderr.contains(String(repeating: "x", count: 250)), "a name is shown bounded")

        // Every scale: the unsafe names are refused, and --json reports them by their exact (escaped) value.
        let json = try Run.mt(["--config", cfg, "--json", "export", ".", "all"])
        #expect(json.stderr.contains("unsafe scale name"))
        #expect(!Self.drives(json.stderr), "raw escape: \(json.stderr.debugDescription)")
        #expect(!json.stdout.unicodeScalars.contains { $0.properties.generalCategory == .control && $0 != "\n" },
                "a raw control character in --json: \(json.stdout.debugDescription)")
        #expect(json.stdout.contains("\\u001b[31mRED") && json.stdout.contains("\\u009b2J"), "\(json.stdout)")
        let names = (try JSONParser.parse(Array(json.stdout.utf8))["servers"]?.arrayValues?.first?["scales"]?.arrayValues ?? [])
            .compactMap { if case .string(let s)? = $0["scale"] { s } else { nil } }
        #expect(names.contains("OA\u{1b}[31mRED\u{1b}[0m") && names.contains("\u{9b}2J"), "\(names)")
        let scales = try Run.mt(["--config", cfg, "scales", "evil"])
        #expect(scales.stdout.contains("OA\\u{1b}[31mRED"), "\(scales.stdout)")
        #expect(!Self.drives(scales.stdout + scales.stderr), "\((scales.stdout + scales.stderr).debugDescription)")
        let bench = try Run.mt(["--config", cfg, "benchmark", "evil", "--remote"])
        #expect(!Self.drives(bench.stdout + bench.stderr), "\((bench.stdout + bench.stderr).debugDescription)")

        let logs = dir.file("data/logs")
        let files = try FileSystem.list(logs)
        #expect(files.count >= 2, "\(files)")
        for f in files where !FileSystem.isDirectory(logs + "/" + f) {
            let text = try FileSystem.readString(logs + "/" + f)
            #expect(!Self.drives(text), "raw escape in \(f): \(text.debugDescription)")
            #expect(!text.contains("\nCRITICAL forged"), "a forged line in \(f)")
        }
        let mails = smtp.messages()
        #expect(!mails.isEmpty)
        for m in mails { #expect(!Self.drives(m), "raw escape in the alert mail: \(m.debugDescription)") }
        #expect(mails.contains { $0.contains("OA\\u{1b}[31mRED") })
    }
}

@Suite(.serialized) struct MaxResponseEndToEndTests {
    @Test("a scale larger than MAX_RESPONSE stops with a clear message, nothing of it deleted; the others go on")
    func oversizedScaleStops() throws {
        let f = try ExportFixture()
        let client = try HTTPClient(options: f.sim.httpOptions)
        let list = try client.get(f.sim.url + "/export").body
        var sizes: [String: Int] = [:]
        for row in try JSONParser.parse(list).arrayValues ?? [] {
            guard case .string(let name)? = row["name"] else { continue }
            sizes[name] = try client.get(f.sim.url + "/export/" + name).body.count
        }
        // A limit the list of scales and some scales fit under, and some scales do not.
        let sorted = sizes.values.sorted()
        let limit = max(sorted[sorted.count / 2], list.count, 1024)
        let big = Set(sizes.filter { $0.value > limit }.keys)
        try #require(!big.isEmpty && big.count < sizes.count, "sizes \(sizes), list \(list.count)")
        try FileSystem.appendDurably(Array("  MAX_RESPONSE: \(limit)\n".utf8), to: f.config)

        let r = try f.export(".", "all")
        #expect(r.code == 69, "\(r.stderr)")
        #expect(r.stderr.contains("larger than MAX_RESPONSE"), "\(r.stderr)")
        let deletedScales = Set(try f.sim.ledger().map(\.scale))
        #expect(deletedScales.isDisjoint(with: big), "deleted from an oversized scale: \(deletedScales.intersection(big))")
        #expect(!deletedScales.isEmpty, "the other scales were exported")
        try f.checkDeletedAreSafe()
        #expect(f.smtp.messages().contains { $0.contains("MAX_RESPONSE") })
    }
}
