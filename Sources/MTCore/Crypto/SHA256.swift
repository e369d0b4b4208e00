import COpenSSL
import Foundation

/// SHA-256 for the checksum ledger.
public enum SHA256 {
    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let data = Array(bytes)
        var md = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        _ = data.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &md, &len, EVP_sha256(), nil) }
        return md.prefix(Int(len)).map { String(format: "%02x", $0) }.joined()
    }
}
