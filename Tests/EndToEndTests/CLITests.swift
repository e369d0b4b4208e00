import Foundation
import MTCore
import MTTestSupport
import Testing

/// The dispatcher through the built binary: help, did-you-mean, usage errors, global options, config checks.
@Suite struct CLITests {
    static let seven = ["export", "decrypt", "recover", "benchmark", "verify", "scales", "stats"]

    @Test func helpListsAllSevenCommandsAndTheExitCodes() throws {
        let r = try Run.mt(["help"])
        #expect(r.code == 0)
        for c in Self.seven { #expect(r.stdout.contains("   \(c) "), "mt help should list \(c)") }
        #expect(r.stdout.contains("75  another run holds the data directory lock"))
        #expect(try Run.mt(["--help"]).stdout == r.stdout)
    }

    @Test func everyCommandHasHelpWithExitStatus() throws {
        for c in Self.seven + ["config"] {
            let a = try Run.mt(["help", c]), b = try Run.mt([c, "--help"])
            #expect(a.code == 0 && b.code == 0)
            #expect(a.stdout == b.stdout)
            #expect(a.stdout.contains("usage: mt \(c)"))
            #expect(a.stdout.components(separatedBy: "EXIT STATUS").count == 2, "one EXIT STATUS section in mt \(c) --help")
        }
    }

    @Test func typoSuggestsTheCommandAndExits64() throws {
        let r = try Run.mt(["exprot"])
        #expect(r.code == 64)
        #expect(r.stderr.contains("'exprot' is not an mt command"))
        #expect(r.stderr.contains("export"))
        #expect(try Run.mt([]).code == 64)
        #expect(try Run.mt(["help", "nope"]).code == 64)
    }

    @Test func versionAndGlobalOptionsAnywhere() throws {
        let v = try Run.mt(["--version"])
        #expect(v.code == 0 && v.stdout.hasPrefix("mt "))
        let dir = try TempDir()
        defer { dir.remove() }
        let cfg = try dir.write("c.yaml", "lab:\n  SERVER: https://h/api/\n  USER: u\n  PATH: data\n", mode: 0o600)
        let before = try Run.mt(["--json", "--config", cfg, "config", "check"])
        let after = try Run.mt(["config", "check", "--json", "--config=\(cfg)"])
        #expect(before.stdout == after.stdout)
        #expect(before.stdout.contains("\"servers\""))
    }

    @Test func badOptionValuesGiveTheUsageLine() throws {
        let r = try Run.mt(["config", "--bogus"])
        #expect(r.code == 64)
        #expect(r.stderr.contains("unknown option --bogus"))
        #expect(r.stderr.contains("usage: mt config"))
        let c = try Run.mt(["--config"])
        #expect(c.code == 64)
    }

    @Test func usageErrorsNameTheCommandOnce() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let cfg = try dir.write("c.yaml", "lab:\n  SERVER: https://h/api/\n  USER: u\n  PATH: data\n", mode: 0o600)
        for args in [["export", "--after", "yesterday"], ["scales", "show", "OA", "--scale", "OA"],
                     ["benchmark", "lab", "frob"], ["stats", "summary", "lab", "OA", "extra"],
                     ["scales", "show"], ["status", "--max-age", "soon"], ["stats", "flow", "--scale", "OA"]] {
            let r = try Run.mt(["--config", cfg] + args)
            #expect(r.code == 64, "\(args)")
            #expect(r.stderr.hasPrefix("mt \(args[0]): "), "\(args): \(r.stderr)")
            #expect(!r.stderr.contains("mt \(args[0]): mt \(args[0])"), "\(args): \(r.stderr)")
        }
    }

