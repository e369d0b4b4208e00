import Foundation
import MTCore

/// `mt recover`: rebuild per-scale CSVs from the raw archives.
public struct RecoverCommand: Command {
    public static let name = "recover"
    public static let summary = "rebuild per-scale CSVs from the raw archives"
    public static let usage = """
        mt recover [--key PEM]... [--static|--deleteable] [--fields a,b] [SERVER|.] [SCALE|.]
        """
    public static let help = """
        Rebuilds recovered_data/<Scale>_recovered_<DATE>.csv and README_<Scale>_recovered_<DATE>.txt in the
        server's PATH from its raw archives: the gzip archives mt export writes and the original tool's
        raw_data/<Scale>_<Mon_DD_YYYY>_<HH_MM_SS>.json files (several arrays per file are read), ordered by the
        time in their names. SERVER . (or none) means every READY server, as for mt export (one that cannot be
        recovered, such as one without a key, is named on stderr and the others still run; the exit code is the
        worst); SCALE . (or none) every scale with archives. Scale names match exactly. DATE follows the
        server's DATE_FORMAT; a rerun the same day replaces that day's files atomically.

        Every scale is rebuilt from every archive, oldest first, keeping the first copy of each entry: for a
        non-deleteable scale its full snapshots and after= increments plus rows only older archives hold, as
        mt export writes them. An entry whose id an earlier archive holds with other content (ids restarted) is
        kept too and named in the README.
        """

    public static let options: [OptionSpec] = [
        .values("--key", "PEM", "private key(s) to use instead of the server's PRIVATE_FILE (repeatable)"),
        .flag("--static", "describe the scale(s) as non-deleteable in the README (every archive is read)"),
        .flag("--deleteable", "describe the scale(s) as deleteable in the README"),
        .value("--fields", "a,b", "decrypt these fields too (besides every field ending in RSA)"),
        .global("--json", "print a JSON report of what was rebuilt"),
    ]

    public static let notes = """
        The original's 2015 shelve archives, raw_data/<Scale>_<Mon_DD_YYYY>.raw.db (Python 2 shelve files), are
        not read: each is named on stderr, with how to convert it to JSON (mt-recover(1), SHELVE ARCHIVES).

        The data directory lock is taken, as mt export takes it. A progress bar is shown when stderr is a
        terminal. The CSV and README are written to temporary files and renamed: a crash never leaves a
        half-written file under its final name.
        """

    public static let exitStatus = """
        EXIT STATUS
          0   every scale rebuilt, every value decrypted
          1   rebuilt, but some values could not be decrypted (ciphertext kept; see the README)
          64  usage error
          65  an archive is corrupt, or the key does not match (the first values all failed)
          66  no archives for the scale
          73  a file or folder cannot be created: a symlink, or a file where a folder belongs, in the data
              directory (including .mt.lock)
          74  recovered_data could not be written (disk full, read-only)
          75  another mt run holds the data directory lock
          77  a key file is readable by group or others
          78  configuration error, or no PRIVATE_FILE and no --key
        """

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        var p = ArgumentParser(arguments, for: Self.self)
        let keyPaths = try p.values("--key")
        let forceStatic = p.flag("--static")
        let forceDeleteable = p.flag("--deleteable")
        let fields = try p.value("--fields").map {
            Set($0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        } ?? []
        let args = try p.positionals(max: 2)
        if forceStatic && forceDeleteable {
            throw MTError.usage("--static and --deleteable exclude each other", usage: usage)
        }
        let serverArg = args.first
        let scaleArg = args.count > 1 && args[1] != "." ? args[1] : nil

        let config = try context.loadConfig()
        var codes: [ExitCode] = []
        var reports: [JSONValue] = []
        let servers = try config.selectExported(serverArg)
        for server in servers {
            // One server that cannot be recovered (no key, locked) must not hide the others: it is named, and
            // the exit code is the worst of all.
            do {
                let layout = DataLayout(server: server)
                let lock = try DirectoryLock(directory: layout.root)
                defer { lock.release() }
                let keys: KeyRing
                do {
                    keys = try KeyRing.load(paths: keyPaths.isEmpty ? server.privateFiles : keyPaths,
                                            passphrase: keyPaths.isEmpty ? try server.passphraseForKeys() : nil,
                                            environment: context.environment,
                                            allowReadable: context.global.allowReadableSecrets,
                                            prompt: context.stderrIsTerminal)
                } catch let e as MTError {
                    throw MTError(e.exitCode, "server \(server.name): \(e.message)", hint: e.hint)
                }
                let scales = try scaleArg.map { [$0] } ?? Recovery.scales(layout: layout)
                // A named scale with nothing but shelve archives stops with the same explanation; say it once.
                let named = scaleArg.map { (try? layout.archives(scale: $0))?.isEmpty == false }
                for shelve in ShelveArchive.list(layout) where named == nil || (named == true && shelve.scale == scaleArg) {
                    context.stderr.line("mt recover: \(server.name): \(shelve.explanation); \(ShelveArchive.hint)")
                }
                if scales.isEmpty { context.stderr.line("mt recover: \(server.name): no archives in \(layout.raw)") }
                let date = LocalTime.strftime(server.dateFormat, Date())
                for scale in scales {
                    do {
                        let deleteable = forceStatic ? false : forceDeleteable ? true
                            : try Recovery.isDeleteable(scale: scale, layout: layout)
                        let session = try DecryptionSession(keys: keys, extraFields: fields)
                        let stderr = context.stderr
                        let report = try Recovery.recover(
                            layout: layout, scale: scale, deleteable: deleteable, date: date, session: session,
                            progress: context.stderrIsTerminal ? { total in
                                ProgressBar(output: stderr, label: "\(server.name) \(scale)", total: total, unit: "entries")
                            } : nil)
                        reports.append(report.json)
                        codes.append(report.failureCount > 0 ? .problems : .ok)
                        if !context.global.json {
                            context.stdout.line("\(server.name) \(scale): \(report.entriesWritten) entries from \(report.archives.count) archive(s)"
                                + " → \(report.csv) (\(report.duplicatesDropped) duplicate(s) dropped, \(report.failureCount) decryption failure(s))")
                        }
                        if report.failureCount > 0 {
                            context.stderr.line("mt recover: \(server.name) \(scale): \(report.failureCount) value(s) could not be decrypted; ciphertext kept, listed in \(report.readme)")
                        }
                    } catch {
                        let e = error.asMTError
                        if scaleArg != nil { throw e }
                        context.stderr.line(Untrusted.message("mt recover: \(server.name) \(scale): \(e.description)"))
                        codes.append(e.exitCode)
                    }
                }
            } catch {
                let e = error.asMTError
                if servers.count == 1 { throw e }
                context.stderr.line(Untrusted.message("mt recover: \(e.description)"))
                codes.append(e.exitCode)
            }
        }
        if context.global.json {
            context.stdout.write(JSONWriter.bytes(.array(reports), pretty: true) + [0x0A])
        }
        return ExitCode.worst(codes)
    }
}
