/// Standard base64 (RFC 4648) as Java's encoder writes it, and nothing else; whitespace inside is ignored
/// (line-wrapped values).
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let b = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((b.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= b.count {
            let n = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)]); out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = b.count - i
        if rest > 0 {
            let n = UInt32(b[i]) << 16 | (rest == 2 ? UInt32(b[i + 1]) << 8 : 0)
            out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes, or returns nil for anything that is not the standard alphabet with its padding: a URL-safe
    /// `-` or `_`, a missing or misplaced `=`, a length that is not a multiple of four, or bits after the last
    /// byte that are not zero (so each byte string has exactly one accepted text). Whitespace is skipped.
    public static func decode(_ s: String) -> [UInt8]? {
        var quad: [UInt8] = []
        quad.reserveCapacity(s.utf8.count)
        for c in s.utf8 where !(c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09) { quad.append(c) }
        guard !quad.isEmpty, quad.count % 4 == 0 else { return nil }
        let padding = quad.last == UInt8(ascii: "=") ? (quad[quad.count - 2] == UInt8(ascii: "=") ? 2 : 1) : 0
        var out: [UInt8] = []
        out.reserveCapacity(quad.count / 4 * 3)
        var i = 0
        while i < quad.count {
            let last = i + 4 == quad.count
            let valid = last ? 4 - padding : 4
            var n: UInt32 = 0
            for k in 0..<4 {
                let v: UInt8
                if k < valid {
                    v = table[Int(quad[i + k])]
                    guard v != 0xFF else { return nil }
                } else {
                    v = 0
                }
                n = n << 6 | UInt32(v)
            }
            out.append(UInt8(n >> 16 & 0xFF))
            if valid >= 3 { out.append(UInt8(n >> 8 & 0xFF)) }
            if valid == 4 { out.append(UInt8(n & 0xFF)) }
            // Bits the padding drops must be zero, or two texts would decode to the same bytes.
            if valid == 3 && n & 0xFF != 0 { return nil }
            if valid == 2 && n & 0xFFFF != 0 { return nil }
            i += 4
        }
        return out
    }
}
