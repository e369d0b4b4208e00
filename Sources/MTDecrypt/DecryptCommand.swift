import MTCore

/// `mt decrypt`: decrypt the RSA fields of exported files.
public struct DecryptCommand: Command {
    public static let name = "decrypt"
    public static let summary = "decrypt the RSA fields of exported files"
    public static let usage = """
        mt decrypt [--key PEM]... [--server NAME] [--format csv|json|jsonl] [--fields a,b] [-o OUT] FILE...
        mt decrypt --value BASE64 --key PEM
        """
    public static let help = "Not implemented yet: its issue has not landed."
    public static let isImplemented = false

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        throw MTError(.software, "mt decrypt is not implemented yet", hint: "its issue has not landed; see README.md")
    }
}
