import Foundation
import MTCore
import MTTestSupport
import Testing

@Suite("Entry decryption")
struct DecryptSessionTests {
    static func entry(_ id: Int64, _ fields: [(String, JSONValue)]) -> JSONValue {
        .object([("id", .number(String(id)))] + fields)
    }

    @Test("every key format decrypts: PKCS#1, PKCS#8, DER, passphrase-protected PEM")
    func keyFormats() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let keys = try DecryptKeyFiles(dir)
        let cipher = try keys.publicKey.encryptField("bonjour")
        for path in [keys.pkcs1, keys.pkcs8, keys.der, keys.encryptedPKCS8, keys.encryptedPKCS1] {
            let ring = try keys.ring(path)
            let r = try EntryDecryption.decrypt(entries: [Self.entry(1, [("noteRSA", .string(cipher))])], scale: "OA", keys: ring)
            #expect(r.entries[0]["noteRSA"] == .string("bonjour"), "key \(path)")
            #expect(r.failures.isEmpty)
        }
    }

    @Test("a protected key needs its passphrase; a wrong one is refused")
    func passphrase() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let keys = try DecryptKeyFiles(dir)
        let missing = #expect(throws: MTError.self) {
            try KeyRing.load(paths: [keys.encryptedPKCS8], environment: [:], allowReadable: false)
        }
        #expect(missing?.exitCode == .config)
        #expect(missing?.hint?.contains("MT_KEY_PASSPHRASE") == true)
        let wrong = #expect(throws: MTError.self) {
            try KeyRing.load(paths: [keys.encryptedPKCS1], environment: ["MT_KEY_PASSPHRASE": "nope"], allowReadable: false)
        }
        #expect(wrong?.message.contains("passphrase") == true)
    }

    @Test("a key file readable by others is refused unless allowed")
    func readableKey() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let keys = try DecryptKeyFiles(dir)
        chmod(keys.pkcs1, 0o644)
        let e = #expect(throws: MTError.self) { try keys.ring(keys.pkcs1) }
        #expect(e?.exitCode == .noPermission)
        _ = try KeyRing.load(paths: [keys.pkcs1], environment: [:], allowReadable: true)
    }

    @Test("UTF-8 survives byte for byte: French, Italian, Chinese, emoji, commas, quotes, newlines")
    func utf8RoundTrip() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let keys = try DecryptKeyFiles(dir)
        let entries = try hardTexts.enumerated().map { i, t in
            Self.entry(Int64(i + 1), [("answerRSA", .string(try keys.publicKey.encryptField(t))), ("plain", .string(t))])
        }
        let r = try EntryDecryption.decrypt(entries: entries, scale: "OA", keys: try keys.ring(keys.pkcs1))
        // The empty string is not encrypted by servers; an empty field stays empty.
        for (i, t) in hardTexts.enumerated() {
            #expect(r.entries[i]["answerRSA"]?.stringValue.map { Array($0.utf8) } == Array(t.utf8))
        }
        #expect(r.failures.isEmpty)
    }

    @Test("the wrong key stops at once with the key-mismatch message")
    func wrongKey() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let keys = try DecryptKeyFiles(dir, name: "right")
        let other = try DecryptKeyFiles(dir, name: "wrong")
        let entries = try (1...500).map { Self.entry(Int64($0), [("noteRSA", .string(try keys.publicKey.encryptField("v\($0)")))]) }
        let session = try DecryptionSession(keys: try other.ring(other.pkcs1))
        let e = #expect(throws: MTError.self) { try session.decrypt(entries: entries, scale: "OA") }
        #expect(e?.exitCode == .dataError)
        #expect(e?.hint?.contains("does not match the server's public key") == true)
        #expect(session.decryptedValues == 0, "stopped after the probe, before the other values")
    }

    @Test("a few values that all fail are a mismatch too")
    func fewValuesWrongKey() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let keys = try DecryptKeyFiles(dir, name: "right")
        let other = try DecryptKeyFiles(dir, name: "wrong")
        let entries = try (1...3).map { Self.entry(Int64($0), [("noteRSA", .string(try keys.publicKey.encryptField("v")))]) }
        let e = #expect(throws: MTError.self) {
            try EntryDecryption.decrypt(entries: entries, scale: "OA", keys: try other.ring(other.pkcs8))
        }
        #expect(e?.message.contains("scale OA") == true)
    }

    @Test("two keys (rotation): values of either key decrypt, whatever their mix")
    func rotation() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let old = try DecryptKeyFiles(dir, name: "old")
        let new = try DecryptKeyFiles(dir, name: "new")
        let entries = try (1...200).map { i in
            let key = (i < 60 || i % 7 == 0) ? old.publicKey : new.publicKey
            return Self.entry(Int64(i), [("noteRSA", .string(try key.encryptField("value \(i)")))])
        }
        let r = try EntryDecryption.decrypt(entries: entries, scale: "OA", keys: try new.ring(new.pkcs1, old.der))
        #expect(r.failures.isEmpty)
        for (i, e) in r.entries.enumerated() { #expect(e["noteRSA"] == .string("value \(i + 1)")) }
    }

    @Test("bad base64 and undecryptable values keep their text and are reported by scale, id, field and keys")
    func partialFailures() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let keys = try DecryptKeyFiles(dir)
        let other = try DecryptKeyFiles(dir, name: "other")
        let bigID: Int64 = 3_000_000_000 // above 2^31
        var entries = try (1...20).map { Self.entry(Int64($0), [("noteRSA", .string(try keys.publicKey.encryptField("ok \($0)")))]) }
        let foreign = try other.publicKey.encryptField("not ours")
        entries.append(Self.entry(bigID, [("noteRSA", .string("%%% not base64 %%%")), ("moodRSA", .string(foreign))]))
        let r = try EntryDecryption.decrypt(entries: entries, scale: "Mood", keys: try keys.ring(keys.pkcs1))
        #expect(r.entries.last?["noteRSA"] == .string("%%% not base64 %%%"))
        #expect(r.entries.last?["moodRSA"] == .string(foreign))
        #expect(r.failures.count == 2)
        #expect(r.failures.map(\.field) == ["noteRSA", "moodRSA"])
        #expect(r.failures.allSatisfy { $0.id == bigID && $0.scale == "Mood" })
        #expect(r.failures[0].reason == "not base64")
        #expect(r.failures[1].keysTried == [keys.pkcs1])
        #expect(r.failures[1].description.contains("id 3000000000"))
    }

    @Test("a plaintext that is not UTF-8 is never turned into \"????\": the ciphertext stays, the reason says why")
    func notUTF8() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let keys = try DecryptKeyFiles(dir)
        let latin1 = Base64.encode(try keys.publicKey.encrypt([0x64, 0xE9, 0x6A, 0xE0])) // "déjà" in Latin-1
        let entries = [Self.entry(1, [("noteRSA", .string(latin1))])]
        let r = try EntryDecryption.decrypt(entries: entries, scale: "OA", keys: try keys.ring(keys.pkcs1))
        #expect(r.entries == entries)
        #expect(r.failures.map(\.reason) == ["decrypted, but the plaintext is not UTF-8"])
    }

    @Test("identical ciphertexts cost one RSA operation; order is the input order")
    func duplicatesAndOrder() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let keys = try DecryptKeyFiles(dir)
        let distinct = try (0..<40).map { try keys.publicKey.encryptField("snapshot \($0)") }
        // A non-deleteable scale: the same rows again and again, plus an extra field named by the caller.
        let entries = (0..<400).map { i in
            Self.entry(Int64(i), [("noteRSA", .string(distinct[i % 40])), ("secret", .string(distinct[(i + 1) % 40]))])
        }
        let session = try DecryptionSession(keys: try keys.ring(keys.pkcs1), extraFields: ["secret"])
        let r = try session.decrypt(entries: entries, scale: "OA")
        #expect(session.decryptedValues == 40)
        for (i, e) in r.entries.enumerated() {
            #expect(e["id"] == .number(String(i)))
            #expect(e["noteRSA"] == .string("snapshot \(i % 40)"))
            #expect(e["secret"] == .string("snapshot \((i + 1) % 40)"))
        }
        // A later batch in the same run reuses what is known.
        _ = try session.decrypt(entries: Array(entries.prefix(50)), scale: "OA")
        #expect(session.decryptedValues == 40)
    }

    @Test("empty input, non-RSA fields and schema drift pass through untouched")
    func passThrough() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let keys = try DecryptKeyFiles(dir)
        let ring = try keys.ring(keys.pkcs1)
        #expect(try EntryDecryption.decrypt(entries: [], scale: "OA", keys: ring).entries.isEmpty)
        let entries: [JSONValue] = [
            .object([("id", .number("1")), ("score", .number("3.10")), ("noteRSA", .null)]),
            .object([("id", .number("2")), ("newField", .array([.string("a"), .bool(true)]))]),
        ]
        let r = try EntryDecryption.decrypt(entries: entries, scale: "OA", keys: ring)
        #expect(r.entries == entries)
        #expect(r.failures.isEmpty)
    }
}
