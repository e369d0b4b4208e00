import Foundation
import MTCore

/// `mt decrypt`: decrypt the RSA fields of exported files.
public struct DecryptCommand: Command {
    public static let name = "decrypt"
    public static let summary = "decrypt the RSA fields of exported files"
    public static let usage = """
        mt decrypt [--key PEM]... [--server NAME] [--format csv|json|jsonl] [--fields a,b] [-o OUT] FILE...
        mt decrypt --value BASE64 --key PEM
        """
    public static let help = """
        FILE is a server JSON array (.json, or .json.gz; several arrays one after another are read too), JSON
        lines, a CSV with *RSA columns, or - for standard input. Every field whose name ends in RSA (and every
        field named by --fields) is decrypted: base64, RSA PKCS#1 v1.5, UTF-8. A value that fails keeps its
        ciphertext and is reported on stderr with scale, id, field and the key files tried.
        """

    public static let options: [OptionSpec] = [
        .values("--key", "PEM", """
            private key (PKCS#1 or PKCS#8 PEM, DER, or passphrase-protected PEM); repeat after a
            key rotation, each value is tried with the key that worked last first. Without
            --key, the PRIVATE_FILE of --server NAME (or of the only server) is used.
            """),
        .value("--server", "NAME", "take the keys from this server's block of the configuration"),
        .choice("--format", DecryptFormat.allCases.map(\.rawValue), valueName: "F", """
            csv (default; header = sorted field names, or a CSV input's own column order),
            json (one array) or jsonl (one entry per line)
            """),
        .value("--fields", "a,b", "decrypt these fields too"),
        .value("--output", short: "-o", "OUT", "write OUT (created 0600, atomically) instead of standard output"),
        .value("--value", "BASE64", "decrypt one value and print its plaintext"),
    ]

    public static let notes = """
        The passphrase of a protected key comes from the server's KEY_PASSPHRASE_FILE (keys from its PRIVATE_FILE),
        else MT_KEY_PASSPHRASE, or is asked on the terminal (no echo).
        Decrypted values are never logged or cached on disk. A key file readable by group or others is refused
        unless --allow-readable-secrets is given.
        """

    public static let exitStatus = """
        EXIT STATUS
          0   every value decrypted
          1   some values could not be decrypted (listed on stderr; their ciphertext was kept)
          64  usage error
          65  the first values all failed (the key does not match the server's public key), or an input is not
              JSON/CSV, a gzip file is truncated, a --value is not base64
          66  an input or key file does not exist
          73  the output file cannot be created
          74  the output could not be written (disk full, /dev/full, standard output closed)
          77  a key file is readable by group or others
          78  no key given and no PRIVATE_FILE configured, or a protected key without a passphrase
        """

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        var p = ArgumentParser(arguments, for: Self.self)
        let keyPaths = try p.values("--key")
        let server = try p.value("--server")
        let format = try p.choice("--format").flatMap(DecryptFormat.init) ?? .csv
        let fields = try p.value("--fields").map { Set($0.split(separator: ",").map { String($0).trimmed }) } ?? []
        let output = try p.value("--output")
        let value = try p.value("--value")
        let files = try p.positionals()
        if value != nil && !files.isEmpty {
            throw MTError.usage("--value takes no FILE", usage: usage)
        }
        if value == nil && files.isEmpty {
            throw MTError.usage("no FILE given (use - for standard input)", usage: usage)
        }
        let keys = try loadKeys(keyPaths, server: server, context: context)
        let session = try DecryptionSession(keys: keys, extraFields: fields)

        if let value {
            let (plain, reason) = session.decryptValue(value)
            guard let plain else {
                if reason == "not base64" { throw MTError(.dataError, "the --value is not base64") }
                throw EntryDecryption.keyMismatch(scale: "--value", keys: keys, failed: 1)
            }
            context.stdout.write(Array(plain.utf8) + [0x0A])
            return .ok
        }

        let stderr = context.stderr
        let outcome = try FileDecryption.run(files: files, session: session, progress: context.stderrIsTerminal ? { label, total in
            ProgressBar(output: stderr, label: label, total: total, unit: "entries")
        } : nil)
        let bytes = format.render(outcome.entries, header: outcome.csvHeader)
        if let output {
            try FileSystem.writeOutput(bytes, to: output, mode: 0o600)
        } else {
            context.stdout.write(bytes)
        }
        FileDecryption.report(outcome.failures, to: context.stderr)
        return outcome.failures.isEmpty ? .ok : .problems
    }

    static func loadKeys(_ paths: [String], server: String?, context: CommandContext) throws -> KeyRing {
        var paths = paths
        var passphrase: Secret?
        if paths.isEmpty {
            let config = try context.loadConfig()
            let block: ServerConfig
            if let server {
                block = try config.server(named: server)
            } else {
                guard config.servers.count == 1, let only = config.servers.first else {
                    throw MTError.usage("give --key PEM, or --server NAME to use its PRIVATE_FILE (\(config.file) has \(config.servers.count) servers)", usage: usage)
                }
                block = only
            }
            paths = block.privateFiles
            passphrase = try block.passphraseForKeys()
            guard !paths.isEmpty else {
                throw MTError(.config, "\(config.file): server \(block.name) has no PRIVATE_FILE", hint: "pass --key PEM or set PRIVATE_FILE in its block")
            }
        }
        return try KeyRing.load(paths: paths, passphrase: passphrase, environment: context.environment,
                                allowReadable: context.global.allowReadableSecrets, prompt: context.stderrIsTerminal)
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
