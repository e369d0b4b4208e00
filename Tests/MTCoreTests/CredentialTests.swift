import Foundation
import MTCore
import MTTestSupport
import Testing

/// `credential:NAME` in PASS_FILE, SMTP_PASS_FILE and KEY_PASSPHRASE_FILE reads `$CREDENTIALS_DIRECTORY/NAME`,
/// as systemd's LoadCredential= provides it; here the variable is set by hand (no systemd runs on the test machine).
@Suite struct CredentialTests {
    static let secret = "Cred-Planted-9q"

    static func config(_ lines: [String]) -> String {
        (["lab:", "  READY: true", "  SERVER: https://h/api/", "  USER: u", "  PATH: data"] + lines.map { "  " + $0 })
            .joined(separator: "\n") + "\n"
    }

    static func load(_ text: String, in dir: TempDir, environment: [String: String]) throws -> MTConfig {
        let p = try dir.write("server.yaml", text, mode: 0o600)
        return try MTConfig.load(path: p, environment: environment, allowReadableSecrets: false)
    }

    @Test func passwordSMTPPasswordAndPassphraseComeFromTheCredentialsFolder() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let creds = dir.file("creds")
        try FileSystem.makeDirectories(creds)
        // systemd grants the unit's user read access by an ACL, which shows as group bits: 0440 must be accepted.
        try FileSystem.writeAtomically(Array((Self.secret + "\n").utf8), to: creds + "/lab-pass", mode: 0o440)
        try FileSystem.writeAtomically(Array("smtp-secret\r\n".utf8), to: creds + "/lab-smtp", mode: 0o400)
        try FileSystem.writeAtomically(Array("key-words\n".utf8), to: creds + "/lab-key", mode: 0o400)
        let c = try Self.load(Self.config([
            "PASS_FILE: credential:lab-pass", "KEY_PASSPHRASE_FILE: credential:lab-key",
            "ALERT_EMAIL: a@example.edu", "SMTP_SERVER: smtp://mail.example.edu:587", "SMTP_PASS_FILE: credential:lab-smtp",
        ]), in: dir, environment: ["CREDENTIALS_DIRECTORY": creds])
        let s = try #require(c.servers.first)
        #expect(try s.requirePassword().reveal == Self.secret)
        #expect(s.passwordSource == creds + "/lab-pass")
        #expect(s.alert?.password?.reveal == "smtp-secret")
        #expect(s.keyPassphrase?.reveal == "key-words")
        #expect(c.warnings.isEmpty, "\(c.warnings)")
    }

    @Test func withoutTheVariableTheErrorSaysWhereCredentialsComeFrom() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let c = try Self.load(Self.config(["PASS_FILE: credential:lab-pass"]), in: dir, environment: [:])
        let s = try #require(c.servers.first)
        #expect(throws: MTError.self) { try s.requirePassword() }
        let e = try #require(s.passwordProblem)
        #expect(e.exitCode == .config)
        #expect(e.message.contains("server.yaml:6: server lab: PASS_FILE names credential lab-pass, but $CREDENTIALS_DIRECTORY is not set"), "\(e.message)")
        #expect(e.hint?.contains("LoadCredential=mt:/etc/mt/credentials") == true)
    }

    @Test func aMissingCredentialNamesTheFolderAndNeverTheSecrets() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let creds = dir.file("creds")
        try FileSystem.makeDirectories(creds)
        try FileSystem.writeAtomically(Array((Self.secret + "\n").utf8), to: creds + "/other", mode: 0o400)
        let env = ["CREDENTIALS_DIRECTORY": creds]
        let c = try Self.load(Self.config(["PASS_FILE: credential:lab-pass"]), in: dir, environment: env)
        let e = try #require(c.servers.first?.passwordProblem)
        #expect(e.message.contains("PASS_FILE names credential lab-pass, which is not in $CREDENTIALS_DIRECTORY (\(creds))"), "\(e.message)")
        #expect(!e.description.contains(Self.secret))
        #expect(e.hint?.contains("LoadCredential=lab-pass:PATH") == true, "\(e)")
        // The units' own naming: credential mt_FILE is the file /etc/mt/credentials/FILE.
        let unit = try Self.load(Self.config(["PASS_FILE: credential:mt_lab-pass"]), in: dir, environment: env)
        #expect(unit.servers.first?.passwordProblem?.hint?.contains("put the secret in /etc/mt/credentials/lab-pass") == true)

        // A name that would leave the folder is refused before any file is opened.
        for bad in ["../other", "", "a/b", ".."] {
            let b = try Self.load(Self.config(["PASS_FILE: \"credential:\(bad)\""]), in: dir, environment: env)
            let problem = try #require(b.servers.first?.passwordProblem, "credential:\(bad)")
            #expect(problem.message.contains("which is not a credential name"), "\(problem.message)")
            #expect(!problem.description.contains(Self.secret))
        }

        // A missing passphrase, like a missing password, is that server's problem when its keys are loaded, and
        // mt config check reports it; commands that need no key still work.
        let k = try Self.load(Self.config(["KEY_PASSPHRASE_FILE: credential:lab-key"]), in: dir, environment: env)
        let server = try #require(k.servers.first)
        do {
            _ = try server.passphraseForKeys()
            Issue.record("a missing passphrase credential was accepted")
        } catch let e as MTError {
            #expect(e.exitCode == .config && e.message.contains("KEY_PASSPHRASE_FILE names credential lab-key"), "\(e.message)")
        }
        let check = ConfigCheck.run(config: k, servers: k.servers)
        #expect(check.servers[0].problems.contains { $0.contains("KEY_PASSPHRASE_FILE names credential lab-key") })
    }

    @Test func anEmptyCredentialIsRefused() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let creds = dir.file("creds")
        try FileSystem.makeDirectories(creds)
        try FileSystem.writeAtomically([], to: creds + "/lab-pass", mode: 0o400)
        let c = try Self.load(Self.config(["PASS_FILE: credential:lab-pass"]), in: dir, environment: ["CREDENTIALS_DIRECTORY": creds])
        #expect(c.servers.first?.passwordProblem?.message.contains("which is empty") == true)
    }
}
