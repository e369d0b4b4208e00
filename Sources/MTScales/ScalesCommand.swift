import MTCore

/// `mt scales`: list a server's scales, or the scale catalogue.
public struct ScalesCommand: Command {
    public static let name = "scales"
    public static let summary = "list a server's scales, or the scale catalogue"
    public static let usage = """
        mt scales [SERVER]
        mt scales --local
        mt scales show NAME
        mt scales check FILE.csv
        """
    public static let help = "Not implemented yet: its issue has not landed."
    public static let isImplemented = false

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        throw MTError(.software, "mt scales is not implemented yet", hint: "its issue has not landed; see README.md")
    }
}
