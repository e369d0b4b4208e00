import Foundation
import MTCore
import MTTestSupport
import Testing

/// Hostile input and secrets: what comes from the network never escapes PATH, planted symlinks are not
/// followed, passwords and decrypted values never reach logs or messages, files are private, TLS is verified.
@Suite struct SecurityTests {
    /// Every file and folder under `dir`, relative, with its mode.
    static func tree(_ dir: String) -> [(String, mode_t)] {
        var out: [(String, mode_t)] = []
        let e = FileManager.default.enumerator(atPath: dir)
        while let rel = e?.nextObject() as? String {
            var st = stat()
            if lstat(dir + "/" + rel, &st) == 0 { out.append((rel, st.st_mode)) }
        }
        return out
    }

    @Test func hostileScaleNamesAndIdsNeverEscapePath() throws {
        let dir = try TempDir("mt-hostile")
        defer { dir.remove() }
        let requests = dir.file("requests.log")
        let server = try PythonServer(script: "hostile_server.py", environment: ["HOSTILE_LOG": requests])
        defer { server.stop() }
        _ = try dir.write("pass", "pw\n")
        let cfg = try dir.write("c.yaml", """
            evil:
              READY: true
              DELETE_MODE: true
              SERVER: \(server.baseURL)/api/
              USER: admin
              PASS_FILE: pass
              PATH: data
            """)
        let r = try Run.mt(["--config", cfg, "export", ".", "all"])
        #expect(r.code != 0, "hostile names must make the run report a problem")
        #expect(r.stderr.contains("unsafe scale name"))
        // Nothing appeared outside the data folder, nothing outside the temp folder.
        let top = Set(try FileSystem.list(dir.path))
        #expect(top == ["requests.log", "pass", "c.yaml", "data"], "unexpected files: \(top)")
        #expect(!FileSystem.exists("/etc/mt-hostile"))
        #expect(!FileSystem.exists(dir.path + "/escape") && !FileSystem.exists(NSTemporaryDirectory() + "/escape"))
        for (rel, _) in Self.tree(dir.file("data")) {
            #expect(!rel.contains(".."), "file name built from the network: \(rel)")
        }
        // The good scale was archived and deleted; hostile ids were never sent a DELETE; no other scale was asked for.
        let log = (try? FileSystem.readString(requests)) ?? ""
        #expect(log.contains("DELETE /api/export/OA/1") && log.contains("DELETE /api/export/OA/2"))
        let deletes = log.split(separator: "\n").filter { $0.hasPrefix("DELETE") }
        #expect(deletes.allSatisfy { $0.hasPrefix("DELETE /api/export/OA/") }, "\(deletes)")
        let gets = log.split(separator: "\n").filter { $0.hasPrefix("GET") }
        #expect(gets.isEmpty, "mt asked the server for hostile scale names: \(gets)")
        #expect(try DataLayout(root: dir.file("data")).archives(scale: "OA").count == 1)
    }

