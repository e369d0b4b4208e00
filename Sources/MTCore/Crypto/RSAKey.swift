import COpenSSL
import Foundation

/// The last OpenSSL error as text, for messages (never containing key material).
func openSSLErrorText() -> String {
    var parts: [String] = []
    while true {
        let e = ERR_get_error()
        if e == 0 { break }
        var buf = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(e, &buf, buf.count)
        parts.append(cText(buf))
    }
    return parts.isEmpty ? "unknown OpenSSL error" : parts.joined(separator: "; ")
}

/// An RSA private key loaded through OpenSSL 3's EVP API: PKCS#1 PEM, PKCS#8 PEM (optionally encrypted), or DER.
public final class RSAPrivateKey: @unchecked Sendable { // safe: OpenSSL 3 allows concurrent use of a key that is not changed
    let pkey: OpaquePointer
    /// Where the key came from, for messages ("key file(s) tried").
    public let source: String

    init(pkey: OpaquePointer, source: String) {
        self.pkey = pkey
        self.source = source
    }

    deinit { EVP_PKEY_free(pkey) }

    public var bits: Int { Int(EVP_PKEY_get_bits(pkey)) }

    /// Loads a key file. A file readable by group or others is refused unless `allowReadable`.
    public static func load(path: String, passphrase: String? = nil, allowReadable: Bool = false) throws -> RSAPrivateKey {
        guard FileSystem.exists(path) else {
            throw MTError(.noInput, "private key \(path) does not exist", hint: "check PRIVATE_FILE in the config or the --key path")
        }
        try FileSystem.checkPrivate(path, what: "private key", allowReadable: allowReadable)
        let bytes = try FileSystem.read(path)
        return try parse(bytes, source: path, passphrase: passphrase)
    }

    public static func parse(_ bytes: [UInt8], source: String, passphrase: String? = nil) throws -> RSAPrivateKey {
        ERR_clear_error()
        let isPEM = bytes.starts(with: Array("-----BEGIN".utf8)) || String(decoding: bytes.prefix(4096), as: UTF8.self).contains("-----BEGIN")
        let encrypted = isPEM && String(decoding: bytes, as: UTF8.self).contains("ENCRYPTED")
        if encrypted && passphrase == nil {
            throw MTError(.config, "private key \(source) is protected by a passphrase",
                          hint: "set MT_KEY_PASSPHRASE, or run on a terminal to be asked for it")
        }
        var pkey: OpaquePointer?
        bytes.withUnsafeBytes { raw in
            if isPEM {
                guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return }
                defer { BIO_free(bio) }
                // With no callback, OpenSSL takes the last argument as the passphrase itself.
                let pass = strdup(passphrase ?? "")
                defer { free(pass) }
                pkey = PEM_read_bio_PrivateKey(bio, nil, nil, pass)
            } else {
                var p: UnsafePointer<UInt8>? = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
                pkey = d2i_AutoPrivateKey(nil, &p, raw.count)
            }
        }
        guard let pkey else {
            let why = openSSLErrorText()
            if encrypted {
                throw MTError(.config, "cannot unlock private key \(source): wrong passphrase? (\(why))")
            }
            throw MTError(.dataError, "\(source) is not a readable private key (\(why))",
                          hint: "mt reads PKCS#1 or PKCS#8 PEM and DER keys, e.g. from: openssl genrsa -out key.pem 2048")
        }
        guard EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA else {
            EVP_PKEY_free(pkey)
            throw MTError(.dataError, "\(source) is not an RSA key")
        }
        return RSAPrivateKey(pkey: pkey, source: source)
    }

    /// Generates a fresh key (simulator and tests).
    public static func generate(bits: Int = 2048) throws -> RSAPrivateKey {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else { throw MTError(.software, openSSLErrorText()) }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer?
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)) == 1,
              EVP_PKEY_generate(ctx, &pkey) == 1, let pkey else {
            throw MTError(.software, "RSA key generation failed: \(openSSLErrorText())")
        }
        return RSAPrivateKey(pkey: pkey, source: "<generated>")
    }

    /// PEM text: PKCS#1 (`BEGIN RSA PRIVATE KEY`, what the original used) or PKCS#8.
    public func pem(pkcs1: Bool = true) throws -> [UInt8] {
        try withMemoryBIO { bio in
            pkcs1 ? PEM_write_bio_PrivateKey_traditional(bio, pkey, nil, nil, 0, nil, nil)
                  : PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil)
        }
    }

    /// The public half, as PEM `BEGIN PUBLIC KEY` (what a study server is configured with).
    public func publicKeyPEM() throws -> [UInt8] {
        try withMemoryBIO { bio in PEM_write_bio_PUBKEY(bio, pkey) }
    }

    public var publicKey: RSAPublicKey { EVP_PKEY_up_ref(pkey); return RSAPublicKey(pkey: pkey) }

    private func withMemoryBIO(_ body: (OpaquePointer) -> Int32) throws -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw MTError(.software, openSSLErrorText()) }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { throw MTError(.software, "cannot write key: \(openSSLErrorText())") }
        var ptr: UnsafeMutablePointer<CChar>?
        let n = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &ptr)
        guard let ptr, n > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: ptr, count: Int(n)))
    }
}

