/// A seeded generator (SplitMix64): the same `--seed` gives the same study, the same fault decisions and the
/// same arrivals, on every platform (the standard library's generator is neither seedable nor stable).
public struct SimRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// An independent stream for one purpose (faults, arrivals), so one purpose never shifts another's numbers.
    public init(seed: UInt64, stream: String) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in stream.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        state = seed ^ h
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `p` (0…1).
    public mutating func chance(_ p: Double) -> Bool {
        if p >= 1 { return true }
        if p <= 0 { return false }
        return Double(next() >> 11) / Double(1 << 53) < p
    }
}