    @Test func plantedSymlinksAreNotFollowedToWriteElsewhere() throws {
        let sim = try SimServer(["--generate", "--participants", "2"])
        defer { sim.stop() }
        let dir = try TempDir("mt-symlink")
        defer { dir.remove() }
        let data = dir.file("data")
        let cfg = try sim.writeConfig(in: dir.path, dataPath: data, extra: ["DELETE_MODE: true"])
        let layout = DataLayout(root: data)
        try layout.create()
        let victim = try dir.write("victim.txt", "precious\n")
        let csv = layout.activeCSV(scale: "OA", date: Date())
        symlink(victim, csv)
        symlink(victim, layout.benchmark)
        symlink(victim, layout.deletions)
        _ = try Run.mt(["--config", cfg, "export"])
        #expect(try FileSystem.readString(victim) == "precious\n")
        // Whatever was deleted is in an archive (an unwritable CSV must not lead to a delete without it).
        var archived = Set<String>()
        for a in try layout.archives() {
            for e in try ArchiveReader.entries(layout: layout, archive: a) { archived.insert("\(a.scale)/\(e["id"]!.int64Value!)") }
        }
        for d in try sim.ledger() { #expect(archived.contains("\(d.scale)/\(d.id)"), "deleted \(d.scale) \(d.id) without an archive") }
    }

    @Test func secretsNeverReachLogsOrMessagesAndFilesArePrivate() throws {
        // A study whose participant links are distinctive, so that a leak is found by a plain search.
        let dir = try TempDir("mt-secrets")
        defer { dir.remove() }
        let keys = try TestKeys.generate(in: dir.path, name: "lab")
        let pub = try RSAPublicKey.parse(pem: FileSystem.read(keys.publicKey), source: keys.publicKey)
        let plaintexts = (1...6).map { "participant-\($0)-c0ffee-secret" }
        var rows: [JSONValue] = []
        for (i, p) in plaintexts.enumerated() {
            rows.append(.object([("id", .int(i + 1)), ("date", .string("Tue, 03 Apr 2018 14:05:0\(i) -0400")),
                                 ("participantRSA", .string(try pub.encryptField(p))), ("session", .string("PRE")),
                                 ("anxious_freq", .int(i % 5))]))
        }
        let study = dir.file("study")
        try FileSystem.makeDirectories(study)
        try FileSystem.writeAtomically(JSONWriter.bytes(.array(rows)), to: study + "/OA.json")
        let password = "pw-7d1e-never-log-me"
        let sim = try SimServer(["--data", study, "--fail-delete", "500@0.5", "--seed", "3"], password: password)
        defer { sim.stop() }
        let data = dir.file("data")
        let cfg = try sim.writeConfig(in: dir.path, dataPath: data,
                                      extra: ["DELETE_MODE: true", "RETRIES: 0", "PRIVATE_FILE: \(keys.privateKey)"])
        var outputs = ""
        for args in [["-v", "export"], ["-v", "export"], ["scales", "sim"], ["benchmark", "sim", "--remote"],
                     ["verify", "sim", "--remote"], ["-v", "recover", "sim"]] {
            let r = try Run.mt(["--config", cfg] + args)
            outputs += r.stderr
            if args.contains("export") || args.contains("scales") { outputs += r.stdout }
        }
        var logs = ""
        for name in try FileSystem.list(data + "/logs") { logs += try FileSystem.readString(data + "/logs/" + name) }
        #expect(!logs.isEmpty)
        for secret in [password] + plaintexts {
            #expect(!logs.contains(secret), "a secret reached the logs")
            #expect(!outputs.contains(secret), "a secret reached the console")
        }
        // The analysts' CSV does hold the plaintexts (that is its purpose), and only its owner can read it.
        let csvs = try FileSystem.list(data + "/active_data").filter { $0.hasSuffix(".csv") }
        #expect(!csvs.isEmpty)
        for (rel, mode) in Self.tree(data) {
            #expect(mode & 0o077 == 0, "\(rel) is readable by group or others: \(String(mode & 0o777, radix: 8))")
        }
    }

    @Test func tlsWithAnUntrustedCertificateIsRefusedUnlessItsCAIsGiven() throws {
        let sim = try SimServer(["--generate", "--participants", "1", "--tls"])
        defer { sim.stop() }
        let dir = try TempDir("mt-tls")
        defer { dir.remove() }
        let trusted = try sim.writeConfig(in: dir.path, dataPath: dir.file("data"))
        let text = try FileSystem.readString(trusted)
        #expect(text.contains("CA_FILE"))
        let untrusted = try dir.write("untrusted.yaml", text.split(separator: "\n").filter { !$0.contains("CA_FILE") }
            .joined(separator: "\n") + "\n")
        let refused = try Run.mt(["--config", untrusted, "export"])
        #expect(refused.code == 69)
        #expect(refused.stderr.lowercased().contains("certificate"))
        #expect(try DataLayout(root: dir.file("data")).archives().isEmpty)
        let ok = try Run.mt(["--config", trusted, "export"])
        #expect(ok.code == 0, "\(ok.stderr)")
    }

    @Test func plainHTTPToARemoteHostIsRefusedBeforeAnyConnection() throws {
        let dir = try TempDir("mt-http")
        defer { dir.remove() }
        let cfg = try dir.write("c.yaml", "remote:\n  READY: true\n  SERVER: http://study.example.org/api/\n  USER: u\n  PASS: x\n  PATH: data\n")
        let r = try Run.mt(["--config", cfg, "export"])
        #expect(r.code == 78)
        #expect(r.stderr.contains("refusing plain http://"))
        let allowed = try dir.write("d.yaml", "remote:\n  READY: true\n  SERVER: http://127.0.0.1:9/api/\n  USER: u\n  PASS: x\n  PATH: data\n  CONNECT_TIMEOUT: 1\n")
        #expect(try Run.mt(["--config", allowed, "export"]).code == 69) // loopback is allowed: it is tried
    }
}
