import Foundation
import MTCore

/// `mt benchmark`: show and repair the per-scale high-water marks.
public struct BenchmarkCommand: Command {
    public static let name = "benchmark"
    public static let summary = "show and repair the per-scale high-water marks"
    public static let usage = """
        mt benchmark [SERVER|.] [--remote] [--json]
        mt benchmark [SERVER] set SCALE ID [--deleteable true|false] [--yes]
        mt benchmark [SERVER] reset SCALE
        mt benchmark [SERVER] import FILE
        mt benchmark [SERVER] rebuild [--yes]
        mt benchmark [SERVER] release SCALE [ID...] [--yes]
        """
    public static let help = """
        Without a verb, prints per scale of SERVER (every server when none is named, or with .): the benchmark
        id (highest exported id), whether the scale is deleteable, the last export (newest archive), the number
        of archives, the distinct entries archived, the data rows of its active_data CSVs, and the entries export
        holds back (HELD: ids already written with other content, never written, never deleted).

        set SCALE ID      set the benchmark of SCALE to ID. Entries up to ID count as exported: the next export
                          skips them. Asks for confirmation on a terminal; refused without --yes otherwise.
        reset SCALE       remove the benchmark of SCALE; the next export starts the scale afresh and recreates it
        import FILE       take the marks of the original tool's benchMark.json ({"OA": 812} or
                          {"OA": {"current": 812, "deleteable": true}}); scales it does not name are kept
        rebuild           replace the file with what the data directory proves: per scale the highest id of its
                          archives, of export's state and of ledger/deletions.tsv; deleteable unless the scale
                          was never sent a DELETE and its archives repeat ids (the next export takes the flag
                          from the server). The old file is kept as benchMark.json.before-rebuild-<stamp> (or
                          .corrupt-<stamp>). Asks on a terminal; refused without --yes otherwise.
        release SCALE [ID...]
                          release held-back entries of SCALE (all, or the given ids): shows each with the archive
                          holding it and why it was held, asks (refused without --yes off a terminal), then under
                          the lock appends them, decrypted, to the active CSV beside the entry already written
                          under the same id, and accepts both in the written set: the next export deletes them.
                          Logged at critical (mailed). Needs PRIVATE_FILE.
        """

    public static let options: [OptionSpec] = [
        .flag("--remote", """
            also ask the server: its size for each scale, and how many of its entries are at or
            below the benchmark (for a deleteable scale those should be gone after an export)
            """),
        .choice("--deleteable", ["true", "false"], "set the scale's deleteable flag too (default: keep it; true for a new scale)",
                verbs: ["set"]),
        .flag("--yes", short: "-y", "do not ask", verbs: ["set", "rebuild", "release"]),
        .global("--json", "print the table as JSON"),
    ]

    public static let notes = """
        SERVER may be left out when the configuration holds one server. Changes take the data directory's lock
        and replace active_data/benchMark.json atomically, in the shape the original tool reads.

        A corrupt benchMark.json does not stop set, reset or import: they are the way out. Under the lock, the
        broken file is kept as benchMark.json.corrupt-<stamp> (UTC), the marks are rebuilt as rebuild does, the
        change is applied on top, and the repair is logged at critical (so mailed). Marks that older tools
        wrote as 50.0 or "50" are read as 50, with a warning, and written back as whole numbers.
        """

    public static let exitStatus = """
        EXIT STATUS
          0   success
          1   the file was rebuilt, but some archives or state files could not be read (listed; their ids are
              not counted); or release wrote values that could not be decrypted (kept as ciphertext, logged)
          64  bad arguments, or set, rebuild or release refused without --yes off a terminal
          65  the table found a benchmark file that is not valid (repair it with rebuild, set, reset or
              import), or import was given one
          66  reset of a scale that has no benchmark, import of a file that does not exist, or release of an
              id that is not held back (or whose held version no archive holds)
          69  --remote and the server did not answer
          73  a file cannot be created in the data directory (see the message)
          74  the data directory could not be written (disk full, read-only)
          75  another mt run holds the data directory
          77  permission denied, or a secret readable by others
          78  configuration error, or release without PRIVATE_FILE (run it where the key lives)
        """

    static let verbs = ["set", "reset", "import", "rebuild", "release"]

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        var p = ArgumentParser(arguments, for: Self.self)
        let remote = p.flag("--remote")
        let yes = p.flag("--yes")
        let deleteable = try p.choice("--deleteable").map { $0 == "true" }
        var args = try p.positionals()
        var serverName: String?
        if let first = args.first, !verbs.contains(first) {
            serverName = first
            args.removeFirst()
        }
        let config = try context.loadConfig()
        guard let verb = args.first else {
            guard args.count <= 1 else { throw MTError.usage("too many arguments: \(args.dropFirst().joined(separator: " "))", usage: usage) }
            guard deleteable == nil, !yes else { throw MTError.usage("--yes goes with set, rebuild and release, --deleteable with set", usage: usage) }
            let statuses = try config.select(serverName, readyOnly: false).map { server in
                try BenchmarkStatus.collect(server: server, remote: remote,
                                            progressOutput: context.stderrIsTerminal ? context.stderr : nil)
            }
            BenchmarkPrinter(context: context).print(statuses)
            return .ok
        }
        args.removeFirst()
        guard verbs.contains(verb) else {
            throw MTError.usage("unknown verb '\(verb)' (set, reset, import, rebuild or release)", usage: usage)
        }
        guard !remote else { throw MTError.usage("--remote only goes with the table, not with \(verb)", usage: usage) }
        let server = try single(config, serverName, verb: verb)
        let edit = BenchmarkEditRun(server: server, context: context)
        switch (verb, args.count) {
        case ("set", 2):
            guard let id = Int64(args[1]), id >= 0 else {
                throw MTError.usage("set: ID must be a whole number ≥ 0, got '\(args[1])'", usage: usage)
            }
            return try edit.set(scale: args[0], id: id, deleteable: deleteable, yes: yes)
        case ("reset", 1):
            return try edit.reset(scale: args[0])
        case ("import", 1):
            return try edit.importFile(args[0])
        case ("release", 1...):
            guard deleteable == nil else { throw MTError.usage("release: --deleteable goes with set", usage: usage) }
            let ids = try args.dropFirst().map { a -> Int64 in
                guard let id = Int64(a), id >= 0 else {
                    throw MTError.usage("release: ID must be a whole number ≥ 0, got '\(a)'", usage: usage)
                }
                return id
            }
            return try BenchmarkRelease(server: server, context: context).run(scale: args[0], ids: ids, yes: yes)
        case ("rebuild", 0):
            guard deleteable == nil else { throw MTError.usage("rebuild: --deleteable goes with set", usage: usage) }
            return try edit.rebuild(yes: yes)
        default:
            throw MTError.usage("\(verb): wrong number of arguments", usage: usage)
        }
    }

    /// A change needs one server: the named one, or the only one configured.
    static func single(_ config: MTConfig, _ name: String?, verb: String) throws -> ServerConfig {
        if let name, name != "." { return try config.server(named: name) }
        guard config.servers.count == 1 else {
            throw MTError.usage("\(verb): \(config.file) holds several servers; name one (\(config.servers.map(\.name).joined(separator: ", ")))",
                                usage: usage)
        }
        return config.servers[0]
    }
}
