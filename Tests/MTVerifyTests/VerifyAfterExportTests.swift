import Foundation
import MTCore
import MTTestSupport
import Testing

/// The "done when": after a real export from mt-sim, verify passes (locally and against the server);
/// one flipped byte of one archive makes it fail naming that archive.
@Suite struct VerifyAfterExportTests {
    @Test func verifyPassesAfterAnExportAndNamesAFlippedArchive() throws {
        let sim = try SimServer(["--generate", "--participants", "5"], password: "sim-pass")
        defer { sim.stop() }
        let dir = try TempDir("mt-verify-export")
        defer { dir.remove() }
        _ = try dir.write("pass.txt", "sim-pass\n")
        let config = try dir.write("mt.yaml", """
            lab:
              READY: true
              DELETE_MODE: true
              SERVER: \(sim.url)/
              USER: admin
              PASS_FILE: pass.txt
              PRIVATE_FILE: \(sim.privateKeyPath)
              PATH: data

            """)
        func mt(_ args: [String]) throws -> RunResult { try Run.mt(["--config", config] + args) }

        let export = try mt(["export", "lab", "all"])
        #expect(export.code == 0, "\(export.stdout)\(export.stderr)")
        #expect(try sim.counter("deletes") > 0)
        let clean = try mt(["verify", "lab", "--remote"])
        #expect(clean.code == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("lab: ok:"))

        let layout = DataLayout(root: (dir.path as NSString).standardizingPath + "/data")
        let archive = try #require(try layout.archives().last)
        let path = layout.archivePath(archive)
        var bytes = try FileSystem.read(path)
        bytes[bytes.count / 2] ^= 0x20
        try FileSystem.writeAtomically(bytes, to: path, mode: 0o600)
        let broken = try mt(["verify", "lab"])
        #expect(broken.code == 1)
        #expect(broken.stdout.contains("archive-corrupt: \(path)"))
    }
}
