import Foundation
import MTCore
import MTTestSupport
import Testing

/// Every exit code a command returns is in its man page's EXIT STATUS and its `--help`; and no failing command
/// shows a fixture's password, whatever went wrong.
@Suite struct ExitStatusTests {
    static let commands = ["export", "decrypt", "recover", "benchmark", "verify", "scales", "stats"]
    static let passwords = ["Fixture-Pw-4d8e1", "Fixture-Smtp-9q2z7"]

    /// The codes of a man page's EXIT STATUS section (`.B N` items).
    static func manCodes(_ command: String) throws -> Set<Int32> {
        let text = try FileSystem.readString(Products.packageRoot + "/man/mt-\(command).1")
        guard let start = text.range(of: ".SH EXIT STATUS\n") else { return [] }
        let rest = text[start.upperBound...]
        let body = rest.range(of: "\n.SH ").map { rest[..<$0.lowerBound] } ?? rest
        return Set(body.split(separator: "\n").compactMap { line in
            line.hasPrefix(".B ") ? Int32(line.dropFirst(3).trimmingCharacters(in: .whitespaces)) : nil
        })
    }

    /// The codes of the command's own EXIT STATUS list in `mt CMD --help` (before the shared table).
    static func helpCodes(_ command: String) throws -> Set<Int32> {
        let r = try Run.mt([command, "--help"])
        guard let start = r.stdout.range(of: "\nEXIT STATUS"), let end = r.stdout.range(of: "\nGLOBAL OPTIONS") else { return [] }
        let body = r.stdout[start.upperBound..<end.lowerBound]
        return Set(body.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().compactMap { line in
            // "  64  usage error": two spaces, the code, two spaces.
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.flatMap { Int32($0) }
        })
    }

    @Test(arguments: commands)
    func manPageAndHelpListTheSameCodes(_ command: String) throws {
        let man = try Self.manCodes(command), help = try Self.helpCodes(command)
        #expect(!man.isEmpty && !help.isEmpty, "\(command): no EXIT STATUS found")
        #expect(man == help, "\(command): man page \(man.sorted()) vs --help \(help.sorted())")
        let known = Set(ExitCode.allCases.map(\.rawValue))
        #expect(man.isSubset(of: known), "\(command): codes outside the shared table: \(man.subtracting(known).sorted())")
    }

    /// A lab with one server, its password inline and in the environment, and a data directory an export
    /// could have left.
    final class Lab: @unchecked Sendable {
        let dir: TempDir
        let config: String
        var data: String { dir.path + "/data" }
        var layout: DataLayout { DataLayout(root: data) }

        init(configText: ((String) -> String)? = nil, mode: mode_t = 0o600) throws {
            dir = try TempDir("mt-exit")
            try DataLayout(root: dir.path + "/data").create()
            let text = """
                lab:
                  READY: true
                  DELETE_MODE: true
                  SERVER: http://127.0.0.1:9/api/
                  USER: admin
                  PASS: \(ExitStatusTests.passwords[0])
                  PATH: data
                  ALERT_EMAIL: lab@example.edu
                  SMTP_SERVER: smtp://127.0.0.1:9
                  SMTP_PASS: \(ExitStatusTests.passwords[1])
                  CONNECT_TIMEOUT: 2
                  TIMEOUT: 3
                  RETRIES: 0

                """
            config = try dir.write("c.yaml", configText?(text) ?? text, mode: mode)
        }

        deinit { dir.remove() }

        func mt(_ args: [String]) throws -> RunResult {
            try Run.mt(["--config", config] + args, environment: ["MT_PASS_LAB": ExitStatusTests.passwords[0]], cwd: dir.path)
        }
    }

    /// What is done to the lab before the command runs.
    enum Setup: String, CaseIterable, Sendable {
        case none, duplicateKey, readableConfig, lockIsFolder, lockIsSymlink, rawDataIsFile, logsIsFile,
             corruptBenchmark, checksumsIsSymlink, noDataDirectory, missingInput
    }

