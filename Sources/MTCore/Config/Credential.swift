import Foundation

/// `credential:NAME` as the value of a `*_FILE` key (`PASS_FILE: credential:mt_mindtrails-pass`): the file NAME in
/// `$CREDENTIALS_DIRECTORY`, where systemd puts what a unit's `LoadCredential=` loaded (README.md, "Running from
/// systemd"). The secret then lives in a root-only file that systemd copies into a private, per-run place for this
/// unit alone, and the config file holds no secret at all.
enum Credential {
    static let prefix = "credential:"
    static let variable = "CREDENTIALS_DIRECTORY"
    /// What the shipped units' `LoadCredential=mt:/etc/mt/credentials` puts before each file's name.
    static let unitPrefix = "mt_"

    /// The credential's name when `value` is such a reference, else nil.
    static func name(in value: String) -> String? {
        value.hasPrefix(prefix) ? String(value.dropFirst(prefix.count)) : nil
    }

    /// Where the named credential is in this run's environment. The errors, worded to follow the key that names
    /// the credential, say what is missing and how to provide it; they name the credential and the folder, never
    /// a byte of any file.
    static func path(of name: String, environment: [String: String]) throws -> String {
        // systemd's rule for a credential's name: one path component.
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else {
            throw MTError(.config, "names '\(Credential.prefix)\(name)', which is not a credential name",
                          hint: "a credential's name is one word of letters, digits, '-', '_' or '.', as in credential:mt_mindtrails-pass")
        }
        guard let dir = environment[variable], !dir.isEmpty else {
            throw MTError(.config, "names credential \(name), but $\(variable) is not set: credentials exist only in a systemd service that loads them",
                          hint: "run mt through its units, which load every file of /etc/mt/credentials as credential mt_FILE (LoadCredential=mt:/etc/mt/credentials; see man 5 mt-config), or outside systemd name the password file itself")
        }
        let path = (dir.hasSuffix("/") ? dir : dir + "/") + name
        guard FileSystem.exists(path) else {
            let file = name.hasPrefix(unitPrefix) ? String(name.dropFirst(unitPrefix.count)) : nil
            throw MTError(.config, "names credential \(name), which is not in $\(variable) (\(dir))",
                          hint: file.map { "put the secret in /etc/mt/credentials/\($0) (root only, mode 600); the units load every file there when they start" }
                            ?? "the shipped units name the file /etc/mt/credentials/FILE credential mt_FILE; a credential of another name needs its own LoadCredential=\(name):PATH in a drop-in")
        }
        return path
    }
}
