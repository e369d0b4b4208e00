import COpenSSL
import MTCore

/// A throw-away TLS identity for `--tls`: an RSA key and a self-signed certificate for 127.0.0.1, ::1 and
/// localhost, made at start so that tests can pass the certificate to `--cacert` / CA_FILE.
public struct SelfSignedCertificate: Sendable {
    public var certificatePEM: [UInt8]
    public var privateKeyPEM: [UInt8]

    public static func make(days: Int = 30) throws -> SelfSignedCertificate {
        ERR_clear_error()
        guard let kctx = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else { throw failure("key context") }
        defer { EVP_PKEY_CTX_free(kctx) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(kctx) == 1, EVP_PKEY_CTX_set_rsa_keygen_bits(kctx, 2048) == 1,
              EVP_PKEY_generate(kctx, &key) == 1, let key else { throw failure("key generation") }
        defer { EVP_PKEY_free(key) }
        guard let x = X509_new() else { throw failure("certificate allocation") }
        defer { X509_free(x) }
        var serial = [UInt8](repeating: 0, count: 8)
        guard RAND_bytes(&serial, 8) == 1 else { throw failure("serial number") }
        let serialNumber = serial.prefix(7).reduce(0) { $0 << 8 | Int($1) }
        guard X509_set_version(x, 2) == 1, ASN1_INTEGER_set(X509_get_serialNumber(x), serialNumber) == 1,
              X509_gmtime_adj(X509_getm_notBefore(x), -3_600) != nil,
              X509_gmtime_adj(X509_getm_notAfter(x), days * 86_400) != nil,
              X509_set_pubkey(x, key) == 1 else { throw failure("certificate fields") }
        let name = X509_get_subject_name(x)
        // 0x1001 is MBSTRING_ASC, a macro Swift cannot import.
        guard X509_NAME_add_entry_by_txt(name, "CN", 0x1001, "mt-sim", -1, -1, 0) == 1,
              X509_set_issuer_name(x, name) == 1 else { throw failure("certificate name") }
        // DER by hand (x509v3.h is not part of the OpenSSL shim): CA:TRUE, so that the certificate is its own
        // trust anchor, and subjectAltName IP:127.0.0.1, IP:::1, DNS:localhost, which hostname checks need.
        let loopback6: [UInt8] = Array(repeating: 0, count: 15) + [1]
        let names: [UInt8] = [0x87, 4, 127, 0, 0, 1] + [0x87, 16] + loopback6 + [0x82, 9] + Array("localhost".utf8)
        try addExtension(x, nid: NID_basic_constraints, critical: true, der: [0x30, 0x03, 0x01, 0x01, 0xFF])
        try addExtension(x, nid: NID_subject_alt_name, critical: false, der: [0x30, UInt8(names.count)] + names)
        guard X509_sign(x, key, EVP_sha256()) > 0 else { throw failure("signing") }
        let cert = try pem { PEM_write_bio_X509($0, x) }
        let keyPEM = try pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
        return SelfSignedCertificate(certificatePEM: cert, privateKeyPEM: keyPEM)
    }

    private static func addExtension(_ x: OpaquePointer, nid: Int32, critical: Bool, der: [UInt8]) throws {
        guard let data = ASN1_OCTET_STRING_new() else { throw failure("extension") }
        defer { ASN1_OCTET_STRING_free(data) }
        guard ASN1_OCTET_STRING_set(data, der, Int32(der.count)) == 1,
              let ext = X509_EXTENSION_create_by_NID(nil, nid, critical ? 1 : 0, data) else { throw failure("extension") }
        defer { X509_EXTENSION_free(ext) }
        guard X509_add_ext(x, ext, -1) == 1 else { throw failure("extension") }
    }

    private static func pem(_ write: (OpaquePointer) -> Int32) throws -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw failure("memory BIO") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw failure("PEM output") }
        var ptr: UnsafeMutablePointer<CChar>?
        let n = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &ptr)
        guard let ptr, n > 0 else { throw failure("PEM output") }
        return Array(UnsafeRawBufferPointer(start: ptr, count: Int(n)))
    }

    private static func failure(_ step: String) -> MTError {
        var parts: [String] = []
        while case let e = ERR_get_error(), e != 0 {
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(e, &buf, buf.count)
            parts.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return MTError(.software, "cannot make the self-signed TLS certificate (\(step)): \(parts.isEmpty ? "unknown OpenSSL error" : parts.joined(separator: "; "))")
    }
}
