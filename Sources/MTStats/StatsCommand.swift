import MTCore

/// `mt stats`: data quality, scores and wide form for analysts.
public struct StatsCommand: Command {
    public static let name = "stats"
    public static let summary = "data quality, scores and wide form for analysts"
    public static let usage = """
        mt stats [summary|score|wide|dedupe|report] [SERVER [SCALE] | FILE.csv...]
        """
    public static let help = "Not implemented yet: its issue has not landed."
    public static let isImplemented = false

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        throw MTError(.software, "mt stats is not implemented yet", hint: "its issue has not landed; see README.md")
    }
}
