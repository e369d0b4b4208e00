import Foundation
import MTCore
import MTTestSupport
import Testing

/// Issue 27 ("trust nothing implicit"), end to end against mt-sim and the SMTP sink: secrets in odd places,
/// a misspelt key under cron, config check against export, commands without a server name, recovered CSVs of
/// released ids, and alert mails that neither storm nor say what is not so.
@Suite(.serialized) struct TrustNothingEndToEndTests {
    static let leak = "Zq7xPwLeak93"

    /// Replaces the config line starting with `prefix` (after its indentation) by `line`.
    func edit(_ f: ExportFixture, _ prefix: String, _ line: String?) throws {
        var lines = try FileSystem.readString(f.config).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let i = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) })
        if let line { lines[i] = "  " + line } else { lines.remove(at: i) }
        try FileSystem.writeAtomically(Array(lines.joined(separator: "\n").utf8), to: f.config, mode: 0o600)
    }

    func append(_ f: ExportFixture, _ text: String) throws {
        try FileSystem.writeAtomically(Array((try FileSystem.readString(f.config) + text).utf8), to: f.config, mode: 0o600)
    }

    func mt(_ f: ExportFixture, _ args: String...) throws -> RunResult { try Run.mt(["--config", f.config] + args) }

    /// Everything a run leaves where people read: its output, every log file, the mails, the run record.
    func everything(_ f: ExportFixture, _ runs: [RunResult]) -> String {
        var all = runs.map { $0.stdout + $0.stderr }.joined(separator: "\n")
        for file in ((try? FileSystem.list(f.data + "/logs")) ?? []) {
            all += (try? FileSystem.readString(f.data + "/logs/" + file)) ?? ""
        }
        all += f.smtp.messages().joined(separator: "\n")
        all += (try? FileSystem.readString(f.data + "/state/last_run.json")) ?? ""
        return all
    }

    /// Item 2: SERVER with user:password@ is refused where the config is read (78), naming USER and PASS_FILE;
    /// no command prints the password. Item 3: a password typed into PASS_FILE is shown by its length only, and
    /// the message is one readable line in the logs and the mail (no literal \u{a}).
    @Test func secretsInOddPlacesAreNeverShown() throws {
        let f = try ExportFixture()
        let url = f.sim.url.replacingOccurrences(of: "://", with: "://\(f.sim.user):\(Self.leak)@")
        try edit(f, "SERVER:", "SERVER: \"\(url)\"")
        var runs: [RunResult] = []
        for args in [["config", "check"], ["config", "check", "--json"], ["export"], ["status"], ["status", "--json"], ["verify"]] {
            let r = try Run.mt(["--config", f.config] + args)
            #expect(r.code == 78, "\(args): \(r.code) \(r.stdout)\(r.stderr)")
            runs.append(r)
        }
        #expect(runs[0].stderr.contains("user name or password in the URL") && runs[0].stderr.contains("PASS_FILE"), "\(runs[0].stderr)")
        var all = everything(f, runs)
        #expect(!all.contains(Self.leak), "the password in SERVER is shown: \(all)")

        try edit(f, "SERVER:", "SERVER: \"\(f.sim.url)\"")
        try edit(f, "PASS_FILE:", "PASS_FILE: \(Self.leak)")
        runs = []
        let check = try mt(f, "config", "check")
        #expect(check.code == 78, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("PASS_FILE names no file (its value, \(Self.leak.count) characters"), "\(check.stdout)")
        let export = try mt(f, "export")
        #expect(export.code == 78, "\(export.stdout)\(export.stderr)")
        runs += [check, export, try mt(f, "status"), try mt(f, "status", "--json"), try mt(f, "config", "check", "--json")]
        #expect(f.smtp.messages().count == 1)
        all = everything(f, runs)
        #expect(all.contains("PASS_FILE names no file"), "\(all)")
        #expect(!all.contains(Self.leak), "the password typed into PASS_FILE is shown: \(all)")
        #expect(!all.contains("\\u{a}"), "a literal \\u{a}: \(all)")
    }

    /// Item 7: `DELET_MODE: true` under cron (no terminal) is critical: on stderr, in error.log, in the alert
    /// mail, and the run exits 1; nothing is deleted (the key meant is not in force). `mt config check` exits 78.
    @Test func aMisspeltKeyUnderCronIsNotSilent() throws {
        let f = try ExportFixture(extra: ["DELET_MODE: true"])
        let check = try mt(f, "config", "check")
        #expect(check.code == 78 && check.stdout.contains("did you mean DELETE_MODE?"), "\(check.code) \(check.stdout)")
        let r = try f.export()
        #expect(r.code == 1, "\(r.code) \(r.stderr)")
        #expect(r.stderr.contains("DELET_MODE"), "\(r.stderr)")
        let errors = try FileSystem.readString(f.data + "/logs/error.log")
        #expect(errors.contains("unknown key DELET_MODE is ignored (did you mean DELETE_MODE?)"), "\(errors)")
        #expect(f.smtp.messages().count == 1)
        #expect(f.smtp.messages().last?.contains("DELET_MODE") == true)
        #expect(try f.sim.ledger().isEmpty)
        let again = try f.export()
        #expect(again.code == 1)
        #expect(try FileSystem.readString(f.data + "/logs/error.log").components(separatedBy: "DELET_MODE").count == 3)
    }

    /// Item 9: what `mt config check` says of PATH and METRICS_FILE is what export finds (one code path).
    @Test func configCheckFailsWhereExportFails() throws {
        let f = try ExportFixture()
        try edit(f, "PATH:", "PATH: /etc/hostname/data")
        let check = try mt(f, "config", "check")
        let export = try f.export()
        #expect(check.code == 73, "\(check.stdout)\(check.stderr)")
        #expect(export.code == 73, "\(export.stdout)\(export.stderr)")
        #expect(check.stdout.contains("/etc/hostname is a symlink (or a file where a folder belongs)"), "\(check.stdout)")

        try edit(f, "PATH:", "PATH: \"\(f.data)\"")
        try append(f, "\n  METRICS_FILE: \"\(f.dir.path)/no-such-folder/mt.prom\"\n")
        let metrics = try mt(f, "config", "check")
        #expect(metrics.code == 78, "\(metrics.stdout)")
        #expect(metrics.stdout.contains("METRICS_FILE \(f.dir.path)/no-such-folder/mt.prom"), "\(metrics.stdout)")
        try FileSystem.makeDirectories(f.dir.path + "/no-such-folder")
        #expect(try mt(f, "config", "check").code == 0)
    }

    /// Item 10: verify and recover without a server name take the READY blocks; a READY one that fails is named
    /// and the others are still done; recover's missing key names its server.
    @Test func commandsWithoutAServerTakeTheReadyBlocks() throws {
        let f = try ExportFixture()
        #expect(try f.export().code == 0)
        try append(f, "\nlater:\n  SERVER: https://later.example.edu/api/\n  USER: u\n  PATH: \"\(f.dir.path)/later\"\n")
        let v = try mt(f, "verify")
        #expect(v.code == 0, "\(v.stdout)\(v.stderr)")
        #expect(!v.stdout.contains("later") && !v.stderr.contains("later"), "\(v.stdout)\(v.stderr)")
        let r = try mt(f, "recover")
        #expect(r.code == 0, "\(r.stdout)\(r.stderr)")

        try edit(f, "SERVER: https://later", "READY: true\n  SERVER: https://later.example.edu/api/")
        let both = try mt(f, "verify")
        #expect(both.code == 66, "\(both.stdout)\(both.stderr)")
        #expect(both.stderr.contains("server later: data directory \(f.dir.path)/later does not exist"), "\(both.stderr)")
        #expect(both.stdout.contains("sim"), "the READY server that works was not checked: \(both.stdout)")
        try FileSystem.makeDirectories(f.dir.path + "/later")
        let rec = try mt(f, "recover")
        #expect(rec.code == 78, "\(rec.stdout)\(rec.stderr)")
        #expect(rec.stderr.contains("server later: no private key given"), "\(rec.stderr)")
        #expect(rec.stdout.contains("sim "), "the READY server with a key was not recovered: \(rec.stdout)")
    }

    /// Item 13: no mail on a first run; a failing run mails once, the same failure again within ALERT_REPEAT
    /// does not; recovery mails one "resolved"; a PATH that has state but lost benchMark.json is still critical;
    /// each mail says only what is true of its run.
    @Test func alertsNeitherStormNorSayWhatIsNotSo() throws {
        let f = try ExportFixture()
        let first = try f.export()
        #expect(first.code == 0, "\(first.stderr)")
        #expect(f.smtp.messages().isEmpty, "a first run mailed: \(f.smtp.messages())")
        #expect(try FileSystem.readString(f.data + "/logs/Daily.log").contains("first run on the empty data directory"))

        try f.sim.setFaults("fail-list=500")
        for _ in 0..<3 { #expect(try f.export().code == 69) }
        #expect(f.smtp.messages().count == 1, "\(f.smtp.messages().count) mails for one outage")
        let down = try #require(f.smtp.messages().last)
        #expect(!down.contains("for a scale that failed") && !down.contains("from the scale"), "\(down)")
        #expect(down.contains("The run stopped before its scales were done"), "\(down)")
        #expect(try FileSystem.readString(f.data + "/logs/Daily.log").contains("alert mail not sent: the same alert(s) were mailed at"))

        try f.sim.clearFaults()
        #expect(try f.export().code == 0)
        #expect(f.smtp.messages().count == 2)
        let resolved = try #require(f.smtp.messages().last)
        #expect(resolved.contains("Subject: mt export: sim: resolved"), "\(resolved)")
        #expect(resolved.contains("no longer occur") && resolved.contains("list of scales"), "\(resolved)")
        #expect(try f.export().code == 0)
        #expect(f.smtp.messages().count == 2)

        // A scale that fails: the mail says so of that scale.
        try f.sim.setFaults("fail-fetch=500")
        #expect(try f.export().code == 69)
        #expect(f.smtp.messages().count == 3)
        #expect(f.smtp.messages().last?.contains("Nothing more was deleted from the scale") == true, "\(f.smtp.messages().last ?? "")")
        try f.sim.clearFaults()
        #expect(try f.export().code == 0)
        #expect(f.smtp.messages().count == 4)

        // Not a first run: a lost benchMark.json is critical.
        _ = unlink(f.layout.benchmark)
        _ = try f.export()
        #expect(f.smtp.messages().count == 5)
        #expect(f.smtp.messages().last?.contains("no benchmark file") == true)
    }

    /// A lock that can never be taken (a folder where `.mt.lock` belongs) fails every run: mailed once, not every
    /// 5 minutes; once it is moved aside, one "resolved".
    @Test func aBrokenLockIsMailedOnceNotEveryRun() throws {
        let f = try ExportFixture()
        #expect(try f.export().code == 0)
        _ = unlink(f.data + "/.mt.lock")
        try FileSystem.makeDirectories(f.data + "/.mt.lock")
        for _ in 0..<3 { #expect(try f.export().code == 73) }
        #expect(f.smtp.messages().count == 1, "\(f.smtp.messages().count) mails")
        #expect(f.smtp.messages().last?.contains("The run did not start (exit 73)") == true)
        _ = rmdir(f.data + "/.mt.lock")
        #expect(try f.export().code == 0)
        #expect(f.smtp.messages().count == 2)
        #expect(f.smtp.messages().last?.contains("Subject: mt export: sim: resolved") == true)
    }

    /// ALERT_REPEAT passed: the same alert is mailed again.
    @Test func alertRepeatPassedMailsAgain() throws {
        let f = try ExportFixture(extra: ["DELETE_MODE: true", "ALERT_REPEAT: 1s"])
        try f.sim.setFaults("fail-list=500")
        #expect(try f.export().code == 69)
        #expect(f.smtp.messages().count == 1)
        usleep(1_200_000)
        #expect(try f.export().code == 69)
        #expect(f.smtp.messages().count == 2)
    }
}
