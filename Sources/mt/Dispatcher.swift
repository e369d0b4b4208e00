import MTCore

/// Finds the command, handles help and version, runs it, and turns errors into messages and exit codes.
struct Dispatcher {
    let commands: [any Command.Type]
    let stdout: Output
    let stderr: Output

    func run(_ argv: [String], environment: [String: String]) -> ExitCode {
        let global: GlobalOptions
        var rest: [String]
        do { (global, rest) = try GlobalOptions.extract(from: argv) } catch {
            stderr.line("mt: \(error.asMTError.description)")
            return .usage
        }
        guard let word = rest.first else {
            stderr.write(overview)
            return .usage
        }
        rest.removeFirst()
        switch word {
        case "--version", "-V", "version":
            let report = VersionReport.current
            if global.json {
                stdout.write(JSONWriter.bytes(report.json, pretty: true) + [0x0A])
            } else {
                stdout.line(report.text)
            }
            return .ok
        case "--help", "-h":
            stdout.write(overview)
            return .ok
        case "help":
            guard let topic = rest.first else { stdout.write(overview); return .ok }
            guard let command = find(topic) else { return unknown(topic) }
            stdout.line(command.fullHelp)
            return .ok
        default:
            break
        }
        guard let command = find(word) else { return unknown(word) }
        if rest.contains("--help") || rest.contains("-h") {
            stdout.line(command.fullHelp)
            return .ok
        }
        let context = CommandContext(global: global, environment: environment, stdout: stdout, stderr: stderr,
                                     commandName: command.name)
        do {
            let code = try command.run(rest, context: context)
            // A run that could not keep its record (log files) is partial, even when its work succeeded.
            return code == .ok && !context.logHealth.failures.isEmpty ? .problems : code
        } catch {
            stdout.flush()
            let e = error.asMTError
            stderr.line(Untrusted.message("mt \(command.name): \(e.description)"))
            return e.exitCode
        }
    }

    func find(_ word: String) -> (any Command.Type)? { commands.first { $0.name == word } }

    func unknown(_ word: String) -> ExitCode {
        var text = "mt: '\(word)' is not an mt command. See 'mt help'."
        if let close = Suggest.closest(to: word, in: commands.map { $0.name }) {
            text += "\n\nThe most similar command is\n        \(close)"
        }
        stderr.line(text)
        return .usage
    }

    var overview: String {
        let width = (commands.map { $0.name.count }.max() ?? 8) + 3
        let list = commands.map { "   \($0.name.padding(toLength: width, withPad: " ", startingAt: 0))\($0.summary)" }
        return """
        usage: mt [--config PATH] [--json] [-q | -v] COMMAND [ARGS]
               mt help [COMMAND] | mt COMMAND --help | mt --version

        mt moves research data off MindTrails-style study servers safely, and helps the lab check and analyse it.

        Commands:
        \(list.joined(separator: "\n"))

        Global options (before or after the command):
        \(OptionSpec.helpText(GlobalOptions.declarations))

        Exit status:
        \(ExitCode.table)

        See 'mt help COMMAND' or man mt for more.

        """
    }
}
