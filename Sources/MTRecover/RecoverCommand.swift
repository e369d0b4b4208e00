import MTCore

/// `mt recover`: rebuild per-scale CSVs from the raw archives.
public struct RecoverCommand: Command {
    public static let name = "recover"
    public static let summary = "rebuild per-scale CSVs from the raw archives"
    public static let usage = """
        mt recover [SERVER|.] [SCALE|.]
        """
    public static let help = "Not implemented yet: its issue has not landed."
    public static let isImplemented = false

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        throw MTError(.software, "mt recover is not implemented yet", hint: "its issue has not landed; see README.md")
    }
}
