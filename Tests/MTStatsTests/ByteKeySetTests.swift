@testable import MTStats
import Testing

/// The summary's exact distinct counting against Swift's own Set, over keys of every length class (empty,
/// inline up to 16 bytes, arena beyond) and through several doublings of the table.
@Suite struct ByteKeySetTests {
    @Test func countsExactlyLikeASet() {
        var rng = SystemRandomNumberGenerator()
        var ours = ByteKeySet()
        var reference = Set<[UInt8]>()
        for _ in 0..<60_000 {
            let length = [0, 1, 7, 8, 15, 16, 17, 24, 40][Int.random(in: 0..<9, using: &rng)]
            // A small alphabet so that many keys repeat.
            let key = (0..<length).map { _ in UInt8.random(in: 48...50, using: &rng) }
            let new = key.withUnsafeBufferPointer { ours.insert($0) }
            #expect(new == reference.insert(key).inserted)
        }
        #expect(ours.count == reference.count)
        #expect(ours.count > 10_000)
    }

    @Test func keysDifferingOnlyInLengthOrTailAreDistinct() {
        var set = ByteKeySet()
        for k in [[], [0], [0, 0], Array(repeating: UInt8(0), count: 16), Array(repeating: UInt8(0), count: 17),
                  Array(repeating: UInt8(0), count: 16) + [1], Array(repeating: UInt8(0), count: 17)] as [[UInt8]] {
            _ = k.withUnsafeBufferPointer { set.insert($0) }
        }
        #expect(set.count == 6)
    }
}
