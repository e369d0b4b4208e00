/// Hand parsing of one command's arguments (the user chose no argument-parsing package).
///
/// Each call takes what it matches out of the list; `positionals()` then refuses anything left that looks
/// like an option. Accepts `--name VALUE`, `--name=VALUE` and grouped short flags are not supported on purpose:
/// scripts stay readable.
public struct ArgumentParser: Sendable {
    private var args: [String]
    private var afterDashDash: [String] = []
    public let usage: String
    public let command: String

    public init(_ arguments: [String], command: String, usage: String) {
        if let i = arguments.firstIndex(of: "--") {
            args = Array(arguments[..<i])
            afterDashDash = Array(arguments[(i + 1)...])
        } else {
            args = arguments
        }
        self.usage = usage
        self.command = command
    }

    /// True when `--help`/`-h` was given.
    public mutating func wantsHelp() -> Bool { flag("--help", short: "-h") }

    public mutating func flag(_ long: String, short: String? = nil) -> Bool {
        var found = false
        args.removeAll { a in
            let hit = a == long || (short != nil && a == short)
            if hit { found = true }
            return hit
        }
        return found
    }

    /// Every value of a repeatable option, in order.
    public mutating func values(_ long: String, short: String? = nil) throws -> [String] {
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
        return out
    }

    /// A single-valued option; given twice is a usage error.
    public mutating func value(_ long: String, short: String? = nil) throws -> String? {
        let all = try values(long, short: short)
        guard all.count <= 1 else { throw MTError.usage("\(long) given more than once", usage: usage) }
        return all.first
    }

    /// An integer option within bounds.
    public mutating func int(_ long: String, short: String? = nil, range: ClosedRange<Int>) throws -> Int? {
        guard let s = try value(long, short: short) else { return nil }
        guard let n = Int(s), range.contains(n) else {
            throw MTError.usage("\(long) expects a whole number from \(range.lowerBound) to \(range.upperBound), got '\(s)'", usage: usage)
        }
        return n
    }

    /// One of a fixed set of words.
    public mutating func choice(_ long: String, _ allowed: [String]) throws -> String? {
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
