/// Every failure `mt` reports: what failed, where, and what to do, with the exit code it maps to.
///
/// Domain code throws these directly; the dispatcher prints `description` and exits with `exitCode`.
public struct MTError: Error, Sendable, CustomStringConvertible, Equatable {
    public var exitCode: ExitCode
    public var message: String
    public var hint: String?

    public init(_ exitCode: ExitCode, _ message: String, hint: String? = nil) {
        self.exitCode = exitCode
        self.message = message
        self.hint = hint
    }

    public var description: String {
        guard let hint else { return message }
        return "\(message)\n  hint: \(hint)"
    }

    public static func usage(_ message: String, usage: String) -> MTError {
        MTError(.usage, message, hint: "usage: " + usage.replacingOccurrences(of: "\n", with: "\n         "))
    }
}

/// A failure after which nothing more may happen in the run: an archive written but not entered in the
/// checksum ledger must not be followed by another fetch, archive or DELETE.
public struct RunStop: Error, Sendable {
    public var error: MTError
    public init(_ error: MTError) { self.error = error }
}

/// An error type of a command's own that decides its exit code itself (e.g. the steps of `mt export`).
public protocol MTErrorConvertible: Error {
    var asMTError: MTError { get }
}

extension Error {
    /// Any error as an MTError; unknown errors are internal ones.
    public var asMTError: MTError {
        if let e = self as? MTError { return e }
        if let e = self as? any MTErrorConvertible { return e.asMTError }
        if let e = self as? RunStop { return e.error }
        if let e = self as? HTTPTransportError {
            return MTError(.unavailable, e.description, hint: e.isTLS
                ? "the server's certificate was not accepted; set CA_FILE if it uses a private CA"
                : "check the network and the SERVER address; the next run will try again")
        }
        if let e = self as? JSONParseError { return MTError(.dataError, "invalid JSON: \(e)") }
        if let e = self as? CSVParseError { return MTError(.dataError, e.description) }
        return MTError(.software, "internal error: \(self)", hint: "please report this with the command you ran")
    }
}

/// Text of a NUL-terminated C buffer (libcurl's error buffer).
func cText(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
