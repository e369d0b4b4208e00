import MTCore
import Testing

/// The parser and the generated help read one declaration.
@Suite struct OptionSpecTests {
    struct Sample: Command {
        static let name = "sample"
        static let summary = "a command for the test"
        static let usage = "mt sample [-o OUT] [--level N] [--mode a|b] [--tag T]... [--yes] FILE..."
        static let help = "Does nothing."
        static let options: [OptionSpec] = [
            .value("--output", short: "-o", "OUT", "write OUT"),
            .integer("--level", "N", range: 1...3, "how much"),
            .choice("--mode", ["a", "b"], "which way", verbs: ["run"]),
            .values("--tag", "T", "a tag\nrepeatable"),
            .flag("--yes", short: "-y", "do not ask"),
            .global("--json", "print JSON"),
        ]
        static let exitStatus = "EXIT STATUS\n  0   done"
        static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode { .ok }
    }

    @Test func shortNamesRangesAndWordsComeFromTheDeclaration() throws {
        var p = ArgumentParser(["-o", "x.csv", "--level=2", "--mode", "b", "--tag", "t1", "-y", "--tag=t2", "f1"], for: Sample.self)
        let output = try p.value("--output"), level = try p.int("--level"), mode = try p.choice("--mode")
        let tags = try p.values("--tag"), yes = p.flag("--yes")
        #expect(output == "x.csv" && level == 2 && mode == "b" && tags == ["t1", "t2"] && yes)
        #expect(try p.positionals() == ["f1"])
        #expect(p.given == ["--output", "--level", "--mode", "--tag", "--yes"])
    }

    @Test func valuesOutsideTheDeclarationAreUsageErrors() throws {
        #expect(throws: MTError.self) {
            var level = ArgumentParser(["--level", "4"], for: Sample.self)
            _ = try level.int("--level")
        }
        #expect(throws: MTError.self) {
            var mode = ArgumentParser(["--mode", "c"], for: Sample.self)
            _ = try mode.choice("--mode")
        }
        // An option the command does not declare is left over, and refused with the usage line.
        var other = ArgumentParser(["--bogus", "f"], for: Sample.self)
        let yes = other.flag("--yes")
        #expect(!yes)
        #expect(throws: MTError.usage("unknown option --bogus", usage: Sample.usage)) { try other.positionals() }
    }

    @Test func helpListsEveryDeclaredOptionInOneColumn() {
        let text = OptionSpec.helpText(Sample.options)
        #expect(text == """
              -o, --output OUT  write OUT
              --level N         how much
              --mode a|b        run: which way
              --tag T           a tag
                                repeatable
              -y, --yes         do not ask
              --json            print JSON
            """)
        let full = Sample.fullHelp
        #expect(full.contains("\n\nOPTIONS\n" + text + "\n\nEXIT STATUS\n  0   done\n\nGLOBAL OPTIONS\n"))
        for g in GlobalOptions.declarations { #expect(full.contains("  " + g.synopsis)) }
    }

    /// The dispatcher takes exactly the declared global options, long and short, wherever they stand.
    @Test func theDispatcherTakesEveryDeclaredGlobalOption() throws {
        for g in GlobalOptions.declarations {
            for name in [g.long] + (g.short.map { [$0] } ?? []) {
                let args = g.kind == .flag ? ["export", name] : ["export", name, "x"]
                let (_, rest) = try GlobalOptions.extract(from: args)
                #expect(rest == ["export"], "\(name) is declared but not taken")
            }
        }
        let (_, rest) = try GlobalOptions.extract(from: ["export", "--dry-run"])
        #expect(rest == ["export", "--dry-run"])
    }
}
