/// Hand parsing of one command's arguments (the user chose no argument-parsing package).
///
/// Each call takes what it matches out of the list; `positionals()` then refuses anything left that looks
/// like an option. Accepts `--name VALUE`, `--name=VALUE` and grouped short flags are not supported on purpose:
/// scripts stay readable.
///
/// A command parser is made from the command's declaration (`init(_:for:)`, see `OptionSpec`): each call then
/// takes the short name, range or words from the declaration, and asking for an undeclared option stops the
/// program (a bug, found by any test that reaches the call).
public struct ArgumentParser: Sendable {
    private var args: [String]
    private var afterDashDash: [String] = []
    public let usage: String
    public let command: String
    /// The command's declared options; nil for a program that declares none (mt-sim).
    public let declared: [OptionSpec]?
    /// The long names of the options found so far.
    public private(set) var given: Set<String> = []

    public init(_ arguments: [String], command: String, usage: String, declared: [OptionSpec]? = nil) {
        if let i = arguments.firstIndex(of: "--") {
            args = Array(arguments[..<i])
            afterDashDash = Array(arguments[(i + 1)...])
        } else {
            args = arguments
        }
        self.usage = usage
        self.command = command
        self.declared = declared
    }

    /// The parser of one `mt` command, from its declaration.
    public init<C: Command>(_ arguments: [String], for command: C.Type) {
        self.init(arguments, command: command.name, usage: command.usage, declared: command.options)
    }

    /// The declaration of `long`; an undeclared name is a programming error.
    private func spec(_ long: String) -> OptionSpec? {
        guard let declared else { return nil }
        guard let spec = declared.first(where: { $0.long == long }), spec.kind != .global else {
            preconditionFailure("mt \(command) parses \(long) without declaring it in its options")
        }
        return spec
    }

    /// True when `--help`/`-h` was given.
    public mutating func wantsHelp() -> Bool { flag("--help", short: "-h") }

    public mutating func flag(_ long: String, short: String? = nil) -> Bool {
        let short = short ?? spec(long)?.short
        var found = false
        args.removeAll { a in
            let hit = a == long || (short != nil && a == short)
            if hit { found = true }
            return hit
        }
        if found { given.insert(long) }
        return found
    }

    /// Every value of a repeatable option, in order.
    public mutating func values(_ long: String, short: String? = nil) throws -> [String] {
        let short = short ?? spec(long)?.short
        var out: [String] = []
        var kept: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == long || (short != nil && a == short) {
                guard i + 1 < args.count, !(args[i + 1].hasPrefix("-") && args[i + 1] != "-") || Self.isNumber(args[i + 1]) else {
                    throw MTError.usage("\(a) needs a value", usage: usage)
                }
                out.append(args[i + 1])
                i += 2
                continue
            }
            if a.hasPrefix(long + "=") {
                let v = String(a.dropFirst(long.count + 1))
                guard !v.isEmpty else { throw MTError.usage("\(long) needs a value", usage: usage) }
                out.append(v)
            } else {
                kept.append(a)
            }
            i += 1
        }
        args = kept
        if !out.isEmpty { given.insert(long) }
        return out
    }

    /// A single-valued option; given twice is a usage error.
    public mutating func value(_ long: String, short: String? = nil) throws -> String? {
        let all = try values(long, short: short)
        guard all.count <= 1 else { throw MTError.usage("\(long) given more than once", usage: usage) }
        return all.first
    }

    /// An integer option within bounds (by default the declared range).
    public mutating func int(_ long: String, short: String? = nil, range: ClosedRange<Int>? = nil) throws -> Int? {
        guard case .integer(let declaredRange)? = spec(long)?.kind ?? range.map({ .integer($0) }) else {
            preconditionFailure("mt \(command): \(long) is not declared as an integer")
        }
        let range = range ?? declaredRange
        guard let s = try value(long, short: short) else { return nil }
        guard let n = Int(s), range.contains(n) else {
            throw MTError.usage("\(long) expects a whole number from \(range.lowerBound) to \(range.upperBound), got '\(s)'", usage: usage)
        }
        return n
    }

    /// One of a fixed set of words (by default the declared ones).
    public mutating func choice(_ long: String, _ allowed: [String]? = nil) throws -> String? {
        guard case .choice(let declaredWords)? = spec(long)?.kind ?? allowed.map({ .choice($0) }) else {
            preconditionFailure("mt \(command): \(long) is not declared as a choice")
        }
        let allowed = allowed ?? declaredWords
        guard let s = try value(long) else { return nil }
        guard allowed.contains(s) else {
            throw MTError.usage("\(long) must be one of \(allowed.joined(separator: ", ")), got '\(s)'", usage: usage)
        }
        return s
    }

    /// What is left: positional arguments. Anything else that looks like an option is refused.
    public func positionals() throws -> [String] {
        for a in args where a.hasPrefix("-") && a != "-" && !Self.isNumber(a) {
            throw MTError.usage("unknown option \(a)", usage: usage)
        }
        return args + afterDashDash
    }

    /// Positionals, at most `max` of them.
    public func positionals(max: Int) throws -> [String] {
        let p = try positionals()
        guard p.count <= max else {
            throw MTError.usage("too many arguments: \(p.dropFirst(max).joined(separator: " "))", usage: usage)
        }
        return p
    }

    private static func isNumber(_ s: String) -> Bool { Int(s) != nil }
}