    static let invocations: [(command: String, args: [String])] = [
        ("export", ["export"]),
        ("export", ["export", "lab", "OA", "--bogus"]),
        ("benchmark", ["benchmark", "lab"]),
        ("benchmark", ["benchmark", "lab", "--remote"]),
        ("benchmark", ["benchmark", "lab", "set", "OA", "5", "--yes"]),
        ("benchmark", ["benchmark", "lab", "reset", "OA"]),
        ("benchmark", ["benchmark", "lab", "rebuild", "--yes"]),
        ("verify", ["verify", "lab"]),
        ("verify", ["verify", "lab", "--remote"]),
        ("recover", ["recover", "lab"]),
        ("decrypt", ["decrypt", "--server", "lab", "missing.json"]),
        ("scales", ["scales", "lab"]),
        ("stats", ["stats", "lab"]),
        ("config", ["config", "check"]),
    ]

    static func apply(_ setup: Setup, to lab: Lab) throws -> Lab {
        switch setup {
        case .none: return lab
        case .duplicateKey: return try Lab(configText: { $0 + "  READY: false\n" })
        case .readableConfig: return try Lab(mode: 0o644)
        case .lockIsFolder: try FileSystem.makeDirectories(lab.data + "/.mt.lock")
        case .lockIsSymlink: symlink(lab.dir.path + "/nowhere", lab.data + "/.mt.lock")
        case .rawDataIsFile:
            try FileManager.default.removeItem(atPath: lab.layout.raw)
            try FileSystem.writeAtomically(Array("x".utf8), to: lab.layout.raw)
        case .logsIsFile:
            try FileManager.default.removeItem(atPath: lab.layout.logs)
            try FileSystem.writeAtomically(Array("x".utf8), to: lab.layout.logs)
        case .corruptBenchmark: try FileSystem.writeAtomically(Array(#"{"OA": 5"#.utf8), to: lab.layout.benchmark)
        case .checksumsIsSymlink: symlink(lab.dir.path + "/nowhere", lab.layout.checksums)
        case .noDataDirectory: try FileManager.default.removeItem(atPath: lab.data)
        case .missingInput: try FileManager.default.removeItem(atPath: lab.layout.raw)
        }
        return lab
    }

    /// Each command under each fault: the code is one its man page documents (never 70, an internal error),
    /// and neither password appears in anything it printed or logged.
    @Test(arguments: Setup.allCases)
    func everyCodeIsDocumentedAndNoPasswordIsShown(_ setup: Setup) throws {
        var documented: [String: Set<Int32>] = [:]
        for c in Self.commands { documented[c] = try Self.manCodes(c) }
        // mt config has no page of its own: its --help (and mt(1)) list its codes.
        documented["config"] = try Self.helpCodes("config")
        #expect(documented["config"] == [0, 64, 73, 74, 77, 78])
        for (command, args) in Self.invocations {
            let lab = try Self.apply(setup, to: try Lab())
            let r = try lab.mt(args)
            let what = "\(setup) mt \(args.joined(separator: " ")) exited \(r.code)"
            #expect(documented[command]!.contains(r.code), "\(what), which mt-\(command)(1) does not list:\n\(r.stderr)")
            #expect(r.code != ExitCode.software.rawValue, "\(what): \(r.stderr)")
            var shown = r.stdout + r.stderr
            for name in (try? FileSystem.list(lab.layout.logs)) ?? [] {
                shown += (try? FileSystem.readString(lab.layout.logs + "/" + name)) ?? ""
            }
            for pw in Self.passwords { #expect(!shown.contains(pw), "\(what) shows a password:\n\(shown)") }
        }
    }

    /// The exact codes of the wrong-type cases, with the hint that leads out.
    @Test func wrongTypesGet73AndTheWayOut() throws {
        for setup in [Setup.lockIsFolder, .lockIsSymlink, .rawDataIsFile, .checksumsIsSymlink] {
            let lab = try Self.apply(setup, to: try Lab())
            let r = try lab.mt(["export"])
            #expect(r.code == 73, "\(setup): \(r.stderr)")
            #expect(r.stderr.contains("move it aside"), "\(setup): \(r.stderr)")
            #expect(!r.stderr.contains("free disk space"), "\(setup): \(r.stderr)")
        }
    }
}
