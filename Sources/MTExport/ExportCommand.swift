import MTCore

/// `mt export`: download each scale, archive it, write CSVs, delete what is archived.
public struct ExportCommand: Command {
    public static let name = "export"
    public static let summary = "download each scale, archive it, write CSVs, delete what is archived"
    public static let usage = """
        mt export [SERVER|.] [SCALE|.|all|static] [--dry-run] [--no-delete] [--concurrency N] [--after STAMP]
        """
    public static let help = "Not implemented yet: its issue has not landed."
    public static let isImplemented = false

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        throw MTError(.software, "mt export is not implemented yet", hint: "its issue has not landed; see README.md")
    }
}
