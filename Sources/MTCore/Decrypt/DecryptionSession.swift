import Foundation

/// Decrypts the encrypted fields of many batches of entries in one run (an export, a recovery, a file).
///
/// - Every core works: unique ciphertexts are split into chunks decrypted concurrently, each worker with its own
///   OpenSSL contexts; results are written back by position, so output order never depends on scheduling.
/// - Identical ciphertexts cost one RSA operation per run: within a batch they are decrypted once, and plaintexts
///   of earlier batches are remembered in memory (never on disk) up to `cacheLimit` values.
/// - Each value is tried first with the key that worked last (key rotation: old archives, old key).
/// - The first values of the run are decrypted before the rest: when `probeSize` of them in a row all fail,
///   the key does not match and the run stops at once instead of trying every value with every key.
///
/// One session is used from one thread at a time; it parallelises internally.
public final class DecryptionSession {
    public let keys: KeyRing
    public let extraFields: Set<String>
    public let workers: Int
    public let cacheLimit: Int
    public let probeSize: Int

    private var preferredKey = 0
    private var anySuccess = false
    private var failedBeforeSuccess = 0
    private var cache: [String: String] = [:]
    /// RSA values decrypted so far (each unique ciphertext once), for statistics.
    public private(set) var decryptedValues = 0

    public init(keys: KeyRing, extraFields: Set<String> = [],
                workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                cacheLimit: Int = 100_000, probeSize: Int = 10) throws {
        guard !keys.keys.isEmpty else {
            throw MTError(.config, "no private key given", hint: "pass --key PEM or set PRIVATE_FILE in the server's block")
        }
        self.keys = keys
        self.extraFields = extraFields
        self.workers = max(1, workers)
        self.cacheLimit = cacheLimit
        self.probeSize = max(1, probeSize)
    }

    /// Decrypts one batch; entries come back in their order, failures keep their ciphertext and are listed in
    /// entry order. Throws `.dataError` as soon as the first values of the run all fail (wrong key).
    public func decrypt(entries: [JSONValue], scale: String) throws -> EntryDecryption.Result {
        // Where each encrypted value sits, and the distinct ciphertexts not already known.
        var slots: [(entry: Int, field: Int, unique: Int)] = []
        var uniqueIndex: [String: Int] = [:]
        var uniques: [String] = []
        var known: [Int: String] = [:] // slot number → plaintext from an earlier batch
        for (e, entry) in entries.enumerated() {
            guard let fields = entry.objectFields else { continue }
            for (f, (name, value)) in fields.enumerated() where EntryDecryption.isEncryptedField(name, extra: extraFields) {
                guard case .string(let text) = value, !text.isEmpty else { continue }
                if let plain = cache[text] {
                    known[slots.count] = plain
                    slots.append((e, f, -1))
                    continue
                }
                let u: Int
                if let seen = uniqueIndex[text] { u = seen } else {
                    u = uniques.count
                    uniqueIndex[text] = u
                    uniques.append(text)
                }
                slots.append((e, f, u))
            }
        }
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(uniques.count)

        // The probe: the run's first values, before any work on the rest.
        var next = 0
        while !anySuccess && next < uniques.count {
            let end = min(uniques.count, next + max(1, probeSize - failedBeforeSuccess))
            outcomes += run(uniques, next..<end)
            for i in next..<end {
                switch outcomes[i] {
                // Bytes that are not UTF-8 still passed the padding check: the key matches, the value is odd.
                case .plain, .notUTF8: anySuccess = true
                case .failed: failedBeforeSuccess += 1
                case .notBase64: break
                }
            }
            next = end
            if !anySuccess && failedBeforeSuccess >= probeSize {
                throw EntryDecryption.keyMismatch(scale: scale, keys: keys, failed: failedBeforeSuccess)
            }
        }
        // Fewer values than the probe, every one refused: the key does not match, and this batch must not become
        // rows of ciphertext (and DELETEs) before the run's end says so.
        if !anySuccess && failedBeforeSuccess > 0 {
            throw EntryDecryption.keyMismatch(scale: scale, keys: keys, failed: failedBeforeSuccess)
        }
        outcomes += run(uniques, next..<uniques.count)
        decryptedValues += uniques.count

        // Assemble in input order.
        var out = entries
        var failures: [DecryptionFailure] = []
        var fieldsOf: [Int: [(String, JSONValue)]] = [:]
        var lastKey: Int?
        for (s, slot) in slots.enumerated() {
            let plain: String?
            var reason = "no key could decrypt it"
            if slot.unique < 0 {
                plain = known[s]
            } else {
                switch outcomes[slot.unique] {
                case .plain(let p, let k): plain = p; lastKey = k
                case .failed: plain = nil
                case .notBase64: plain = nil; reason = "not base64"
                case .notUTF8: plain = nil; reason = "decrypted, but the plaintext is not UTF-8"
                }
            }
            var fields = fieldsOf[slot.entry] ?? entries[slot.entry].objectFields ?? []
            if let plain {
                fields[slot.field].1 = .string(plain)
                fieldsOf[slot.entry] = fields
            } else {
                failures.append(DecryptionFailure(scale: scale, id: entries[slot.entry]["id"]?.int64Value,
                                                  field: fields[slot.field].0, reason: reason,
                                                  keysTried: reason == "not base64" ? [] : keys.sources))
            }
        }
        for (e, fields) in fieldsOf { out[e] = .object(fields) }
        if let lastKey { preferredKey = lastKey }
        remember(uniques, outcomes)
        return EntryDecryption.Result(entries: out, failures: failures)
    }

