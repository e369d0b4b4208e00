import MTCore

/// `mt verify`: prove the integrity of archives, ledgers and CSVs.
public struct VerifyCommand: Command {
    public static let name = "verify"
    public static let summary = "prove the integrity of archives, ledgers and CSVs"
    public static let usage = """
        mt verify [SERVER|.] [--remote] [--json]
        """
    public static let help = """
        Checks the data directory of SERVER (every READY server when none is named, or with ., as mt export
        takes them; a server that cannot be checked is named on stderr and the others are still checked, the
        exit code the worst of all) and lists every finding with the file, line and id concerned and what to
        run about it. Nothing is changed.

          archives      each raw_data archive reads back whole: gzip CRC and length, JSON (the original tool's
                        .json files may hold several arrays one after another)
          checksums     every archive matches raw_data/SHA256SUMS; archives missing from it; lines whose
                        archive is gone
          deletions     every id in ledger/deletions.tsv is held by an archive of its scale
          CSVs          every archived id of a deleteable scale is in the active_data CSVs exactly once (or in
                        a recovered_data CSV rebuilt by mt recover); skipped with a note when the server has no
                        PRIVATE_FILE (archive-only set-up)
          benchmark     the benchmark of each scale is at or above its highest archived id
          CSV files     each parses (RFC 4180) with one column count; no RSA ciphertext left in *RSA columns
          permissions   no data file or folder open to group or others (the chmod to run is given)
        """

    public static let options: [OptionSpec] = [
        .flag("--remote", "also ask the server: no entry of a deleteable scale at or below its benchmark remains"),
        .global("--json", "print the findings as JSON (kind, path, line, scale, id, message, hint)"),
    ]

    public static let notes = """
        Archives are read on all cores; a progress bar is shown only when stderr is a terminal.

        verify never takes the data directory's lock, so it may run beside an export. When an export holds the
        lock it says so (pid, since when), and marks the findings a running export leaves for a moment
        (checksum-missing, csv-missing, csv-parse, benchmark-behind, benchmark-missing, remote-remains) with
        "may be work in progress"; run it again after the export ends before acting on them.
        """

    public static let exitStatus = """
        EXIT STATUS
          0   every check holds
          1   findings were listed
          64  usage error
          66  a data directory does not exist
          69  --remote and the server did not answer as expected (local findings are still listed)
          73  a folder of the data directory is a symlink or a plain file (move it aside)
          77  the config file holds a password and is readable by others
          78  configuration error (including --remote without a password for the server)
        """

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        var p = ArgumentParser(arguments, for: Self.self)
        let remote = p.flag("--remote")
        let args = try p.positionals(max: 1)
        let config = try context.loadConfig()
        let servers = try config.selectExported(args.first)
        var reports: [VerifyReport] = []
        var failures: [ExitCode] = []
        // One server that cannot be checked (no data directory yet) must not hide the others: it is named, and
        // the exit code is the worst of all.
        for server in servers {
            do {
                reports.append(try Verifier(server: server, remote: remote,
                                            progressOutput: context.stderrIsTerminal ? context.stderr : nil).run())
            } catch {
                let e = error.asMTError
                if servers.count == 1 { throw e }
                context.stderr.line(Untrusted.message("mt verify: \(e.description)"))
                failures.append(e.exitCode)
            }
        }
        VerifyPrinter(context: context).print(reports)
        let remoteFailures = reports.compactMap(\.remoteError?.exitCode)
        return ExitCode.worst(failures + remoteFailures + [reports.allSatisfy(\.ok) ? .ok : .problems])
    }
}
