import MTCore

/// `mt benchmark`: show and repair the per-scale high-water marks.
public struct BenchmarkCommand: Command {
    public static let name = "benchmark"
    public static let summary = "show and repair the per-scale high-water marks"
    public static let usage = """
        mt benchmark [SERVER] [--remote]
        mt benchmark set SCALE ID [--yes]
        mt benchmark reset SCALE
        mt benchmark import FILE
        """
    public static let help = "Not implemented yet: its issue has not landed."
    public static let isImplemented = false

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        throw MTError(.software, "mt benchmark is not implemented yet", hint: "its issue has not landed; see README.md")
    }
}
