import Foundation
import MTCore

/// `mt withdraw`: erase a participant who withdrew consent from one data directory, with a record of it.
public struct WithdrawCommand: Command {
    public static let name = "withdraw"
    public static let summary = "remove a withdrawn participant's entries from archives, CSVs and the written set, with a record"
    public static let usage = """
        mt withdraw SERVER PARTICIPANT... [--entries SCALE:ID]... [--key PEM]... [--yes] [--json]
        """
    public static let help = """
        Finds every entry of PARTICIPANT (the participant's id as the CSVs show it, after decryption) in the
        archives of SERVER, and every row of theirs in the active and recovered CSVs. Without --yes it lists what
        would leave and changes nothing. With --yes the entries leave every archive (each affected archive is
        rewritten without them, read back and renamed over the old file; SHA256SUMS gets its new checksum), every
        CSV and the written set, and ledger/withdrawals.tsv records each entry (the participant as an HMAC of the
        id, never the id; scale, id, content hash, archive) and each rewritten archive's old and new SHA-256.

        Finding a participant needs the private key, since participantRSA is ciphertext; without one, --entries
        names the entries directly. Afterwards mt export leaves the entries out of every answer before anything is
        written (a deleteable scale's are still deleted from the server), mt recover never writes them, and mt
        verify checks the replaced checksums.

        A withdrawal killed at any point is finished by the next mt withdraw of the server (state/withdrawal.json
        is its journal); mt export refuses the server until then.
        """

    public static let options: [OptionSpec] = [
        .values("--entries", "SCALE:ID", "entries to remove, named directly (no key needed; repeatable)"),
        .values("--key", "PEM", "private key(s) to use instead of the server's PRIVATE_FILE (repeatable)"),
        .flag("--yes", "do it (without: list what would leave and change nothing)"),
        .global("--json", "print what was (or would be) removed as JSON"),
    ]

    public static let exitStatus = """
        EXIT STATUS
          0   removed (or, without --yes, listed)
          1   nothing of the participants or entries was found
          64  usage error (no PARTICIPANT nor --entries, a bad SCALE:ID)
          65  an archive or the journal is damaged, or the key does not match
          66  the data directory does not exist
          73  a folder of the data directory is a symlink or a plain file
          74  a file could not be written (disk full); run the same command again
          75  an export holds the lock, or left a CSV append unfinished (run mt export first)
          77  a key file is readable by group or others
          78  configuration error, or a PARTICIPANT without a private key
        """

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        var p = ArgumentParser(arguments, for: Self.self)
        let yes = p.flag("--yes")
        let keyPaths = try p.values("--key")
        var target = Withdrawal.Target()
        for text in try p.values("--entries") {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, SafeName.isValidScale(String(parts[0])), let id = Int64(parts[1]) else {
                throw MTError.usage("--entries expects SCALE:ID (e.g. OA:812), got '\(text)'", usage: usage)
            }
            target.entries[String(parts[0]), default: []].insert(id)
        }
        let args = try p.positionals()
        guard let serverName = args.first, serverName != "." else {
            throw MTError.usage("name one SERVER", usage: usage)
        }
        target.participants = Array(args.dropFirst())
        guard !target.participants.isEmpty || !target.entries.isEmpty else {
            throw MTError.usage("name the PARTICIPANT(s) withdrawing, or their entries with --entries SCALE:ID", usage: usage)
        }
        let server = try context.loadConfig().server(named: serverName)
        let layout = DataLayout(server: server)
        guard FileSystem.isDirectory(layout.root) else {
            throw MTError(.noInput, "server \(server.name): the data directory \(layout.root) does not exist",
                          hint: "check PATH in the config")
        }
        let paths = keyPaths.isEmpty ? server.privateFiles : keyPaths
        var keys: KeyRing?
        if !paths.isEmpty {
            keys = try KeyRing.load(paths: paths, environment: context.environment, allowReadable: context.global.allowReadableSecrets)
        } else if !target.participants.isEmpty {
            throw MTError(.config, "server \(server.name) has no PRIVATE_FILE: a participant's entries cannot be found, since participantRSA is ciphertext",
                          hint: "give the key with --key PEM (where the key lives), or name the entries with --entries SCALE:ID")
        }
        let lock = try DirectoryLock(directory: server.path)
        defer { lock.release() }
        for scale in try layout.exportStateScales() where try ExportScaleState.load(scale: scale, layout: layout).pending != nil {
            throw MTError(.tempFail, "server \(server.name): export left a CSV append of \(scale) unfinished",
                          hint: "run mt export \(server.name) first (it finishes the append), then mt withdraw again")
        }
        let w = Withdrawal(layout: layout, keys: keys, hmacKey: try Withdrawal.hmacKey(keys))
        w.removeStaleTemporaries()
        if let left = try w.pending() {
            context.stderr.line("mt withdraw: finishing the withdrawal an earlier run left unfinished (\(left.entries.count) entries, \(w.journal))")
            try w.finish(left)
        }
        let plan = try w.plan(target)
        if context.global.json {
            context.stdout.write(JSONWriter.bytes(json(plan, server: server.name, done: yes && !plan.isEmpty), pretty: true) + [0x0A])
        } else if context.global.verbosity != .quiet {
            context.stdout.write(text(plan, server: server.name, yes: yes))
        }
        guard !plan.isEmpty else { return .problems }
        if yes { try w.begin(plan) }
        return .ok
    }

    static func json(_ plan: WithdrawalPlan, server: String, done: Bool) -> JSONValue {
        .object([
            ("server", .string(server)), ("done", .bool(done)),
            ("entries", .array(plan.entries.map { e in
                .object([("participant", .string(e.participant)), ("scale", .string(e.scale)), ("id", .int(e.id)),
                         ("archive", .string(e.archive))])
            })),
            ("archives", .array(plan.archives.map(JSONValue.string))),
            ("csvs", .array(plan.csvs.map { c in .object([("csv", .string(c.path)), ("rows", .int(c.ids.count))]) })),
        ])
    }

    static func text(_ plan: WithdrawalPlan, server: String, yes: Bool) -> String {
        guard !plan.isEmpty else { return "\(server): nothing of them was found in the archives or the CSVs\n" }
        let ids = plan.ids
        var out = yes ? "\(server): removed\n" : "\(server): would remove (nothing was changed; run again with --yes)\n"
        for scale in ids.keys.sorted() {
            out += "  \(scale): \(ids[scale]!.count) entries (ids \(ids[scale]!.sorted().map(String.init).joined(separator: ", ")))\n"
        }
        out += "  archives rewritten: \(plan.archives.count)\n"
        for c in plan.csvs { out += "  \(c.path): \(c.ids.count) rows\n" }
        if yes { out += "  recorded in ledger/withdrawals.tsv\n" }
        return out
    }
}
