import MTCore

/// `mt config`: show where the configuration is and check it without touching any server.
struct ConfigCommand: Command {
    static let name = "config"
    static let summary = "check the configuration without contacting any server"
    static let usage = "mt config [check|path] [SERVER]"
    static let help = """
        check (default)  read the configuration and check every block (or SERVER's): keys known (a key close
                         to a known one, such as DELET_MODE, is a problem: the key meant is not in force),
                         SERVER a valid https:// URL (or loopback http://) without user:password@, password
                         found and its file private, PRIVATE_FILE keys readable and private, CA files present,
                         and what mt export checks before it fetches, by the same code: PATH creatable along
                         its whole chain and writable, METRICS_FILE's folder present and writable.
                         Nothing is sent over the network.
        path             print which configuration file would be used and where mt looked.

        Errors name the file, line, block and key and show the offending line; the value of a password key
        (PASS, SMTP_PASS, anything named like a secret) is shown as <redacted>, never the text.
        """
    static let options: [OptionSpec] = [
        .global("--json", "check prints one object per server with its findings"),
    ]
    static let exitStatus = """
        EXIT STATUS
          0   all good (warnings, such as an unknown key like no known one, are printed)
          64  usage error
          73  PATH cannot be created: a file or a symlink stands on its way (mt export stops with 73 too)
          74  PATH cannot be created or written (permissions, read-only; mt export stops with 74 too)
          77  a secret is readable by others
          78  a problem was found
        """

    static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        let p = ArgumentParser(arguments, for: Self.self)
        var args = try p.positionals(max: 2)
        let verb = args.first.map { ["check", "path"].contains($0) ? $0 : "check" } ?? "check"
        if args.first == verb { args.removeFirst() }
        if verb == "path" {
            let path = try ConfigLocator.locate(explicit: context.global.configPath, environment: context.environment)
            context.stdout.line(path)
            return .ok
        }
        let config = try context.loadConfig()
        let servers = try config.select(args.first, readyOnly: false)
        let report = ConfigCheck.run(config: config, servers: servers)
        if context.global.json {
            context.stdout.write(JSONWriter.bytes(report.json, pretty: true) + [0x0A])
        } else {
            context.stdout.line("config: \(config.file)")
            for w in config.warnings { context.stdout.line("warning: \(w)") }
            for s in report.servers {
                context.stdout.line("\(s.name): \(s.problems.isEmpty ? "ok" : "\(s.problems.count) problem(s)")  READY=\(s.ready) DELETE_MODE=\(s.deleteMode)  \(s.apiBase)")
                for p in s.problems { context.stdout.line("  problem: \(p)") }
                for n in s.notes { context.stdout.line("  note: \(n)") }
            }
        }
        return ExitCode.worst(report.servers.map(\.exit))
    }
}
