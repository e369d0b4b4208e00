import Foundation
import MTCore
import MTTestSupport
import Testing

@Suite struct ConfigTests {
    func config(_ text: String, mode: mode_t = 0o600, env: [String: String] = [:], allow: Bool = false,
                in dir: TempDir) throws -> MTConfig {
        let p = try dir.write("server.yaml", text, mode: mode)
        return try MTConfig.load(path: p, environment: env, allowReadableSecrets: allow)
    }

    @Test func originalKeysAndNormalisedServer() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let c = try config("""
            mindtrails:
              READY: true
              DELETE_MODE: False
              SERVER: https://host/study/api/export/
              USER: admin
              PASS: s3cret
              PRIVATE_FILE: keys/private.pem
              PATH: data/
            """, in: dir)
        let s = try c.server(named: "mindtrails")
        #expect(s.ready && !s.deleteMode)
        #expect(s.apiBase == "https://host/study/api")
        #expect(s.exportURL == "https://host/study/api/export")
        #expect(s.path == dir.path + "/data")
        #expect(s.privateFiles == [dir.path + "/keys/private.pem"])
        #expect(s.password?.reveal == "s3cret")
        #expect("\(s.password!)" == "<redacted>")
        #expect(s.dateFormat == "%b_%d_%Y")
    }

    @Test func worldReadableConfigWithPasswordIsRefusedWithChmod() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let text = "s:\n  SERVER: https://h/api/\n  PASS: x\n  PATH: d\n"
        do {
            _ = try config(text, mode: 0o644, in: dir)
            Issue.record("expected a refusal")
        } catch let e as MTError {
            #expect(e.exitCode == .noPermission)
            #expect(e.hint?.contains("chmod 600 \(dir.path)/server.yaml") == true)
        }
        _ = try config(text, mode: 0o644, allow: true, in: dir)
        // Without a secret inside, a readable config is fine.
        _ = try config("s:\n  SERVER: https://h/api/\n  PATH: d\n", mode: 0o644, in: dir)
    }

    @Test func passwordFromFileOrEnvironment() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = try dir.write("pw", "from-file\nignored\n", mode: 0o600)
        let c = try config("a:\n  SERVER: https://h/api/\n  PASS_FILE: pw\n  PATH: d\nmy-lab.2:\n  SERVER: https://h/api/\n  PATH: e\n",
                           env: ["MT_PASS_MY_LAB_2": "from-env"], in: dir)
        #expect(try c.server(named: "a").password?.reveal == "from-file")
        #expect(try c.server(named: "my-lab.2").password?.reveal == "from-env")
        _ = try dir.write("pw", "x\n", mode: 0o640)
        #expect(throws: MTError.self) { _ = try config("a:\n  SERVER: https://h/api/\n  PASS_FILE: pw\n  PATH: d\n", in: dir) }
    }

    @Test func errorsNameFileBlockAndKey() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        do {
            _ = try config("lab:\n  SERVER: https://h/api/\n  PATH: d\n  READY: maybe\n", in: dir)
            Issue.record("expected an error")
        } catch let e as MTError {
            #expect(e.exitCode == .config)
            #expect(e.message.contains("server.yaml:4"))
            #expect(e.message.contains("server lab"))
            #expect(e.message.contains("READY"))
        }
        #expect(throws: MTError.self) { _ = try config("lab:\n  PATH: d\n", in: dir) }
        #expect(throws: MTError.self) { _ = try config("lab: [1, 2\n", in: dir) }
    }

    /// A misspelt key (close to a known one) is the server's problem, not a warning (TrustNothingTests).
    @Test func unknownKeysWarnAndDefaultsApply() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let c = try config("defaults:\n  CONCURRENCY: 9\nlab:\n  SERVER: https://h/api/\n  PATH: d\n  DELET_MODE: true\n", in: dir)
        #expect(try c.server(named: "lab").concurrency == 9)
        #expect(c.warnings.isEmpty)
        let misspelt = try c.server(named: "lab").misspeltKeys
        #expect(misspelt.count == 1 && misspelt[0].contains("DELET_MODE") && misspelt[0].contains("DELETE_MODE"))
    }

    @Test func selectionHonoursREADY() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let c = try config("a:\n  READY: true\n  SERVER: https://h/api/\n  PATH: d\nb:\n  SERVER: https://h/api/\n  PATH: e\n", in: dir)
        #expect(try c.select(".", readyOnly: true).map(\.name) == ["a"])
        #expect(try c.select(nil, readyOnly: false).map(\.name) == ["a", "b"])
        #expect(throws: MTError.self) { _ = try c.select("b", readyOnly: true) }
        do { _ = try c.server(named: "aa"); Issue.record("expected an error") } catch let e as MTError {
            #expect(e.hint?.contains("did you mean 'a'") == true)
        }
    }

    @Test func lookupOrder() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let explicit = try dir.write("x.yaml", "a:\n  SERVER: https://h/\n  PATH: d\n")
        #expect(try ConfigLocator.locate(explicit: explicit, environment: [:]) == explicit)
        #expect(try ConfigLocator.locate(explicit: nil, environment: ["MT_CONFIG": explicit]) == explicit)
        let xdg = try dir.write("xdg/mt/config.yaml", "a:\n  SERVER: https://h/\n  PATH: d\n")
        let cands = ConfigLocator.candidates(environment: ["XDG_CONFIG_HOME": dir.path + "/xdg"])
        #expect(cands == ["config/server.yaml", xdg, "/etc/mt/config.yaml"])
        #expect(throws: MTError.self) { _ = try ConfigLocator.locate(explicit: dir.file("missing.yaml"), environment: [:]) }
    }

    @Test func shippedSampleParses() throws {
        let c = try MTConfig.load(path: Products.packageRoot + "/config/server.yaml.sample", environment: [:],
                                  allowReadableSecrets: false)
        #expect(c.servers.map(\.name) == ["mindtrails", "templeton"])
        #expect(c.warnings.isEmpty)
    }

    /// Hints name the sample where this binary's installation put it, not the repository's path.
    @Test func hintsNameTheInstalledSample() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let sample = try dir.write("usr/share/doc/mt/examples/server.yaml.sample", "# sample\n", mode: 0o644)
        #expect(ConfigSample.locate(executable: dir.path + "/usr/bin/mt") == sample)
        let tree = try dir.write("src/config/server.yaml.sample", "# sample\n", mode: 0o644)
        #expect(ConfigSample.locate(executable: dir.path + "/src/.build/release/mt") == tree)
        #expect(ConfigSample.locate(executable: dir.path + "/opt/bin/mt") == ConfigSample.packaged)
        #expect(ConfigSample.locate(executable: nil) == "/usr/share/doc/mt/examples/server.yaml.sample")
        // The tests' binary runs from this tree's build folder: its hints name this tree's sample.
        let p = try dir.write("bad.yaml", "[]\n")
        do {
            _ = try MTConfig.load(path: p, environment: [:], allowReadableSecrets: false)
            Issue.record("a top-level list was accepted")
        } catch let e as MTError {
            #expect(e.hint?.contains("server.yaml.sample") == true && e.hint?.contains("man 5 mt-config") == true, "\(e)")
        }
    }

    /// A password file saved on Windows ends its line with "\r\n", which Swift reads as one Character: the line
    /// end must not become part of the password (it did, before the split at "\r\n").
    @Test func aWindowsLineEndIsNotPartOfThePassword() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = try dir.write("pass", "s3cret\r\nsecond line\r\n")
        let p = try dir.write("c.yaml", "lab:\n  SERVER: https://h/api/\n  USER: u\n  PASS_FILE: pass\n  PATH: d\n")
        let c = try MTConfig.load(path: p, environment: [:], allowReadableSecrets: false)
        #expect(try c.servers[0].requirePassword().reveal == "s3cret")
    }

    @Test func didYouMean() {
        #expect(Suggest.closest(to: "exprot", in: ["export", "decrypt", "recover"]) == "export")
        #expect(Suggest.closest(to: "zzzzzz", in: ["export"]) == nil)
    }
}
