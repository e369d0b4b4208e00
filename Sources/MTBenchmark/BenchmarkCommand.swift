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
        """
    public static let help = """
        Without a verb, prints per scale of SERVER (every server when none is named, or with .): the benchmark
        id (highest exported id), whether the scale is deleteable, the last export (newest archive), the number
        of archives, the distinct entries archived, and the data rows of its active_data CSVs.

        --remote          also ask the server: its size for each scale, and how many of its entries are at or
                          below the benchmark (for a deleteable scale those should be gone after an export)
        --json            print the table as JSON

        set SCALE ID      set the benchmark of SCALE to ID. Entries up to ID count as exported: the next export
                          skips them. Asks for confirmation on a terminal; refused without --yes otherwise.
          --deleteable true|false   set the scale's deleteable flag too (default: keep it; true for a new scale)
          -y, --yes       do not ask
        reset SCALE       remove the benchmark of SCALE; the next export starts the scale afresh and recreates it
        import FILE       take the marks of the original tool's benchMark.json ({"OA": 812} or
                          {"OA": {"current": 812, "deleteable": true}}); scales it does not name are kept

        SERVER may be left out when the configuration holds one server. Changes take the data directory's lock
        and replace active_data/benchMark.json atomically, in the shape the original tool reads.

        EXIT STATUS: 0 success; 64 bad arguments, or set refused without --yes off a terminal; 65 a benchmark
        file is not valid; 66 reset of a scale that has no benchmark; 69 --remote and the server did not answer;
        75 another mt run holds the data directory; 78 configuration error.
        """

    static let verbs = ["set", "reset", "import"]

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        var p = ArgumentParser(arguments, command: name, usage: usage)
        let remote = p.flag("--remote")
        let yes = p.flag("--yes", short: "-y")
        let deleteable = try p.choice("--deleteable", ["true", "false"]).map { $0 == "true" }
        var args = try p.positionals(max: 4)
        var serverName: String?
        if let first = args.first, !verbs.contains(first) {
            serverName = first
            args.removeFirst()
        }
        let config = try context.loadConfig()
        guard let verb = args.first else {
            guard deleteable == nil, !yes else { throw MTError.usage("--yes and --deleteable go with set", usage: usage) }
            let statuses = try config.select(serverName, readyOnly: false).map { server in
                try BenchmarkStatus.collect(server: server, remote: remote,
                                            progressOutput: context.stderrIsTerminal ? context.stderr : nil)
            }
            BenchmarkPrinter(context: context).print(statuses)
            return .ok
        }
        args.removeFirst()
        guard verbs.contains(verb) else {
            throw MTError.usage("unknown verb '\(verb)' (set, reset or import)", usage: usage)
        }
        guard !remote else { throw MTError.usage("--remote only goes with the table, not with \(verb)", usage: usage) }
        let server = try single(config, serverName, verb: verb)
        let edit = BenchmarkEditRun(server: server, context: context)
        switch (verb, args.count) {
        case ("set", 2):
            guard let id = Int64(args[1]), id >= 0 else {
                throw MTError.usage("mt benchmark set: ID must be a whole number ≥ 0, got '\(args[1])'", usage: usage)
            }
            return try edit.set(scale: args[0], id: id, deleteable: deleteable, yes: yes)
        case ("reset", 1):
            return try edit.reset(scale: args[0])
        case ("import", 1):
            return try edit.importFile(args[0])
        default:
            throw MTError.usage("mt benchmark \(verb): wrong number of arguments", usage: usage)
        }
    }

    /// A change needs one server: the named one, or the only one configured.
    static func single(_ config: MTConfig, _ name: String?, verb: String) throws -> ServerConfig {
        if let name, name != "." { return try config.server(named: name) }
        guard config.servers.count == 1 else {
            throw MTError.usage("mt benchmark \(verb): \(config.file) holds several servers; name one (\(config.servers.map(\.name).joined(separator: ", ")))",
                                usage: usage)
        }
        return config.servers[0]
    }
}
