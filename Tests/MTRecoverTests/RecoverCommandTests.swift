import Foundation
import MTCore
import MTTestSupport
import Testing

/// A server data directory with a config block pointing at it and a PKCS#1 key made by openssl.
struct RecoverFixture {
    let dir: TempDir
    let layout: DataLayout
    let config: String
    let keyPath: String
    let publicKey: RSAPublicKey

    init(privateFile: Bool = true) throws {
        dir = try TempDir()
        layout = DataLayout(root: dir.file("data"))
        try layout.create()
        keyPath = dir.file("private.pem")
        try TestKeys.openssl(["genrsa", "-traditional", "-out", keyPath, "2048"])
        chmod(keyPath, 0o600)
        let pub = dir.file("public.pem")
        try TestKeys.openssl(["rsa", "-in", keyPath, "-pubout", "-out", pub])
        publicKey = try RSAPublicKey.parse(pem: FileSystem.read(pub), source: pub)
        config = try dir.write("mt.yaml", """
            lab:
              READY: true
              SERVER: https://study.example.edu/api/
              USER: admin
              PATH: \(layout.root)
              DATE_FORMAT: "%Y-%m-%d"
            \(privateFile ? "  PRIVATE_FILE: \(keyPath)" : "")
            """, mode: 0o600)
    }

    func entry(_ id: Int64, _ text: String, extra: [(String, JSONValue)] = []) throws -> JSONValue {
        .object([("id", .number(String(id))), ("noteRSA", .string(try publicKey.encryptField(text))), ("text", .string(text))] + extra)
    }

    /// A new archive: gzip of the server's bytes, named by its fetch time.
    func gzipArchive(_ scale: String, at time: TimeInterval, _ entries: [JSONValue]) throws {
        let name = ArchiveName.new(scale: scale, time: Date(timeIntervalSince1970: time))
        try FileSystem.writeAtomically(Gzip.compress(JSONWriter.bytes(.array(entries))), to: layout.archivePath(name))
    }

    /// An original-tool raw file: uncompressed, arrays appended one after another.
    func legacyArchive(_ fileName: String, _ arrays: [[JSONValue]]) throws {
        var bytes: [UInt8] = []
        for a in arrays { JSONWriter.write(.array(a), into: &bytes, pretty: true) }
        try FileSystem.writeAtomically(bytes, to: layout.raw + "/" + fileName)
    }

    func csv(_ scale: String) throws -> (header: [String], rows: [[String]]) {
        let files = try FileSystem.list(layout.recovered).filter { $0.hasPrefix("\(scale)_recovered_") && $0.hasSuffix(".csv") }
        #expect(files.count == 1)
        var reader = try CSVReader(path: layout.recovered + "/" + files[0])
        defer { reader.close() }
        let header = try reader.next() ?? []
        var rows: [[String]] = []
        while let r = try reader.next() { rows.append(r) }
        return (header, rows)
    }

    func readme(_ scale: String) throws -> String {
        let files = try FileSystem.list(layout.recovered).filter { $0.hasPrefix("README_\(scale)_recovered_") }
        #expect(files.count == 1)
        return try FileSystem.readString(layout.recovered + "/" + files[0])
    }
}

