import Foundation
import MTCore
import MTTestSupport
import Testing

/// Config errors go to stderr, and under cron into log files others may read: no error of config loading may
/// carry a password, whatever the fault, while it still names file, line, block and key.
@Suite struct ConfigSecretTests {
    static let planted = ["PlantedPw1-x9", "PlantedPw2-y8", "PlantedPw3-z7", "PlantedPw4-w6"]

    /// A valid two-block config holding every planted password, with `fault` replacing the marked line.
    static func text(_ fault: String) -> String {
        """
        lab:
          READY: true
          SERVER: https://h/api/
          USER: u
          PASS: \(planted[0])
          PATH: data
          ALERT_EMAIL: a@example.edu
          SMTP_SERVER: smtp://mail.example.edu:587
          SMTP_PASS: "\(planted[1])"
        \(fault)
        other:
          PASS: '\(planted[2])'
          SERVER: https://h/api/
          PATH: data2
        """
    }

    /// Every way the loading can fail, each with what the message must still name.
    static let faults: [(name: String, fault: String, mustName: [String])] = [
        ("duplicated key", "  READY: false", ["server.yaml:10", "block lab", "READY", "line 10: READY: false"]),
        ("duplicated secret", "  PASS: \(planted[3])", ["server.yaml:10", "block lab", "PASS", "line 10: PASS: <redacted>"]),
        ("tab indentation", "\tUSER: x", ["server.yaml:", "not valid YAML"]),
        ("bad indentation", "    DATE_FORMAT: x", ["server.yaml:", "not valid YAML"]),
        ("unclosed quote in a secret", "  SMTP_PASS: \"\(planted[3])", ["server.yaml:", "not valid YAML"]),
        ("unknown alias", "  CA_FILE: *nothing", ["server.yaml:10", "not valid YAML"]),
        ("flow secret then junk", "  CA_FILE: {PASS: \(planted[3])", ["server.yaml:", "not valid YAML"]),
        ("not a bool", "  DELETE_MODE: maybe", ["server.yaml:10", "server lab", "DELETE_MODE", "line 10: DELETE_MODE: maybe"]),
        ("out of range", "  CONCURRENCY: 900", ["server.yaml:10", "CONCURRENCY"]),
        ("slash in format", "  DATE_FORMAT: '%Y/%m'", ["server.yaml:10", "DATE_FORMAT"]),
        ("list as a value", "  CA_FILE: [a, b]", ["server.yaml:10", "CA_FILE", "must be a single value", "line 10: CA_FILE: [a, b]"]),
        ("credentials in the URL", "  CATALOGUE: c.yaml\nbad:\n  SERVER: ftp://u:\(planted[3])@h/\n  PATH: d",
         ["server.yaml:12", "server bad", "SERVER", "<redacted>@h/", "line 12: SERVER: ftp://<redacted>@h/"]),
        // A valid scheme with userinfo would be printed wherever the URL is: refused at load, pointing to PASS_FILE.
        ("password in the SERVER URL", "  CATALOGUE: c.yaml\nbad:\n  SERVER: http://u:\(planted[3])@127.0.0.1/api/\n  PATH: d",
         ["server.yaml:12", "server bad", "SERVER", "user name or password in the URL", "http://<redacted>@127.0.0.1/api/", "PASS_FILE", "USER"]),
        ("password in the SMTP_SERVER URL", "  CATALOGUE: c.yaml\nbad:\n  SERVER: https://h/api/\n  PATH: d\n  ALERT_EMAIL: a@b\n  SMTP_SERVER: smtp://u:\(planted[3])@mail.example.edu:587",
         ["server.yaml:15", "server bad", "SMTP_SERVER", "smtp://<redacted>@mail.example.edu:587", "SMTP_PASS_FILE", "SMTP_USER"]),
        ("password typed into SMTP_PASS_FILE", "  CATALOGUE: c.yaml\nbad:\n  SERVER: https://h/api/\n  PATH: d\n  ALERT_EMAIL: a@b\n  SMTP_SERVER: smtp://mail.example.edu:587\n  SMTP_PASS_FILE: \(planted[3])",
         ["server.yaml:16", "server bad", "SMTP_PASS_FILE names no file", "\(planted[3].count) characters"]),
    ]

    static func load(_ text: String, in dir: TempDir, mode: mode_t = 0o600) throws -> MTConfig {
        let p = try dir.write("server.yaml", text, mode: mode)
        return try MTConfig.load(path: p, environment: [:], allowReadableSecrets: false)
    }

