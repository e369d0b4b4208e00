import Foundation

/// The lab's private keys, newest first; after a key rotation old keys still open old values.
/// Each value is tried with the key that worked last first.
public final class KeyRing: @unchecked Sendable { // safe: immutable after init (an array of Sendable keys)
    public let keys: [RSAPrivateKey]

    public init(keys: [RSAPrivateKey]) { self.keys = keys }

    /// Loads key files. The passphrase of protected PEM files is `passphrase` (a server's KEY_PASSPHRASE_FILE),
    /// else `MT_KEY_PASSPHRASE`, or, when `prompt` is true and a terminal is attached, from a question asked
    /// there without echo.
    public static func load(paths: [String], passphrase: Secret? = nil, environment: [String: String],
                            allowReadable: Bool, prompt: Bool = false) throws -> KeyRing {
        guard !paths.isEmpty else {
            throw MTError(.config, "no private key given", hint: "pass --key PEM or set PRIVATE_FILE in the server's block")
        }
        var pass = passphrase?.reveal ?? environment["MT_KEY_PASSPHRASE"]
        var keys: [RSAPrivateKey] = []
        for path in paths {
            if pass == nil, prompt, Passphrase.isProtected(path: path) {
                pass = try Passphrase.ask("passphrase for \(path): ")
            }
            keys.append(try RSAPrivateKey.load(path: path, passphrase: pass, allowReadable: allowReadable))
        }
        return KeyRing(keys: keys)
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

    /// Every encrypted string field decrypted to UTF-8, in parallel on all cores, entries in their input order;
    /// failures keep their ciphertext and are listed. Throws `.dataError` when the first values all fail: the key
    /// does not match the server's. For many batches in one run, use a `DecryptionSession`.
    public static func decrypt(entries: [JSONValue], scale: String, keys: KeyRing,
                               extraFields: Set<String> = []) throws -> Result {
        let session = try DecryptionSession(keys: keys, extraFields: extraFields)
        let result = try session.decrypt(entries: entries, scale: scale)
        try session.finish(scale: scale)
        return result
    }

    public static func keyMismatch(scale: String, keys: KeyRing, failed: Int) -> MTError {
        MTError(.dataError, "scale \(scale): the first \(failed) value(s) all failed to decrypt with \(keys.sources.joined(separator: ", ")); stopped",
                hint: "the key does not match the server's public key; check PRIVATE_FILE or --key (after a key rotation give every key)")
    }
}