@Suite("mt recover")
struct RecoverCommandTests {
    @Test("a deleteable scale is rebuilt from legacy and gzip archives in time order, each entry once, decrypted")
    func mixedArchives() throws {
        let f = try RecoverFixture(); defer { f.dir.remove() }
        // The server stores ciphertext once: a later copy of an entry is byte for byte the same.
        let three = try f.entry(3, "third, \"troisième\""), four = try f.entry(4, "first copy of 4\n😀")
        // Apr 2018 sorts after Jan 2019 by name but comes first in time.
        try f.legacyArchive("OA_Jan_05_2019_09_00_00.json", [[three, four]])
        try f.legacyArchive("OA_Apr_03_2018_14_05_09.json", [[try f.entry(1, "première"), try f.entry(2, "seconda")], [four]])
        // Id 2 again with other content (the server's ids restarted): another participant's answer, kept.
        try f.gzipArchive("OA", at: 1_700_000_000, [three, try f.entry(3_000_000_000, "大 id", extra: [("drift", .bool(true))]),
                                                    try f.entry(2, "after the restart")])
        try f.gzipArchive("OASIS", at: 1_700_000_100, [try f.entry(99, "another scale")])
        let r = try Run.mt(["--config", f.config, "recover", "lab", "OA"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "no progress bar when stderr is not a terminal")
        let (header, rows) = try f.csv("OA")
        #expect(header == ["drift", "id", "noteRSA", "text"])
        #expect(rows.map { $0[1] } == ["1", "2", "4", "3", "3000000000", "2"])
        for row in rows { #expect(row[2] == row[3], "noteRSA decrypted to the plaintext") }
        #expect(rows[2][2] == "first copy of 4\n😀")
        #expect(rows[4][0] == "true")
        let readme = try f.readme("OA")
        let order = ["OA_Apr_03_2018_14_05_09.json", "OA_Jan_05_2019_09_00_00.json", "_OA.json.gz"].map { readme.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && order[0]! < order[1]! && order[1]! < order[2]!)
        #expect(readme.contains("entries written: 6"))
        #expect(readme.contains("duplicate ids dropped: 2"))
        #expect(readme.contains("1 entries share their id") && readme.contains("ids: 2\n"), "\(readme)")
        #expect(!readme.contains("OASIS"))
        let mode = try FileSystem.list(f.layout.recovered).compactMap { FileSystem.mode(of: f.layout.recovered + "/" + $0) }
        #expect(mode.allSatisfy { $0 == 0o600 })
        #expect(try FileSystem.list(f.layout.recovered).allSatisfy { !$0.hasPrefix(".") }, "no temporary file left behind")
    }

    @Test("a non-deleteable scale is rebuilt from its snapshots and increments, keeping rows only older archives hold")
    func nonDeleteable() throws {
        let f = try RecoverFixture(); defer { f.dir.remove() }
        try Benchmark(marks: ["Static": .init(current: 4, deleteable: false)]).write(path: f.layout.benchmark)
        let one = try f.entry(1, "old"), three = try f.entry(3, "new")
        // A full snapshot while the scale was deleteable, a later one without 2, an after= increment.
        try f.gzipArchive("Static", at: 1_700_000_000, [one, try f.entry(2, "gone later")])
        try f.gzipArchive("Static", at: 1_700_086_400, [one, three])
        try f.gzipArchive("Static", at: 1_700_172_800, [three, try f.entry(4, "newest")])
        let r = try Run.mt(["--config", f.config, "recover", ".", "Static"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try f.csv("Static").rows.map { $0[0] } == ["1", "2", "3", "4"])
        #expect(try f.readme("Static").contains("non-deleteable scale"))
        #expect(try f.readme("Static").contains("duplicate ids dropped: 2"))
        // --static and --deleteable only change the README's wording.
        try f.gzipArchive("Other", at: 1_700_000_000, [try f.entry(7, "a")])
        try f.gzipArchive("Other", at: 1_700_000_001, [try f.entry(8, "b")])
        #expect(try Run.mt(["--config", f.config, "recover", "lab", "Other", "--static"]).code == 0)
        #expect(try f.csv("Other").rows.map { $0[0] } == ["7", "8"])
        #expect(try Run.mt(["--config", f.config, "recover", "--static", "--deleteable"]).code == 64)
    }

    @Test("every scale when none is named; --json reports what was rebuilt")
    func allScalesJSON() throws {
        let f = try RecoverFixture(); defer { f.dir.remove() }
        try f.gzipArchive("OA", at: 1_700_000_000, [try f.entry(1, "a")])
        try f.gzipArchive("Mood", at: 1_700_000_000, [])
        let r = try Run.mt(["--config", f.config, "--json", "recover"])
        #expect(r.code == 0, "\(r.stderr)")
        let reports = try JSONParser.parse(r.stdoutBytes).arrayValues ?? []
        #expect(reports.map { $0["scale"]?.stringValue } == ["Mood", "OA"])
        #expect(reports.map { $0["entries_written"] } == [.number("0"), .number("1")])
        #expect(try f.csv("Mood").header.isEmpty)
    }

    @Test("undecryptable values keep their ciphertext, are listed in the README, and exit 1")
    func partialFailure() throws {
        let f = try RecoverFixture(); defer { f.dir.remove() }
        var entries = try (1...15).map { try f.entry(Int64($0), "fine \($0)") }
        entries.append(.object([("id", .number("16")), ("noteRSA", .string("!!not-base64!!"))]))
        try f.gzipArchive("OA", at: 1_700_000_000, entries)
        let r = try Run.mt(["--config", f.config, "recover", "lab", "OA"])
        #expect(r.code == 1)
        #expect(try f.csv("OA").rows.last?[1] == "!!not-base64!!")
        #expect(try f.readme("OA").contains("scale OA, id 16, field noteRSA: not base64"))
    }

    @Test("documented failures: wrong key 65, unknown scale 66, corrupt archive 65, lock held 75, no key 78")
    func failures() throws {
        let f = try RecoverFixture(); defer { f.dir.remove() }
        try f.gzipArchive("OA", at: 1_700_000_000, try (1...12).map { try f.entry(Int64($0), "x") })
        let other = f.dir.file("other.pem")
        try TestKeys.openssl(["genrsa", "-traditional", "-out", other, "2048"])
        chmod(other, 0o600)
        let wrong = try Run.mt(["--config", f.config, "recover", "lab", "OA", "--key", other])
        #expect(wrong.code == 65)
        #expect(wrong.stderr.contains("does not match the server's public key"))
        #expect(try FileSystem.list(f.layout.recovered).isEmpty, "nothing left under a final name")

        let unknown = try Run.mt(["--config", f.config, "recover", "lab", "O"])
        #expect(unknown.code == 66)
        #expect(unknown.stderr.contains("did you mean OA?"))

        try FileSystem.writeAtomically(Array(try Gzip.compress(Array(String(repeating: "[{\"id\":1}]", count: 300).utf8)).prefix(30)),
                                       to: f.layout.archivePath(ArchiveName.new(scale: "Cut", time: Date())))
        let cut = try Run.mt(["--config", f.config, "recover", "lab", "Cut"])
        #expect(cut.code == 65)

        let lock = try DirectoryLock(directory: f.layout.root)
        let busy = try Run.mt(["--config", f.config, "recover", "lab", "OA"])
        lock.release()
        #expect(busy.code == 75)

        let bare = try RecoverFixture(privateFile: false); defer { bare.dir.remove() }
        try bare.gzipArchive("OA", at: 1_700_000_000, [])
        let keyless = try Run.mt(["--config", bare.config, "recover"])
        #expect(keyless.code == 78)
        #expect(keyless.stderr.contains("server lab: no private key given"), "\(keyless.stderr)")
    }
}
