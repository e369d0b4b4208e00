import MTCore

/// The decryption of one scale's new entries, batch after batch, with one `DecryptionSession`: its key probe runs
/// once (a key that matches nothing stops the scale at the first batch, before any row is written) and repeated
/// ciphertexts cost one RSA operation per run. Every failure reaches DEBUG.log; the console and error.log get the
/// scale's first 20 and a count.
struct CSVDecryptor {
    static let shown = 20
    private let session: DecryptionSession
    private let scale: String
    private let log: Logger
    private var failures = 0

    init(keys: KeyRing, scale: String, log: Logger) throws {
        session = try DecryptionSession(keys: keys)
        self.scale = scale
        self.log = log
    }

    mutating func decrypt(_ entries: [JSONValue], outcome: inout ScaleOutcome) throws -> [JSONValue] {
        let r = try session.decrypt(entries: entries, scale: scale)
        for f in r.failures {
            if failures < Self.shown { log.error("could not decrypt \(f); the ciphertext is kept in the CSV") } else { log.debug("could not decrypt \(f)") }
            failures += 1
        }
        if !r.failures.isEmpty { outcome.exit = max(outcome.exit, .problems) }
        return r.entries
    }

    /// After the last batch: a scale whose few values all failed is a key mismatch too.
    mutating func finish(outcome: inout ScaleOutcome) throws {
        if failures > Self.shown { log.error("… and \(failures - Self.shown) more values that could not be decrypted (all listed in DEBUG.log)") }
        try session.finish(scale: scale)
    }
}