    /// Call after the last batch: a run whose few values all failed (fewer than the probe) is a key mismatch too.
    public func finish(scale: String) throws {
        if !anySuccess && failedBeforeSuccess > 0 {
            throw EntryDecryption.keyMismatch(scale: scale, keys: keys, failed: failedBeforeSuccess)
        }
    }

    /// Decrypts one base64 value with the key ring, the preferred key first: plaintext, or nil with a reason.
    public func decryptValue(_ text: String) -> (plain: String?, reason: String) {
        switch run([text], 0..<1)[0] {
        case .plain(let p, _): anySuccess = true; return (p, "")
        case .failed: failedBeforeSuccess += anySuccess ? 0 : 1; return (nil, "no key could decrypt it")
        case .notBase64: return (nil, "not base64")
        case .notUTF8: anySuccess = true; return (nil, "decrypted, but the plaintext is not UTF-8")
        }
    }

    private func remember(_ uniques: [String], _ outcomes: [Outcome]) {
        guard cacheLimit > 0 else { return }
        for (i, text) in uniques.enumerated() {
            guard case .plain(let p, _) = outcomes[i] else { continue }
            if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[text] = p
        }
    }

    /// Decrypts `uniques[range]`, spread over the workers in chunks (small enough to balance a busy machine, large
    /// enough that each chunk's OpenSSL contexts cost nothing next to its RSA operations); outcomes in order.
    private func run(_ uniques: [String], _ range: Range<Int>) -> [Outcome] {
        guard !range.isEmpty else { return [] }
        let chunk = max(4, min(128, range.count / (workers * 8)))
        let chunks = (range.count + chunk - 1) / chunk
        let keys = self.keys.keys
        let first = preferredKey
        return WorkerPool(workers: workers).map(chunks) { c in
            var decryptors: [RSADecryptor?] = Array(repeating: nil, count: keys.count)
            var preferred = first
            var outcomes: [Outcome] = []
            let lo = range.lowerBound + c * chunk
            for i in lo..<min(range.upperBound, lo + chunk) {
                guard let cipher = Base64.decode(uniques[i]) else { outcomes.append(.notBase64); continue }
                var result = Outcome.failed
                for step in 0..<keys.count {
                    let k = (preferred + step) % keys.count
                    if decryptors[k] == nil { decryptors[k] = try? RSADecryptor(key: keys[k]) }
                    guard let bytes = decryptors[k]?.decrypt(cipher) else { continue }
                    guard let text = String(validating: bytes, as: UTF8.self) else { result = .notUTF8; continue }
                    result = .plain(text, k)
                    preferred = k
                    break
                }
                outcomes.append(result)
            }
            return outcomes
        }.flatMap { $0 }
    }
}

enum Outcome: Sendable {
    case plain(String, Int)
    case failed
    case notBase64
    case notUTF8
}
