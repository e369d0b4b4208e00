import Foundation

/// The lab's private keys, newest first; after a key rotation old keys still open old values.
/// Each value is tried with the key that worked last first.
public final class KeyRing: @unchecked Sendable {
    public let keys: [RSAPrivateKey]

    public init(keys: [RSAPrivateKey]) { self.keys = keys }

    /// Loads key files. The passphrase of protected PEM files comes from `MT_KEY_PASSPHRASE`.
    public static func load(paths: [String], environment: [String: String], allowReadable: Bool) throws -> KeyRing {
        guard !paths.isEmpty else {
            throw MTError(.config, "no private key given", hint: "pass --key PEM or set PRIVATE_FILE in the server's block")
        }
        let pass = environment["MT_KEY_PASSPHRASE"]
        return KeyRing(keys: try paths.map { try RSAPrivateKey.load(path: $0, passphrase: pass, allowReadable: allowReadable) })
    }

    public var sources: [String] { keys.map(\.source) }
}

/// A value that could not be decrypted; its ciphertext stays in the output.
public struct DecryptionFailure: Sendable, Equatable, CustomStringConvertible {
    public var scale: String
    public var id: Int64?
    public var field: String
    public var reason: String
    public var keysTried: [String]

    public var description: String {
        "scale \(scale), id \(id.map(String.init) ?? "?"), field \(field): \(reason) (keys tried: \(keysTried.joined(separator: ", ")))"
    }
}

/// Decrypts the `…RSA` fields (plus any named extra fields) of server entries.
public enum EntryDecryption {
    public struct Result: Sendable {
        public var entries: [JSONValue]
        public var failures: [DecryptionFailure]
    }

    public static func isEncryptedField(_ name: String, extra: Set<String>) -> Bool {
        name.hasSuffix("RSA") || extra.contains(name)
    }

    /// Every encrypted string field decrypted to UTF-8; failures keep their ciphertext and are listed.
    /// Throws `.dataError` when the first entries' values all fail: the key does not match the server's.
    public static func decrypt(entries: [JSONValue], scale: String, keys: KeyRing,
                               extraFields: Set<String> = []) throws -> Result {
        var decryptors = try keys.keys.map(RSADecryptor.init)
        var failures: [DecryptionFailure] = []
        var successes = 0
        var out: [JSONValue] = []
        out.reserveCapacity(entries.count)
        for entry in entries {
            guard let fields = entry.objectFields else { out.append(entry); continue }
            let id = entry["id"]?.int64Value
            var newFields = fields
            for (i, (name, value)) in fields.enumerated() where isEncryptedField(name, extra: extraFields) {
                guard case .string(let text) = value, !text.isEmpty else { continue }
                guard let cipher = Base64.decode(text) else {
                    failures.append(DecryptionFailure(scale: scale, id: id, field: name, reason: "not base64", keysTried: []))
                    continue
                }
                var plain: String?
                for (k, d) in decryptors.enumerated() {
                    if let bytes = d.decrypt(cipher), let s = String(validating: bytes, as: UTF8.self) {
                        plain = s
                        if k > 0 { decryptors.swapAt(0, k) }
                        break
                    }
                }
                if let plain {
                    newFields[i].1 = .string(plain)
                    successes += 1
                } else {
                    failures.append(DecryptionFailure(scale: scale, id: id, field: name,
                                                      reason: "no key could decrypt it", keysTried: keys.sources))
                }
            }
            out.append(.object(newFields))
            if successes == 0 && failures.count >= 10 && failures.count == out.count {
                throw keyMismatch(scale: scale, keys: keys)
            }
        }
        return Result(entries: out, failures: failures)
    }

    static func keyMismatch(scale: String, keys: KeyRing) -> MTError {
        MTError(.dataError, "scale \(scale): the first values all failed to decrypt with \(keys.sources.joined(separator: ", "))",
                hint: "the key does not match the server's public key; check PRIVATE_FILE or --key")
    }
}
