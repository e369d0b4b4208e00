/// One option of one command, declared once; parsing (`ArgumentParser`), the OPTIONS part of `--help`
/// (`OptionSpec.helpText`) and the documentation test all read the same declaration, in the manner of git's
/// parse-options.
///
/// A command declares its options as a static list, `Command.options`, and parses with
/// `ArgumentParser(arguments, for: Self.self)`:
///
///     public static let options: [OptionSpec] = [
///         .flag("--dry-run", "fetch and check only: nothing is written or deleted"),
///         .integer("--concurrency", "N", range: 1...64, "parallel DELETE connections to start with"),
///         .value("--output", short: "-o", "OUT", "write OUT instead of standard output", verbs: ["codebook"]),
///         .values("--key", "PEM", "private key; repeat after a key rotation"),
///         .choice("--format", ["csv", "json"], "output format"),
///     ]
///     ...
///     var p = ArgumentParser(arguments, for: Self.self)
///     let dryRun = p.flag("--dry-run")            // short name, range and words come from the declaration
///     let n = try p.int("--concurrency")
///     let files = try p.positionals()               // anything option-like left over is refused
///
/// Asking the parser for a name the command did not declare is a bug and stops the program, so an option
/// cannot be parsed without being declared (and so documented). A help line may hold several lines
/// (separated by "\n"); `verbs` names the verbs the option goes with (shown as "verb: " before the help; a
/// command that refuses the option with other verbs checks `ArgumentParser.given` against it). The global
/// options (`GlobalOptions.declarations`) use the same type. A command may also list a global option such as
/// `--json` with `.global(...)` to say what it prints; the dispatcher takes that option before the command
/// parses, so the parser never sees it. Man pages and shell completions must name exactly the declared
/// options: the OptionDeclarationTests end-to-end suite fails otherwise.
public struct OptionSpec: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Present or not.
        case flag
        /// One value; given twice is a usage error.
        case value
        /// Repeatable; every value, in order.
        case values
        /// A whole number within the range.
        case integer(ClosedRange<Int>)
        /// One of these words.
        case choice([String])
        /// A global option the dispatcher takes; listed to say what it does for this command.
        case global
    }

    /// "--name".
    public let long: String
    /// "-o", or nil.
    public let short: String?
    public let kind: Kind
    /// The placeholder of the value in help ("PEM", "N"); nil for flags.
    public let valueName: String?
    /// One or more lines ("\n" between them), without the option's name.
    public let help: String
    /// The verbs the option goes with; empty when it goes with every form of the command.
    public let verbs: [String]

    public init(long: String, short: String? = nil, kind: Kind, valueName: String? = nil, help: String,
                verbs: [String] = []) {
        precondition(long.hasPrefix("--") && (short.map { $0.count == 2 && $0.hasPrefix("-") } ?? true),
                     "an option is --name with an optional -x")
        self.long = long
        self.short = short
        self.kind = kind
        self.valueName = valueName
        self.help = help
        self.verbs = verbs
    }

    public static func flag(_ long: String, short: String? = nil, _ help: String, verbs: [String] = []) -> OptionSpec {
        OptionSpec(long: long, short: short, kind: .flag, help: help, verbs: verbs)
    }

    public static func value(_ long: String, short: String? = nil, _ valueName: String, _ help: String,
                             verbs: [String] = []) -> OptionSpec {
        OptionSpec(long: long, short: short, kind: .value, valueName: valueName, help: help, verbs: verbs)
    }

    public static func values(_ long: String, short: String? = nil, _ valueName: String, _ help: String,
                              verbs: [String] = []) -> OptionSpec {
        OptionSpec(long: long, short: short, kind: .values, valueName: valueName, help: help, verbs: verbs)
    }

    public static func integer(_ long: String, short: String? = nil, _ valueName: String, range: ClosedRange<Int>,
                               _ help: String, verbs: [String] = []) -> OptionSpec {
        OptionSpec(long: long, short: short, kind: .integer(range), valueName: valueName, help: help, verbs: verbs)
    }

    /// `valueName` defaults to the words joined by "|".
    public static func choice(_ long: String, _ words: [String], valueName: String? = nil, _ help: String,
                              verbs: [String] = []) -> OptionSpec {
        OptionSpec(long: long, kind: .choice(words), valueName: valueName ?? words.joined(separator: "|"),
                   help: help, verbs: verbs)
    }

    /// A global option (see `GlobalOptions.declarations`) with what it does for this command.
    public static func global(_ long: String, _ help: String) -> OptionSpec {
        OptionSpec(long: long, kind: .global, help: help)
    }

    /// True for `long` or `short`.
    public func matches(_ name: String) -> Bool { name == long || (short != nil && name == short) }

    /// "-o, --output OUT".
    public var synopsis: String {
        (short.map { "\($0), " } ?? "") + long + (valueName.map { " \($0)" } ?? "")
    }

    /// The lines of an OPTIONS section: two spaces, the synopsis, the help in a column (on the next line when the
    /// synopsis is too wide); continuation lines indented to that column.
    public static func helpText(_ options: [OptionSpec]) -> String {
        let widest = options.map(\.synopsis.count).filter { $0 <= 22 }.max() ?? 0
        let column = 2 + widest + 2
        let pad = String(repeating: " ", count: column)
        var lines: [String] = []
        for o in options {
            var body = o.help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if !o.verbs.isEmpty { body[0] = o.verbs.joined(separator: ", ") + ": " + body[0] }
            let head = "  " + o.synopsis
            if head.count + 2 <= column {
                lines.append(head + String(repeating: " ", count: column - head.count) + body[0])
            } else {
                lines.append(head)
                lines.append(pad + body[0])
            }
            lines += body.dropFirst().map { pad + $0 }
        }
        return lines.joined(separator: "\n")
    }
}
