import Foundation

/// One `mt` subcommand. The command table in `Sources/mt/main.swift` lists them; each lives in its own module
/// and stays thin: parse its arguments, call MTCore, print.
public protocol Command: Sendable {
    /// The word typed after `mt`.
    static var name: String { get }
    /// One line for `mt help`.
    static var summary: String { get }
    /// The usage lines, without the leading "usage: ".
    static var usage: String { get }
    /// The description of `mt CMD --help` (and its verbs), before the OPTIONS section.
    static var help: String { get }
    /// Every option the command parses, declared once: the parser, the OPTIONS section of `--help` and the
    /// documentation test read it (see `OptionSpec`).
    static var options: [OptionSpec] { get }
    /// More text after the OPTIONS section (notes, examples); empty by default.
    static var notes: String { get }
    /// The command's own EXIT STATUS section, its heading included.
    static var exitStatus: String { get }

    static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode
}

extension Command {
    public static var notes: String { "" }

    /// The full `--help` text: usage, description, the declared options, notes, exit status, the global options.
    public static var fullHelp: String {
        var parts = ["usage: " + usage.replacingOccurrences(of: "\n", with: "\n       "), summary, help]
        if !options.isEmpty { parts.append("OPTIONS\n" + OptionSpec.helpText(options)) }
        if !notes.isEmpty { parts.append(notes) }
        parts.append(exitStatus)
        parts.append("GLOBAL OPTIONS\n" + OptionSpec.helpText(GlobalOptions.declarations))
        parts.append("The meaning of every exit code, and how a run picks its worst one: mt help.")
        return parts.joined(separator: "\n\n")
    }
}

public enum Verbosity: Int, Sendable, Comparable {
    case quiet, normal, verbose
    public static func < (a: Verbosity, b: Verbosity) -> Bool { a.rawValue < b.rawValue }
}

/// Options every command accepts, before or after the command word.
public struct GlobalOptions: Sendable, Equatable {
    public var configPath: String?
    public var json = false
    public var verbosity = Verbosity.normal
    /// Accept secrets in files that group or others can read; for odd set-ups only.
    public var allowReadableSecrets = false

    public init(configPath: String? = nil, json: Bool = false, verbosity: Verbosity = .normal,
                allowReadableSecrets: Bool = false) {
        self.configPath = configPath
        self.json = json
        self.verbosity = verbosity
        self.allowReadableSecrets = allowReadableSecrets
    }

    /// The options every command accepts, declared as commands declare theirs; `extract` takes exactly these.
    public static let declarations: [OptionSpec] = [
        .value("--config", "PATH", """
            configuration file (default: $MT_CONFIG, ./config/server.yaml,
            $XDG_CONFIG_HOME/mt/config.yaml, /etc/mt/config.yaml)
            """),
        .flag("--json", "machine-readable output"),
        .flag("--quiet", short: "-q", "errors only on the console"),
        .flag("--verbose", short: "-v", "debug messages on the console"),
        .flag("--allow-readable-secrets", "accept password and key files that group or others can read"),
    ]

    /// Takes the global options out of `arguments` wherever they stand (up to a `--`), leaving the rest in order.
    public static func extract(from arguments: [String]) throws -> (GlobalOptions, [String]) {
        var options = GlobalOptions()
        var rest: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" { rest.append(contentsOf: arguments[i...]); break }
            switch a {
            case "--json": options.json = true
            case "-q", "--quiet": options.verbosity = .quiet
            case "-v", "--verbose": options.verbosity = .verbose
            case "--allow-readable-secrets": options.allowReadableSecrets = true
            case "--config":
                guard i + 1 < arguments.count, !arguments[i + 1].isEmpty else {
                    throw MTError.usage("--config needs a file path", usage: "mt [--config PATH] COMMAND ...")
                }
                options.configPath = arguments[i + 1]
                i += 1
            default:
                if a.hasPrefix("--config=") {
                    let v = String(a.dropFirst("--config=".count))
                    guard !v.isEmpty else {
                        throw MTError.usage("--config needs a file path", usage: "mt [--config PATH] COMMAND ...")
                    }
                    options.configPath = v
                } else {
                    rest.append(a)
                }
            }
            i += 1
        }
        return (options, rest)
    }
}

/// What a command gets from the dispatcher: global options, environment, and where to print.
public struct CommandContext: Sendable {
    public var global: GlobalOptions
    public var environment: [String: String]
    public var stdout: Output
    public var stderr: Output
    public var commandName: String
    /// Log files that could not be written during this run (the dispatcher turns a success into 1).
    public var logHealth = LogHealth()

    public init(global: GlobalOptions, environment: [String: String], stdout: Output, stderr: Output,
                commandName: String) {
        self.global = global
        self.environment = environment
        self.stdout = stdout
        self.stderr = stderr
        self.commandName = commandName
    }

    /// Progress bars and interactive prompts only when a person watches (never under cron).
    public var stderrIsTerminal: Bool { stderr.isTerminal }

    /// Loads the configuration along the documented lookup path (see `ConfigLocator`).
    public func loadConfig() throws -> MTConfig {
        try MTConfig.load(path: ConfigLocator.locate(explicit: global.configPath, environment: environment),
                          environment: environment, allowReadableSecrets: global.allowReadableSecrets)
    }

    /// The console+file+alert logging of one server.
    public func makeLogging(for server: ServerConfig) throws -> RunLogging {
        try RunLogging(command: commandName, server: server, verbosity: global.verbosity,
                       console: stderr, environment: environment, health: logHealth)
    }

    /// Console-only logging, for commands that work on files rather than a server's data directory.
    public func consoleLogger() -> Logger {
        RunLogging.consoleOnly(command: commandName, verbosity: global.verbosity, console: stderr)
    }
}

import Logging
public typealias Logger = Logging.Logger
