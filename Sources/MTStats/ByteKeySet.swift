import Foundation

/// A set of byte strings for counting distinct identities and participants over millions of rows, exactly.
/// Open addressing with linear probing over 24-byte slots: the hash's top 32 bits and the key's length, then
/// the key itself when it fits in 16 bytes (ids, "1234\u{1F}SESSION1\u{1F}"), else its offset in an arena and
/// its first 8 bytes. A probe thus reads one slot and, for short keys, nothing else: counting is bound by
/// cache misses, and this keeps them to about one per row.
struct ByteKeySet {
    /// Three words per slot: [tag << 32 | length << 1 | 1, word1, word2]; a zero first word is an empty slot.
    private var slots: [UInt64] = [UInt64](repeating: 0, count: 3 * 1024)
    private var capacity = 1024
    /// Keys longer than 16 bytes, back to back.
    private var arena: [UInt8] = []
    private(set) var count = 0

    /// Inserts the bytes; true when they were new.
    @discardableResult
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let h = Self.hash(key)
        let head = (h & 0xFFFF_FFFF_0000_0000) | UInt64(key.count) << 1 | 1
        let (w1, w2) = Self.pack(key)
        let long = key.count > 16
        let mask = capacity - 1
        var i = Int(truncatingIfNeeded: h) & mask
        let found: Bool = slots.withUnsafeBufferPointer { sl in
            while true {
                let b = 3 * i
                let s0 = sl[b]
                if s0 == 0 { return false }
                if s0 == head {
                    if !long {
                        if sl[b + 1] == w1 && sl[b + 2] == w2 { return true }
                    } else if sl[b + 2] == w1 && arenaEquals(Int(sl[b + 1]), key) {
                        return true
                    }
                }
                i = (i + 1) & mask
            }
        }
        if found { return false }
        let b = 3 * i
        slots[b] = head
        if long {
            slots[b + 1] = UInt64(arena.count)
            slots[b + 2] = w1
            arena.append(contentsOf: key)
        } else {
            slots[b + 1] = w1
            slots[b + 2] = w2
        }
        count += 1
        if count * 4 > capacity * 3 { grow() }
        return true
    }

    /// The first 16 bytes as two little-endian words, zero-padded.
    @inline(__always)
    private static func pack(_ key: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64) {
        var words: (UInt64, UInt64) = (0, 0)
        let n = min(key.count, 16)
        if n > 0 {
            withUnsafeMutableBytes(of: &words) { $0.baseAddress!.copyMemory(from: key.baseAddress!, byteCount: n) }
        }
        return (words.0.littleEndian, words.1.littleEndian)
    }

    private func arenaEquals(_ offset: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        arena.withUnsafeBufferPointer { buf in
            memcmp(buf.baseAddress! + offset, key.baseAddress!, key.count) == 0
        }
    }

    /// Doubles the table, rehashing every key from its slot or the arena.
    private mutating func grow() {
        let old = slots
        capacity *= 2
        slots = [UInt64](repeating: 0, count: 3 * capacity)
        let mask = capacity - 1
        var bytes = [UInt8](repeating: 0, count: 16)
        arena.withUnsafeBufferPointer { a in
            for k in 0..<(old.count / 3) where old[3 * k] != 0 {
                let head = old[3 * k], w1 = old[3 * k + 1], w2 = old[3 * k + 2]
                let n = Int((head & 0xFFFF_FFFF) >> 1)
                let h: UInt64
                if n > 16 {
                    h = Self.hash(UnsafeBufferPointer(rebasing: a[Int(w1)..<Int(w1) + n]))
                } else {
                    withUnsafeBytes(of: (w1.littleEndian, w2.littleEndian)) { raw in
                        for x in 0..<n { bytes[x] = raw[x] }
                    }
                    h = bytes.withUnsafeBufferPointer { Self.hash(UnsafeBufferPointer(rebasing: $0[0..<n])) }
                }
                var i = Int(truncatingIfNeeded: h) & mask
                while slots[3 * i] != 0 { i = (i + 1) & mask }
                slots[3 * i] = head
                slots[3 * i + 1] = w1
                slots[3 * i + 2] = w2
            }
        }
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
/// The reader hands over batches of identity keys, each with the length of its participant prefix; an empty
/// participant is not counted.
final class DistinctCounter: @unchecked Sendable { // safe: queue, closed, finished and counts are used under `condition` only
    struct Batch {
        /// Identity keys back to back; each begins with its participant.
        var bytes: [UInt8] = []
        /// Per row: the key's end in `bytes` << 32 | the participant's length.
        var marks: [UInt64] = []
        var rows: Int { marks.count }

        mutating func add(identity: [UInt8], participantLength: Int) {
            bytes.append(contentsOf: identity)
            marks.append(UInt64(bytes.count) << 32 | UInt64(participantLength))
        }
    }

    static let batchRows = 8192
    private let condition = NSCondition()
    private var queue: [Batch] = []
    private var closed = false
    private var finished = false
    /// Written by the counting thread when it ends, read after `finish` saw it end.
    private var counts = (participants: 0, identities: 0)

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
        return counts
    }

    private func run() {
        // The sets are this thread's locals: no shared access to check on every insert.
        var participants = ByteKeySet()
        var identities = ByteKeySet()
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty {
                counts = (participants.count, identities.count)
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
                for m in batch.marks {
                    let end = Int(m >> 32), length = Int(m & 0xFFFF_FFFF)
                    if length > 0 { participants.insert(UnsafeBufferPointer(rebasing: buf[start..<start + length])) }
                    identities.insert(UnsafeBufferPointer(rebasing: buf[start..<end]))
                    start = end
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
        for k in keys.indices where keys[k].count == b.count
            && (b.count == 0 || keys[k].withUnsafeBufferPointer({ memcmp($0.baseAddress!, b.baseAddress!, b.count) }) == 0) {
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
