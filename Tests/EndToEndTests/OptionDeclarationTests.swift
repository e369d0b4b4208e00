import Foundation
import MTCore
import MTTestSupport
import Testing

/// Each command declares its options once (`Command.options`); `--help` is generated from that declaration.
/// The man pages and the three completion files are still written by hand, so this suite holds them to it:
/// every declared option is documented and completed, and nothing documents or completes an option the command
/// does not declare. The declarations are read from the built binary's help (every command `mt help` lists), so
/// a new command is checked as soon as it is in the command table.
@Suite struct OptionDeclarationTests {
    /// Names of one option: "--output" and "-o".
    struct Names: Hashable, CustomStringConvertible {
        var long: String
        var short: String?
        var description: String { short.map { "\($0)/\(long)" } ?? long }
    }

    static let globals = Set(GlobalOptions.declarations.map { Names(long: $0.long, short: $0.short) })
    /// Taken by the dispatcher for every command.
    static let always: Set<String> = ["--help", "-h", "--version"]
    static var globalNames: Set<String> { Set(globals.flatMap { [$0.long] + ($0.short.map { [$0] } ?? []) }).union(always) }

    /// The commands of `mt help`, in its order.
    static func commands() throws -> [String] {
        let r = try Run.mt(["help"])
        guard let start = r.stdout.range(of: "\nCommands:\n") else { return [] }
        return r.stdout[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { !$0.isEmpty }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// The options of the OPTIONS section `mt help CMD` generates, global options it lists for itself left out.
    static func declared(_ command: String) throws -> Set<Names> {
        let help = try Run.mt(["help", command]).stdout
        guard let start = help.range(of: "\nOPTIONS\n") else { return [] }
        var out: Set<Names> = []
        for line in help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { break }
            guard line.hasPrefix("  -") else { continue }
            let words = line.dropFirst(2).split(separator: " ")
            let names = words.prefix { $0.hasPrefix("-") }.map { $0.hasSuffix(",") ? String($0.dropLast()) : String($0) }
            guard let long = names.first(where: { $0.hasPrefix("--") }) else { continue }
            out.insert(Names(long: long, short: names.first { !$0.hasPrefix("--") }))
        }
        return out.subtracting(globals)
    }

    /// Every option name in `text`: --long and -x (roff escapes and font changes already removed).
    static func optionNames(_ text: String) -> Set<String> {
        let regex = try! NSRegularExpression(pattern: #"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z](?![\w-]))"#)
        let ns = text as NSString
        return Set(regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) })
    }

    static func plainRoff(_ text: some StringProtocol) -> String {
        var s = String(text).replacingOccurrences(of: "\\-", with: "-")
        for font in ["\\fB", "\\fI", "\\fR", "\\fP"] { s = s.replacingOccurrences(of: font, with: " ") }
        return s
    }

    /// The body of a man page's `.SH NAME` section.
    static func section(_ page: String, _ name: String) -> String {
        guard let start = page.range(of: "\n.SH \(name)\n") else { return "" }
        let rest = page[start.upperBound...]
        return String(rest.range(of: "\n.SH ").map { rest[..<$0.lowerBound] } ?? rest)
    }

    /// The options a man page section documents as items: the line after each `.TP`.
    static func items(_ section: String) -> Set<String> {
        let lines = section.split(separator: "\n", omittingEmptySubsequences: false)
        var out: Set<String> = []
        for (i, line) in lines.enumerated() where line == ".TP" && i + 1 < lines.count {
            out.formUnion(optionNames(plainRoff(lines[i + 1])))
        }
        return out
    }

    static func read(_ relative: String) throws -> String {
        try FileSystem.readString(Products.packageRoot + "/" + relative)
    }

    // MARK: completion files, per command