    @Test(arguments: faults.map(\.name))
    func noConfigErrorCarriesAPassword(_ name: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = Self.faults.first { $0.name == name }!
        do {
            let c = try Self.load(Self.text(f.fault), in: dir)
            Issue.record("\(name): expected an error, got \(c.servers.map(\.name))")
        } catch {
            let e = error.asMTError
            #expect(e.exitCode == .config, "\(name): \(e)")
            let shown = e.description + "\n" + String(describing: error)
            for pw in Self.planted { #expect(!shown.contains(pw), "\(name) shows a password: \(shown)") }
            for s in f.mustName { #expect(shown.contains(s), "\(name): '\(s)' missing from: \(shown)") }
        }
    }

    /// The issue's reproduction: a duplicated key made Yams quote the whole file.
    @Test func duplicatedKeyReproduction() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let text = "lab:\n  READY: true\n  PASS: s3cretA\n  USER: u\nother:\n  PASS: s3cretB\n  READY: true\n  READY: false\n"
        do { _ = try Self.load(text, in: dir); Issue.record("expected an error") } catch let e as MTError {
            #expect(e.exitCode == .config)
            #expect(!e.description.contains("s3cret"), "\(e.description)")
            #expect(e.message.contains("server.yaml:8"), "\(e.message)")
            #expect(e.message.contains("block other") && e.message.contains("key READY"), "\(e.message)")
            #expect(e.message.contains("line 8: READY: false"), "\(e.message)")
        }
    }

    /// Errors after parsing: permissions, blocks, names; none quotes the file.
    @Test func laterErrorsCarryNoPassword() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var messages: [String] = []
        func collect(_ body: () throws -> Void) {
            do { try body(); messages.append("no error") } catch { messages.append(error.asMTError.description) }
        }
        collect { _ = try Self.load(Self.text(""), in: dir, mode: 0o644) }
        collect { _ = try Self.load("- \(Self.planted[0])\n", in: dir) }
        collect { _ = try Self.load("defaults:\n  PASS: \(Self.planted[0])\n", in: dir) }
        collect { _ = try Self.load("lab: plain\nx:\n  PASS: \(Self.planted[0])\n", in: dir) }
        collect { _ = try Self.load("lab:\n  PASS: |\n    \(Self.planted[0])\n  PASS: x\n  SERVER: https://h/\n  PATH: d\n", in: dir) }
        collect { _ = try Self.load("lab:\n  SERVER: https://h/\n  PATH: d\n  SMTP_PASS: \(Self.planted[1])\n  ALERT_EMAIL: a@b\n", in: dir) }
        collect { _ = try Self.load(Self.text(""), in: dir).server(named: "labb") }
        collect { _ = try Self.load(Self.text(""), in: dir).select("other", readyOnly: true) }
        collect {
            let c = try Self.load("lab:\n  SERVER: https://h/\n  PATH: d\n  PASS_FILE: nowhere\n  SMTP_PASS: \(Self.planted[1])\n", in: dir)
            if let problem = c.servers[0].passwordProblem { throw problem }
        }
        _ = try dir.write("pw", "\n")
        collect {
            let c = try Self.load("lab:\n  SERVER: https://h/\n  PATH: d\n  PASS_FILE: pw\n  SMTP_PASS: \(Self.planted[1])\n", in: dir)
            if let problem = c.servers[0].passwordProblem { throw problem }
        }
        #expect(!messages.contains("no error"), "\(messages)")
        for m in messages {
            for pw in Self.planted { #expect(!m.contains(pw), "shows a password: \(m)") }
        }
    }

    /// A password typed where its file's path belongs (PASS_FILE: the password): the value, the path made of it
    /// and the line holding it are never shown, only the value's length; and in a log record or the alert mail
    /// the message reads as one line, without a literal `\u{a}`.
    @Test func aSecretFileThatNamesNoFileIsShownByItsLength() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let pw = Self.planted[3]
        for text in ["lab:\n  SERVER: https://h/\n  PATH: d\n  PASS_FILE: \(pw)\n",
                     "lab:\n  SERVER: https://h/\n  PATH: d\n  PASS_FILE: \"sub/\(pw)\"\n",
                     "defaults:\n  PASS_FILE: \(pw)\nlab:\n  SERVER: https://h/\n  PATH: d\n"] {
            let c = try Self.load(text, in: dir)
            let problem = try #require(c.servers[0].passwordProblem)
            #expect(problem.exitCode == .config)
            let shown = problem.description
            #expect(!shown.contains(pw), "shows the password: \(shown)")
            #expect(shown.contains("server lab: PASS_FILE names no file"), "\(shown)")
            #expect(shown.contains("characters"), "\(shown)")
            #expect(shown.contains("server.yaml:"), "\(shown)")
            let record = Untrusted.record(shown)
            #expect(!record.contains("\\u{a}") && !record.contains("\n"), "\(record)")
            #expect(throws: MTError.self) { try c.servers[0].requirePassword() }
        }
        // A config error that quotes its line (message, then "  line N: …" on the next line) reads as one record.
        #expect(Untrusted.record("server.yaml:3: DELETE_MODE must be true or false\n  line 3: DELETE_MODE: maybe")
                == "server.yaml:3: DELETE_MODE must be true or false; line 3: DELETE_MODE: maybe")
        #expect(Untrusted.record("a\u{1b}[2J") == "a\\u{1b}[2J")
    }
}
