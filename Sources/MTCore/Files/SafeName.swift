import Foundation

/// Scale names and ids come from the network: they become part of file names only after this check.
public enum SafeName {
    /// A scale name usable as a file-name component: letters, digits, `_`, `-`, `.`; not starting with `.`;
    /// at most 100 bytes. Anything else is refused rather than rewritten, so two names never collide.
    public static func isValidScale(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 100, !s.hasPrefix(".") else { return false }
        return s.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-" || c == "."
        }
    }

    public static func checkScale(_ s: String, server: String) throws {
        guard isValidScale(s) else {
            let shown = s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }
                .joined().prefix(120)
            throw MTError(.dataError, "server \(server) sent an unsafe scale name \"\(shown)\"; it was skipped",
                          hint: "scale names may hold only letters, digits, _ - and . ; ask the server's admin")
        }
    }
}
