import Foundation
import MTCore
import MTTestSupport
import Testing

/// The server password reaches a real export through `$CREDENTIALS_DIRECTORY`, as under the shipped units'
/// LoadCredential=. This machine runs no systemd (PID 1 is not systemd, so `systemd-run` cannot start a unit):
/// the variable is set by hand, which is all systemd does for the process.
@Suite struct CredentialEndToEndTests {
    @Test func theServerPasswordComesFromTheCredential() throws {
        let sim = try SimServer(["--generate", "--participants", "2"], password: "cred-e2e-pass")
        defer { sim.stop() }
        let dir = try TempDir("mt-cred")
        defer { dir.remove() }
        let written = try sim.writeConfig(in: dir.path, dataPath: dir.file("data"))
        let cfg = try dir.write("cred.yaml", try FileSystem.readString(written)
            .replacingOccurrences(of: #"PASS_FILE: "\#(dir.path)/sim.pass""#, with: "PASS_FILE: credential:sim-pass"))
        #expect(try FileSystem.readString(cfg).contains("PASS_FILE: credential:sim-pass\n"))
        let creds = dir.file("credentials")
        try FileSystem.makeDirectories(creds)

        // Without the variable: a config error that says where credentials come from.
        let none = try Run.mt(["--config", cfg, "export", "-q"])
        #expect(none.code == 78, "\(none.stdout)\("\(none.stderr)")")
        #expect(none.stderr.contains("$CREDENTIALS_DIRECTORY is not set"), "\(none.stderr)")

        // A wrong password in the credential is refused by the server: the credential is what was sent.
        try FileSystem.writeAtomically(Array("not-the-password\n".utf8), to: creds + "/sim-pass", mode: 0o440)
        let wrong = try Run.mt(["--config", cfg, "export", "-q"], environment: ["CREDENTIALS_DIRECTORY": creds])
        #expect(wrong.code != 0)
        #expect(!wrong.stderr.contains("not-the-password"))

        try FileSystem.writeAtomically(Array("cred-e2e-pass\n".utf8), to: creds + "/sim-pass", mode: 0o440)
        let ok = try Run.mt(["--config", cfg, "export", "-q"], environment: ["CREDENTIALS_DIRECTORY": creds])
        #expect(ok.code == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(try !DataLayout(root: dir.file("data")).archives().isEmpty)
        let check = try Run.mt(["--config", cfg, "config", "check"], environment: ["CREDENTIALS_DIRECTORY": creds])
        #expect(check.stdout.contains("password from \(creds)/sim-pass"), "\(check.stdout)")
    }
}
