import Foundation

/// A set of byte strings for counting distinct identities and participants over millions of rows: keys live
/// in one arena, each behind a length prefix (no allocation per key); open addressing with linear probing;
/// exact comparison of bytes. A slot holds the hash's top 24 bits and the key's arena offset, so a probe reads
/// one slot and, only when the tags agree, the key itself: counting is bound by cache misses, not by hashing.
struct ByteKeySet {
    private var arena: [UInt8] = []
    /// Per slot: arena offset + 1 in the low 40 bits (0 is empty), the hash's top 24 bits above.
    private var slots: [UInt64] = [UInt64](repeating: 0, count: 1024)
    private(set) var count = 0

    private static let offsetMask: UInt64 = (1 << 40) - 1

    /// Inserts the bytes; true when they were new.
    @discardableResult
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let h = Self.hash(key)
        let tag = h & ~Self.offsetMask
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s == 0 { break }
            if s & ~Self.offsetMask == tag && equal(Int(s & Self.offsetMask) - 1, key) { return false }
            i = (i + 1) & mask
        }
        slots[i] = tag | UInt64(arena.count + 1)
        if key.count < 255 {
            arena.append(UInt8(key.count))
        } else {
            arena.append(255)
            withUnsafeBytes(of: UInt32(key.count).littleEndian) { arena.append(contentsOf: $0) }
        }
        arena.append(contentsOf: key)
        count += 1
        if count * 4 > slots.count * 3 { grow() }
        return true
    }

    /// The key stored at `offset`: where its bytes start and how many.
    @inline(__always)
    private static func entry(_ a: UnsafeBufferPointer<UInt8>, _ offset: Int) -> (start: Int, count: Int) {
        let n = Int(a[offset])
        if n < 255 { return (offset + 1, n) }
        var len: UInt32 = 0
        for k in 0..<4 { len |= UInt32(a[offset + 1 + k]) << (8 * UInt32(k)) }
        return (offset + 5, Int(len))
    }

    private func equal(_ offset: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        arena.withUnsafeBufferPointer { buf in
            let (start, n) = Self.entry(buf, offset)
            guard n == key.count else { return false }
            if n == 0 { return true }
            // Short keys: a word-wise loop beats calling memcmp.
            let x = UnsafeRawPointer(buf.baseAddress! + start), y = UnsafeRawPointer(key.baseAddress!)
            var i = 0
            while i + 8 <= n {
                if x.loadUnaligned(fromByteOffset: i, as: UInt64.self) != y.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
                i += 8
            }
            while i < n {
                if x.load(fromByteOffset: i, as: UInt8.self) != y.load(fromByteOffset: i, as: UInt8.self) { return false }
                i += 1
            }
            return true
        }
    }

    /// Doubles the table, rehashing the keys from the arena (no stored hashes: less memory per key).
    private mutating func grow() {
        var bigger = [UInt64](repeating: 0, count: slots.count * 2)
        let mask = bigger.count - 1
        arena.withUnsafeBufferPointer { buf in
            var offset = 0
            while offset < buf.count {
                let (start, n) = Self.entry(buf, offset)
                let h = Self.hash(UnsafeBufferPointer(rebasing: buf[start..<start + n]))
                var i = Int(truncatingIfNeeded: h) & mask
                while bigger[i] != 0 { i = (i + 1) & mask }
                bigger[i] = (h & ~Self.offsetMask) | UInt64(offset + 1)
                offset = start + n
            }
        }
        slots = bigger
    }

    /// 64-bit multiply-mix over 8-byte words; well spread for short keys such as ids and sessions.
    @inline(__always)
    static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(b.count)
        var i = 0
        let n = b.count
        let raw = UnsafeRawBufferPointer(b)
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n { tail |= UInt64(b[i]) << shift; shift += 8; i += 1 }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }
}

/// Counts distinct participants and identities on a second thread while the reading thread parses and checks
/// cells: hashing millions of keys is memory-bound, parsing is not, so the two overlap well on two cores.
/// The reader hands over batches of (participant, identity) byte pairs; an empty participant is not counted.
final class DistinctCounter: @unchecked Sendable {
    struct Batch {
        var bytes: [UInt8] = []
        /// Per row two ends in `bytes`: the participant's, then the identity's.
        var ends: [Int] = []
        var rows: Int { ends.count / 2 }

        mutating func add(participant: UnsafeBufferPointer<UInt8>, identity: [UInt8]) {
            bytes.append(contentsOf: participant)
            ends.append(bytes.count)
            bytes.append(contentsOf: identity)
            ends.append(bytes.count)
        }
    }

    static let batchRows = 8192
    private let condition = NSCondition()
    private var queue: [Batch] = []
    private var closed = false
    private var finished = false
    private var participants = ByteKeySet()
    private var identities = ByteKeySet()

    init() {
        Thread { [self] in run() }.start()
    }

    func submit(_ batch: Batch) {
        condition.lock()
        while queue.count >= 4 { condition.wait() }
        queue.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the queue to drain; (distinct participants, distinct identities).
    func finish() -> (participants: Int, identities: Int) {
        condition.lock()
        closed = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
        return (participants.count, identities.count)
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue.removeFirst()
            condition.broadcast()
            condition.unlock()
            batch.bytes.withUnsafeBufferPointer { buf in
                var start = 0
                for r in 0..<batch.rows {
                    let pEnd = batch.ends[2 * r], kEnd = batch.ends[2 * r + 1]
                    if pEnd > start { participants.insert(UnsafeBufferPointer(rebasing: buf[start..<pEnd])) }
                    identities.insert(UnsafeBufferPointer(rebasing: buf[pEnd..<kEnd]))
                    start = kEnd
                }
            }
        }
    }
}

/// Rows per value of a column with few distinct values (sessions): a linear scan of byte strings is cheaper
/// than hashing a String per row; past 64 values it falls back to a dictionary.
struct ValueTally {
    private var keys: [[UInt8]] = []
    private var counts: [Int] = []
    private var overflow: [String: Int] = [:]
    /// Values in order of first appearance.
    private(set) var order: [String] = []

    @inline(__always)
    mutating func add(_ b: UnsafeBufferPointer<UInt8>) {
        for k in keys.indices where keys[k].count == b.count && keys[k].withUnsafeBufferPointer({ $0.elementsEqual(b) }) {
            counts[k] += 1
            return
        }
        let s = String(decoding: b, as: UTF8.self)
        if keys.count < 64 {
            keys.append(Array(b))
            counts.append(1)
            order.append(s)
        } else {
            if overflow[s] == nil { order.append(s) }
            overflow[s, default: 0] += 1
        }
    }

    func count(_ value: String) -> Int? {
        if let k = keys.firstIndex(of: Array(value.utf8)) { return counts[k] }
        return overflow[value]
    }
}