/// An RSA public key: the study server's side, used by mt-sim and tests to encrypt as the server does.
public final class RSAPublicKey: @unchecked Sendable { // safe: OpenSSL 3 allows concurrent use of a key that is not changed
    let pkey: OpaquePointer

    init(pkey: OpaquePointer) { self.pkey = pkey }
    deinit { EVP_PKEY_free(pkey) }

    public static func parse(pem: [UInt8], source: String) throws -> RSAPublicKey {
        ERR_clear_error()
        var key: OpaquePointer?
        pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return }
            defer { BIO_free(bio) }
            key = PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let key else { throw MTError(.dataError, "\(source) is not a PEM public key (\(openSSLErrorText()))") }
        return RSAPublicKey(pkey: key)
    }

    /// RSA PKCS#1 v1.5 encryption, as Java's default "RSA" cipher does on the server.
    public func encrypt(_ plaintext: [UInt8]) throws -> [UInt8] {
        guard let ctx = EVP_PKEY_CTX_new(pkey, nil) else { throw MTError(.software, openSSLErrorText()) }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_encrypt_init(ctx) == 1, EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 else {
            throw MTError(.software, openSSLErrorText())
        }
        var outLen = 0
        guard EVP_PKEY_encrypt(ctx, nil, &outLen, plaintext, plaintext.count) == 1 else {
            throw MTError(.software, openSSLErrorText())
        }
        var out = [UInt8](repeating: 0, count: outLen)
        guard EVP_PKEY_encrypt(ctx, &out, &outLen, plaintext, plaintext.count) == 1 else {
            throw MTError(.dataError, "RSA encryption failed (value too long for the key?): \(openSSLErrorText())")
        }
        return Array(out.prefix(outLen))
    }

    /// Base64 of the encrypted UTF-8 text: what a server stores in a `…RSA` field.
    public func encryptField(_ text: String) throws -> String { Base64.encode(try encrypt(Array(text.utf8))) }
}

/// RSA PKCS#1 v1.5 decryption with one key. Not thread-safe (one OpenSSL context): make one per thread.
public final class RSADecryptor {
    public let key: RSAPrivateKey
    private let ctx: OpaquePointer
    private var out: [UInt8]

    public init(key: RSAPrivateKey) throws {
        self.key = key
        guard let ctx = EVP_PKEY_CTX_new(key.pkey, nil) else { throw MTError(.software, openSSLErrorText()) }
        guard EVP_PKEY_decrypt_init(ctx) == 1, EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 else {
            EVP_PKEY_CTX_free(ctx)
            throw MTError(.software, openSSLErrorText())
        }
        // OpenSSL 3.2+ answers bad padding with random bytes ("implicit rejection"); a wrong key must fail loudly.
        _ = EVP_PKEY_CTX_ctrl_str(ctx, "rsa_pkcs1_implicit_rejection", "0")
        ERR_clear_error()
        self.ctx = ctx
        out = [UInt8](repeating: 0, count: max(Int(EVP_PKEY_get_size(key.pkey)), 16))
    }

    deinit { EVP_PKEY_CTX_free(ctx) }

    /// The plaintext bytes, or nil when this key cannot decrypt the ciphertext.
    public func decrypt(_ ciphertext: [UInt8]) -> [UInt8]? {
        var outLen = out.count
        let rc = ciphertext.withUnsafeBufferPointer { c in
            out.withUnsafeMutableBufferPointer { o in
                EVP_PKEY_decrypt(ctx, o.baseAddress, &outLen, c.baseAddress, c.count)
            }
        }
        guard rc == 1 else { ERR_clear_error(); return nil }
        return Array(out.prefix(outLen))
    }
}