    /// bash: the `case "$cmd" in` arms of `_mt`.
    static func bash() throws -> (commands: [String: Set<String>], globals: Set<String>) {
        let text = try read("completions/mt.bash")
        let body = text.components(separatedBy: "\n_mt() {")[1].components(separatedBy: "\ncomplete -F _mt mt")[0]
        let globalsLine = body.split(separator: "\n").first { $0.contains("local globals=") } ?? ""
        let cases = body.components(separatedBy: "case \"$cmd\" in")[1].components(separatedBy: "\n    esac")[0]
        // Only the words an arm offers (opts="..."), not the compgen flags around them.
        let offered = try! NSRegularExpression(pattern: #"opts="([^"]*)""#)
        let arms = Self.arms(in: cases, indent: "        ").mapValues { arm in
            let ns = arm as NSString
            return optionNames(offered.matches(in: arm, range: NSRange(location: 0, length: ns.length))
                .map { ns.substring(with: $0.range(at: 1)) }.joined(separator: " "))
        }
        return (arms, optionNames(String(globalsLine)))
    }

    /// zsh: the `case $words[1] in` arms of `_mt_cmd`, and the `_arguments -C` of `_mt`.
    static func zsh() throws -> (commands: [String: Set<String>], globals: Set<String>) {
        let text = try read("completions/_mt")
        let described = try! NSRegularExpression(pattern: #"\[[^\]]*\]"#)
        func strip(_ s: String) -> String {
            described.stringByReplacingMatches(in: s, range: NSRange(location: 0, length: (s as NSString).length), withTemplate: "")
        }
        let cmd = text.components(separatedBy: "\n_mt_cmd() {")[1].components(separatedBy: "\n}\n")[0]
        let arms = cmd.components(separatedBy: "case $words[1] in")[1].components(separatedBy: "\n  esac")[0]
        let top = text.components(separatedBy: "_arguments -C")[1].components(separatedBy: "'1:command:")[0]
        return (Self.arms(in: strip(arms), indent: "    ").mapValues(optionNames), optionNames(strip(top)))
    }

    /// fish: `complete -c mt` lines, by the subcommands of their `__fish_seen_subcommand_from` condition; lines
    /// without a condition are the global ones.
    static func fish() throws -> (commands: [String: Set<String>], globals: Set<String>) {
        let text = try read("completions/mt.fish")
        var commands: [String: Set<String>] = [:]
        var globals: Set<String> = []
        let long = try! NSRegularExpression(pattern: #"\s-l (\S+)"#), short = try! NSRegularExpression(pattern: #"\s-s (\S)"#)
        for line in text.split(separator: "\n").map(String.init) where line.hasPrefix("complete -c mt ") {
            let ns = line as NSString, range = NSRange(location: 0, length: ns.length)
            let names = Set(long.matches(in: line, range: range).map { "--" + ns.substring(with: $0.range(at: 1)) }
                + short.matches(in: line, range: range).map { "-" + ns.substring(with: $0.range(at: 1)) })
            if let condition = line.range(of: "-n \"__fish_seen_subcommand_from ") {
                let words = line[condition.upperBound...].prefix { $0 != "\"" }.split(separator: " ")
                for w in words { commands[String(w), default: []].formUnion(names) }
            } else if !line.contains(" -n ") {
                globals.formUnion(names)
            }
        }
        return (commands, globals)
    }

    /// `    word) ...` arms of a shell `case`, each up to its `;;`: the text of each.
    static func arms(in text: String, indent: String) -> [String: String] {
        var out: [String: String] = [:]
        var current: String?
        var buffer = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if current == nil, line.hasPrefix(indent), let paren = line.firstIndex(of: ")"),
               line[line.index(line.startIndex, offsetBy: indent.count)..<paren].allSatisfy({ $0.isLetter }) {
                current = String(line[line.index(line.startIndex, offsetBy: indent.count)..<paren])
                buffer = String(line[line.index(after: paren)...])
            } else if current != nil {
                buffer += "\n" + line
            }
            if let c = current, buffer.contains(";;") {
                out[c] = buffer
                current = nil
            }
        }
        return out
    }

    // MARK: tests

    @Test func everyCommandIsChecked() throws {
        let commands = try Self.commands()
        #expect(commands.count >= 8, "mt help lists \(commands)")
        #expect(commands.contains("export") && commands.contains("config"))
    }

    @Test func manPagesDocumentExactlyTheDeclaredOptions() throws {
        for command in try Self.commands() {
            let declared = try Self.declared(command)
            let page = try Self.read(command == "config" ? "man/mt.1" : "man/mt-\(command).1")
            let sections = command == "config" ? ["SYNOPSIS", "GLOBAL OPTIONS"] : ["SYNOPSIS", "OPTIONS"]
            let documented = Self.items(Self.plainRoff(Self.section(page, sections[1])))
            for o in declared {
                #expect(documented.contains(o.long), "mt \(command) declares \(o) but its man page's \(sections[1]) has no item for it")
                if let s = o.short { #expect(documented.contains(s), "mt \(command): the man page's item for \(o.long) does not say \(s)") }
            }
            let allowed = Set(declared.flatMap { [$0.long] + ($0.short.map { [$0] } ?? []) }).union(Self.globalNames)
            for name in sections {
                let named = Self.optionNames(Self.plainRoff(Self.section(page, name)))
                #expect(named.isSubset(of: allowed),
                        "the man page of mt \(command) names \(named.subtracting(allowed).sorted()) in \(name), which mt \(command) does not declare")
            }
        }
    }

    @Test func mtOneDocumentsExactlyTheGlobalOptions() throws {
        let page = try Self.read("man/mt.1")
        let documented = Self.items(Self.plainRoff(Self.section(page, "GLOBAL OPTIONS")))
        let expected = Set(Self.globals.flatMap { [$0.long] + ($0.short.map { [$0] } ?? []) })
        #expect(documented == expected, "mt.1 GLOBAL OPTIONS: \(documented.sorted()) vs declared \(expected.sorted())")
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionsOfferExactlyTheDeclaredOptions(_ shell: String) throws {
        let (arms, globals) = try shell == "bash" ? Self.bash() : shell == "zsh" ? Self.zsh() : Self.fish()
        let globalLongs = Set(Self.globals.map(\.long))
        #expect(globalLongs.isSubset(of: globals), "\(shell): global options not completed: \(globalLongs.subtracting(globals).sorted())")
        #expect(globals.isSubset(of: Self.globalNames), "\(shell): completes global options mt does not have: \(globals.subtracting(Self.globalNames).sorted())")
        for command in try Self.commands() {
            let declared = try Self.declared(command)
            let offered = arms[command] ?? []
            for o in declared {
                #expect(offered.contains(o.long), "\(shell) completion of mt \(command) lacks \(o.long)")
            }
            let allowed = Set(declared.flatMap { [$0.long] + ($0.short.map { [$0] } ?? []) }).union(Self.globalNames)
            #expect(offered.isSubset(of: allowed),
                    "\(shell) completion of mt \(command) offers \(offered.subtracting(allowed).sorted()), which mt \(command) does not declare")
        }
    }

    /// mt-config(5) documents every key the configuration accepts: a key added to `MTConfig.knownKeys` without its
    /// paragraph there fails here.
    @Test func everyConfigurationKeyIsInTheConfigPage() throws {
        let page = try Self.read("man/mt-config.5")
        // The words of the paragraph heads (`.B KEY`, `.BR KEY ", " OTHER`), quoted parts aside.
        let heads = page.split(separator: "\n").filter { $0.hasPrefix(".B ") || $0.hasPrefix(".BR ") }
            .flatMap { $0.split(separator: "\"").enumerated().filter { $0.offset % 2 == 0 }.flatMap { $0.element.split(separator: " ") } }
        let undocumented = MTConfig.knownKeys.subtracting(heads.map(String.init))
        #expect(undocumented.isEmpty, "keys without a paragraph in man/mt-config.5: \(undocumented.sorted())")
    }

    /// Every man page renders without a warning from man(1), as lintian renders them for the package (an unbreakable
    /// line of JSON made `make deb` fail): `man --warnings` at 80 columns says nothing.
    @Test func everyManPageRendersWithoutAWarning() throws {
        let pages = try FileSystem.list(Products.packageRoot + "/man").filter { $0.hasSuffix(".1") || $0.hasSuffix(".5") }.sorted()
        #expect(pages.count > 10)
        for page in pages {
            let r = try Run.program("/usr/bin/man", ["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", Products.packageRoot + "/man/" + page],
                                    environment: ["LC_ALL": "C.UTF-8", "MANWIDTH": "80", "MANROFFSEQ": ""])
            #expect(r.code == 0 && r.stderr.isEmpty, "man/\(page): \(r.stderr)")
        }
    }
}