    @Test func worldReadableConfigWithPasswordIsRefusedWithTheChmod() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let cfg = try dir.write("server.yaml", "lab:\n  SERVER: https://h/api/\n  USER: u\n  PASS: hunter2\n  PATH: data\n", mode: 0o644)
        let r = try Run.mt(["--config", cfg, "config", "check"])
        #expect(r.code == 77)
        #expect(r.stderr.contains("chmod 600 \(cfg)"))
        #expect(!r.stderr.contains("hunter2"))
        #expect(!r.stdout.contains("hunter2"))
        chmod(cfg, 0o600)
        let ok = try Run.mt(["--config", cfg, "config", "check"])
        #expect(ok.code == 0, "\(ok.stdout) \(ok.stderr)")
        #expect(!ok.stdout.contains("hunter2"))
    }

    @Test func configCheckFindsProblemsWithoutTheNetwork() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let cfg = try dir.write("c.yaml", """
            lab:
              READY: true
              SERVER: http://example.org/api/
              USER: u
              PASS_FILE: missing.pass
              PRIVATE_FILE: nokey.pem
              PATH: data
            """, mode: 0o600)
        let r = try Run.mt(["--config", cfg, "config", "check"])
        #expect(r.code == 78)
        #expect(r.stdout.contains("refusing plain http://"))
        // A PASS_FILE naming no file is shown by its length: its value might be the password itself.
        #expect(r.stdout.contains("PASS_FILE names no file (its value, 12 characters"), "\(r.stdout)")
        #expect(!r.stdout.contains("missing.pass"))
        #expect(r.stdout.contains("nokey.pem"))
    }

    @Test func configLookupUsesMT_CONFIGAndReportsWhereItLooked() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let cfg = try dir.write("x.yaml", "lab:\n  SERVER: https://h/api/\n  PATH: d\n")
        let r = try Run.mt(["config", "path"], environment: ["MT_CONFIG": cfg], cwd: dir.path)
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == cfg)
        let none = try Run.mt(["config", "check"], environment: ["HOME": dir.path], cwd: dir.path)
        #expect(none.code == 78)
        #expect(none.stderr.contains("no configuration found"))
    }

    @Test func bashCompletionOffersTheSevenCommands() throws {
        let script = """
            source '\(Products.packageRoot)/completions/mt.bash'
            COMP_WORDS=(mt ''); COMP_CWORD=1; _mt; echo "${COMPREPLY[*]}"
            COMP_WORDS=(mt -v ver); COMP_CWORD=2; _mt; echo "${COMPREPLY[*]}"
            """
        let r = try Run.program("/bin/bash", ["-c", script])
        #expect(r.code == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let offered = Set(lines[0].split(separator: " ").map(String.init))
        for c in Self.seven { #expect(offered.contains(c), "completion should offer \(c)") }
        #expect(lines[1] == "verify")
    }

    @Test func zshAndFishCompletionsAreValidSyntax() throws {
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/fish") {
            #expect(try Run.program("/usr/bin/fish", ["--no-execute", Products.packageRoot + "/completions/mt.fish"]).code == 0)
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh") {
            #expect(try Run.program("/usr/bin/zsh", ["-n", Products.packageRoot + "/completions/_mt"]).code == 0)
        }
        let text = try String(contentsOfFile: Products.packageRoot + "/completions/mt.fish", encoding: .utf8)
        for c in Self.seven { #expect(text.contains("-a \(c)")) }
    }
}

/// `mt --version` says what ran, as `curl -V` does: mt's version from VERSION (the one owner, which the Debian
/// package reads too), the commit, the Swift compiler and the libraries as loaded.
@Suite struct VersionTests {
    @Test func versionNamesTheBuildAndTheLibrariesInUse() throws {
        let version = try FileSystem.readString(Products.packageRoot + "/VERSION").trimmingCharacters(in: .whitespacesAndNewlines)
        let v = try Run.mt(["--version"])
        #expect(v.code == 0 && v.stderr.isEmpty)
        let lines = v.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "mt \(version)", "\(v.stdout)")
        for (label, pattern) in [("commit: ", #"^commit: ([0-9a-f]{40}(-dirty)?|unknown)$"#),
                                 ("Swift: ", #"^Swift: 6\.[0-9]"#),
                                 ("libcurl: ", #"^libcurl: [0-9]+\.[0-9]+\.[0-9]+ \(OpenSSL/[0-9]"#),
                                 ("OpenSSL: ", #"^OpenSSL: OpenSSL [0-9]+\.[0-9]+\.[0-9]+"#),
                                 ("zlib: ", #"^zlib: [0-9]+\.[0-9]+\.[0-9]+"#)] {
            let line = lines.first { $0.hasPrefix(label) } ?? "(no \(label)line)"
            #expect(line.range(of: pattern, options: .regularExpression) != nil, "\(line) against \(pattern)")
        }
        // The library is the one loaded now, as the curl CLI (scripts/deps.sh installs it) reports it.
        let c = try Run.program("/usr/bin/curl", ["-V"])
        let loaded = lines.first { $0.hasPrefix("libcurl: ") }?.dropFirst("libcurl: ".count).split(separator: " ").first
        #expect(loaded.map { c.stdout.contains("libcurl/\($0)") } == true, "\(c.stdout)")

        let j = try Run.mt(["--version", "--json"])
        #expect(j.code == 0)
        let json = try JSONParser.parse(Array(j.stdout.utf8))
        #expect(json["version"]?.stringValue == version)
        for key in ["swift", "libcurl", "libcurlTLS", "openssl", "zlib"] {
            #expect(json[key]?.stringValue?.isEmpty == false, "\(key) in \(j.stdout)")
        }
        #expect(json["commit"] != nil)
        // mt version and -V are the same report.
        #expect(try Run.mt(["-V"]).stdout == v.stdout)

        // VERSION is the one owner: no man page repeats the number (their .TH names the package only), and the
        // Debian changelog's newest entry is this version (make deb refuses otherwise).
        for page in try FileSystem.list(Products.packageRoot + "/man") {
            let th = try FileSystem.readString(Products.packageRoot + "/man/" + page).split(separator: "\n").first ?? ""
            #expect(th.hasPrefix(".TH ") && !th.contains(version), "man/\(page): \(th)")
        }
        let changelog = try FileSystem.readString(Products.packageRoot + "/debian/changelog")
        #expect(changelog.hasPrefix("mt (\(version)) "), "\(changelog.prefix(80))")
    }
}
