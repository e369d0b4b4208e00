import COpenSSL
import Foundation

/// SHA-256 for the checksum ledger, the written set's content hashes and the "same answer as last time" check.
public enum SHA256 {
    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        hex(digest: digest(bytes))
    }

    public static func digest<C: Collection>(_ bytes: C) -> [UInt8] {
        let data = bytes.withContiguousStorageIfAvailable { Array($0) } ?? Array(bytes)
        var md = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        _ = data.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &md, &len, EVP_sha256(), nil) }
        return Array(md.prefix(Int(len)))
    }

    /// The first 8 bytes of the digest, big-endian: the number whose hex is the digest's first 16 hex digits.
    public static func prefix64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { md in
            var len: UInt32 = 0
            EVP_Digest(bytes.baseAddress, bytes.count, md.baseAddress, &len, EVP_sha256(), nil)
            return md.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }
    }

    /// Lower-case hex of a digest. By table, not `String(format:)`: the written set hashes every entry of an answer.
    public static func hex(digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(digest.count * 2)
        for b in digest { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// A digest fed piece by piece: an answer or an archive is hashed as it streams, never held whole.
    public final class Stream {
        private let context: OpaquePointer

        public init() throws {
            guard let c = EVP_MD_CTX_new() else { throw MTError(.software, "OpenSSL could not allocate a SHA-256 digest") }
            guard EVP_DigestInit_ex(c, EVP_sha256(), nil) == 1 else {
                EVP_MD_CTX_free(c)
                throw MTError(.software, "OpenSSL could not start a SHA-256 digest")
            }
            context = c
        }

        deinit { EVP_MD_CTX_free(context) }

        public func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            EVP_DigestUpdate(context, base, bytes.count)
        }

        /// The digest as lower-case hex; the stream is spent afterwards.
        public func finish() -> String {
            var md = [UInt8](repeating: 0, count: 32)
            var len: UInt32 = 0
            EVP_DigestFinal_ex(context, &md, &len)
            return SHA256.hex(digest: Array(md.prefix(Int(len))))
        }
    }
}
