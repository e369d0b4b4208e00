import CCurl
import COpenSSL
import CZlib

/// The versions of the C libraries as loaded at run time (not the headers mt was compiled against), which is what
/// a bug report needs when Debian has updated libcurl, libssl or zlib under an unchanged mt, as `curl -V` says.
public struct LibraryVersions: Sendable, Equatable {
    public var curl: String
    /// The TLS library libcurl itself uses, as libcurl names it (`OpenSSL/3.0.17`).
    public var curlTLS: String
    public var openssl: String
    public var zlib: String

    public static var loaded: LibraryVersions {
        let info = mt_curl_version_info().pointee
        return LibraryVersions(curl: String(cString: info.version),
                               curlTLS: info.ssl_version.map { String(cString: $0) } ?? "none",
                               openssl: String(cString: OpenSSL_version(numericCast(OPENSSL_VERSION))),
                               zlib: String(cString: zlibVersion()))
    }
}
