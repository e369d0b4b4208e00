import MTCore

/// `mt verify`: prove the integrity of archives, ledgers and CSVs.
public struct VerifyCommand: Command {
    public static let name = "verify"
    public static let summary = "prove the integrity of archives, ledgers and CSVs"
    public static let usage = """
        mt verify [SERVER|.] [--remote]
        """
    public static let help = "Not implemented yet: its issue has not landed."
    public static let isImplemented = false

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        throw MTError(.software, "mt verify is not implemented yet", hint: "its issue has not landed; see README.md")
    }
}
