import Foundation
import MTCore
import MTTestSupport
import Testing

/// A PKCS#1 key made by `openssl genrsa`, as the lab made its key, and its public half to encrypt as the server does.
struct LabKey {
    let path: String
    let publicKey: RSAPublicKey

    init(_ dir: TempDir, name: String = "private") throws {
        path = dir.file("\(name).pem")
        let pub = dir.file("\(name).pub.pem")
        try TestKeys.openssl(["genrsa", "-traditional", "-out", path, "2048"])
        chmod(path, 0o600)
        try TestKeys.openssl(["rsa", "-in", path, "-pubout", "-out", pub])
        publicKey = try RSAPublicKey.parse(pem: FileSystem.read(pub), source: pub)
    }

    /// Encrypted as `openssl pkeyutl` does it with PKCS#1 v1.5 padding (the server's Java "RSA" cipher).
    func opensslEncrypt(_ text: String, dir: TempDir) throws -> String {
        let plain = try dir.write("plain-\(UUID().uuidString)", text)
        let out = plain + ".bin"
        try TestKeys.openssl(["pkeyutl", "-encrypt", "-pubin", "-inkey", path.replacingOccurrences(of: ".pem", with: ".pub.pem"),
                              "-pkeyopt", "rsa_padding_mode:pkcs1", "-in", plain, "-out", out])
        return Base64.encode(try FileSystem.read(out))
    }
}

let texts = [
    "Je me sens déjà mieux, merci ! À bientôt.",
    "Perché è così difficile? Però ci proverò.",
    "我今天感觉很焦虑，但是会好的。",
    "😀👍🏽 👨‍👩‍👧‍👦",
    "commas, \"quotes\", and\nnew lines\r\nin one value",
]

@Suite("mt decrypt")
struct DecryptCommandTests {
    /// Python's csv module reads the file: "any CSV reader" gets the same rows back.
    static func pythonCSV(_ path: String) throws -> [[String]] {
        let script = "import csv,json,sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))))"
        let r = try Run.program("/usr/bin/env", ["python3", "-c", script, path])
        #expect(r.code == 0, "\(r.stderr)")
        let rows = try JSONParser.parse(Array(r.stdout.utf8)).arrayValues ?? []
        return rows.map { ($0.arrayValues ?? []).map { $0.stringValue ?? "" } }
    }

