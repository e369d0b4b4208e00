import Foundation
import CBuildInfo
import MTCore

/// `mt --version` (and `--json`): mt's version from VERSION, the commit and Swift compiler it was built with, and
/// the libraries in use, so that a bug report says exactly what ran.
struct VersionReport: Equatable {
    var version: String
    /// nil when the build could not tell (a plain `swift build` of a tree without git or a `make dist` stamp).
    var commit: String?
    var swift: String
    var libraries: LibraryVersions

    static var current: VersionReport {
        let commit = String(cString: mt_build_commit())
        let swift = String(cString: mt_build_swift())
        return VersionReport(version: String(cString: mt_build_version()).trimmingCharacters(in: .whitespacesAndNewlines),
                             commit: commit.isEmpty ? nil : commit,
                             swift: swift.isEmpty ? compilerFamily : swift,
                             libraries: .loaded)
    }

    /// Without make's record of `swift --version`, the compiler's own conditions still give its release family.
    static var compilerFamily: String {
        #if compiler(>=6.4)
        return "6.4 or later"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }

    var text: String {
        """
        mt \(version)
        commit: \(commit ?? "unknown")
        Swift: \(swift)
        libcurl: \(libraries.curl) (\(libraries.curlTLS))
        OpenSSL: \(libraries.openssl)
        zlib: \(libraries.zlib)
        """
    }

    var json: JSONValue {
        .object([
            ("version", .string(version)),
            ("commit", commit.map(JSONValue.string) ?? .null),
            ("swift", .string(swift)),
            ("libcurl", .string(libraries.curl)),
            ("libcurlTLS", .string(libraries.curlTLS)),
            ("openssl", .string(libraries.openssl)),
            ("zlib", .string(libraries.zlib)),
        ])
    }
}