    @Test("2,000 server rows encrypted with a PKCS#1 key decrypt to a CSV equal to the plaintext, field for field")
    func twoThousandRows() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let key = try LabKey(dir)
        var entries: [JSONValue] = []
        var expected: [[String]] = []
        for i in 1...2000 {
            let text = texts[i % texts.count] + " #\(i)"
            let id = Int64(2_147_483_000) + Int64(i) // crosses 2^31
            var fields: [(String, JSONValue)] = [("id", .number(String(id))), ("date", .string("Mon, 02 Mar 2026 10:00:00 -0500")),
                                                 ("answerRSA", .string(try key.publicKey.encryptField(text))),
                                                 ("score", .number("3.10"))]
            if i % 100 == 0 { fields.append(("addedLater", .bool(true))) } // schema drift
            entries.append(.object(fields))
            expected.append([i % 100 == 0 ? "true" : "", text, "Mon, 02 Mar 2026 10:00:00 -0500", String(id), "3.10"])
        }
        let input = dir.file("OA.json")
        try FileSystem.writeAtomically(JSONWriter.bytes(.array(entries)), to: input)
        let out = dir.file("OA.csv")
        let r = try Run.mt(["decrypt", "--key", key.path, "-o", out, input])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(FileSystem.mode(of: out) == 0o600)
        let rows = try Self.pythonCSV(out)
        #expect(rows.first == ["addedLater", "answerRSA", "date", "id", "score"])
        #expect(rows.count == 2001)
        for (row, want) in zip(rows.dropFirst(), expected) where row != want { Issue.record("row \(row) != \(want)"); break }
        let raw = try FileSystem.read(out)
        #expect(raw.starts(with: Array("addedLater,answerRSA,date,id,score\r\n".utf8)))
    }

    @Test("--value prints one plaintext; with the wrong key it exits 65 and says the key does not match")
    func singleValue() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let key = try LabKey(dir)
        let other = try LabKey(dir, name: "other")
        let cipher = try key.opensslEncrypt("ciao, è già 😀", dir: dir)
        let ok = try Run.mt(["decrypt", "--value", cipher, "--key", key.path])
        #expect(ok.code == 0)
        #expect(ok.stdoutBytes == Array("ciao, è già 😀\n".utf8))
        let bad = try Run.mt(["decrypt", "--value", cipher, "--key", other.path])
        #expect(bad.code == 65)
        #expect(bad.stderr.contains("does not match the server's public key"))
        #expect(!bad.stderr.contains("ciao"))
        let notB64 = try Run.mt(["decrypt", "--value", "@@@", "--key", key.path])
        #expect(notB64.code == 65)
    }

    @Test("the wrong key on a file exits 65 before writing anything")
    func wrongKeyFile() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let key = try LabKey(dir)
        let other = try LabKey(dir, name: "other")
        let entries = try (1...50).map { JSONValue.object([("id", .number("\($0)")), ("xRSA", .string(try key.publicKey.encryptField("v")))]) }
        let input = dir.file("OA.json")
        try FileSystem.writeAtomically(JSONWriter.bytes(.array(entries)), to: input)
        let r = try Run.mt(["decrypt", "--key", other.path, "-o", dir.file("out.csv"), input])
        #expect(r.code == 65)
        #expect(r.stderr.contains("scale OA"))
        #expect(r.stderr.contains("does not match"))
        #expect(!FileSystem.exists(dir.file("out.csv")))
    }

    @Test("two keys after a rotation; gzip JSON lines in, JSON lines out")
    func rotationJSONLines() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let old = try LabKey(dir, name: "old")
        let new = try LabKey(dir, name: "new")
        var lines: [UInt8] = []
        for i in 1...30 {
            let k = i <= 15 ? old : new
            JSONWriter.write(.object([("id", .number("\(i)")), ("noteRSA", .string(try k.publicKey.encryptField(texts[i % 5])))]), into: &lines)
            lines.append(0x0A)
        }
        let input = dir.file("Notes.jsonl.gz")
        try FileSystem.writeAtomically(Gzip.compress(lines), to: input)
        let r = try Run.mt(["decrypt", "--key", new.path, "--key", old.path, "--format", "jsonl", input])
        #expect(r.code == 0, "\(r.stderr)")
        let values = try JSONParser.parseSequence(r.stdoutBytes)
        #expect(values.count == 30)
        for (i, v) in values.enumerated() { #expect(v["noteRSA"] == .string(texts[(i + 1) % 5])) }
    }

    @Test("a CSV with RSA columns from stdin keeps its column order; failures exit 1 naming scale, id and field")
    func csvPartialFailure() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let key = try LabKey(dir)
        var csv: [UInt8] = []
        CSVWriter.appendRow(["zeta", "id", "feelingRSA"], to: &csv)
        for i in 1...12 { CSVWriter.appendRow(["z\(i)", "\(i)", try key.publicKey.encryptField(texts[i % 5])], to: &csv) }
        CSVWriter.appendRow(["z", "4000000000", "not*base64"], to: &csv)
        let r = try Run.mt(["decrypt", "--key", key.path, "--format", "json", "-"], stdin: csv)
        #expect(r.code == 1)
        #expect(r.stderr.contains("scale stdin, id 4000000000, field feelingRSA: not base64"))
        let out = try JSONParser.parse(r.stdoutBytes).arrayValues ?? []
        #expect(out.count == 13)
        #expect(out[0].objectFields?.map(\.0) == ["zeta", "id", "feelingRSA"])
        #expect(out[0]["feelingRSA"] == .string(texts[1]))
        #expect(out[12]["feelingRSA"] == .string("not*base64"))
    }

    @Test("keys come from the server's PRIVATE_FILE; a passphrase-protected key opens with MT_KEY_PASSPHRASE")
    func configKeyAndPassphrase() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let key = try LabKey(dir)
        let enc = dir.file("enc.pem")
        try TestKeys.openssl(["pkcs8", "-topk8", "-in", key.path, "-out", enc, "-passout", "pass:s3cret"])
        chmod(enc, 0o600)
        let config = try dir.write("mt.yaml", """
            lab:
              SERVER: https://study.example.edu/api/
              USER: admin
              PATH: \(dir.file("data"))
              PRIVATE_FILE: \(enc)
            """)
        let input = dir.file("OA.json")
        try FileSystem.writeAtomically(Array("[{\"id\": 1, \"aRSA\": \"\(try key.publicKey.encryptField("ok"))\"}]\n[]\n".utf8), to: input)
        let noPass = try Run.mt(["--config", config, "decrypt", input])
        #expect(noPass.code == 78)
        let r = try Run.mt(["--config", config, "decrypt", "--server", "lab", input], environment: ["MT_KEY_PASSPHRASE": "s3cret"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout == "aRSA,id\r\nok,1\r\n")
    }

    @Test("empty arrays, a missing file, a readable key and a truncated gzip each get their documented code")
    func exitCodes() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let key = try LabKey(dir)
        let empty = try dir.write("Empty.json", "[]")
        let r = try Run.mt(["decrypt", "--key", key.path, "--format", "json", empty])
        #expect(r.code == 0)
        #expect(r.stdout == "[]\n")
        #expect(try Run.mt(["decrypt", "--key", key.path, dir.file("nope.json")]).code == 66)
        let gz = try Gzip.compress(Array(String(repeating: "[{\"id\": 1, \"t\": \"xyz\"}]", count: 500).utf8))
        try FileSystem.writeAtomically(Array(gz.prefix(gz.count - 12)), to: dir.file("cut.json.gz"))
        let cut = try Run.mt(["decrypt", "--key", key.path, dir.file("cut.json.gz")])
        #expect(cut.code == 65)
        #expect(cut.stderr.contains("truncated"))
        chmod(key.path, 0o640)
        let readable = try Run.mt(["decrypt", "--key", key.path, empty])
        #expect(readable.code == 77)
        #expect(readable.stderr.contains("chmod 600"))
        #expect(try Run.mt(["decrypt", "--key", key.path]).code == 64)
    }
}
