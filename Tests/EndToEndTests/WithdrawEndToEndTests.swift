import Foundation
import MTCore
import MTTestSupport
import Testing

/// `mt withdraw` on a generated, exported study (the issue's "done when"): afterwards no archive (decrypted, every
/// entry), active or recovered CSV holds the participant's entries; verify is clean; recover and later exports
/// never bring them back; a withdrawal killed at random points and run again ends complete.
@Suite(.serialized) struct WithdrawEndToEndTests {
    static let participantFields = ["participantRSA", "participantDAO", "participantId", "participant", "participantdao_id"]

    /// A participant id as the CSVs show it (decrypted), of someone with entries in several scales.
    static func someParticipant(_ f: ExportFixture) throws -> String {
        var count: [String: Int] = [:]
        for file in try FileSystem.list(f.layout.active) where file.hasSuffix(".csv") {
            var r = try CSVReader(path: f.layout.active + "/" + file)
            defer { r.close() }
            guard let header = try r.next(), let col = header.firstIndex(of: "participantRSA") else { continue }
            while let row = try r.next() { if !row[col].isEmpty { count[row[col], default: 0] += 1 } }
        }
        return try #require(count.max { $0.value < $1.value }?.key)
    }

    /// Where `participant` still appears: "archive NAME id N" (every archive read and decrypted) and
    /// "CSV NAME line N" (active and recovered CSVs).
    static func traces(of participant: String, _ f: ExportFixture) throws -> [String] {
        let session = try DecryptionSession(keys: KeyRing.load(paths: [f.sim.privateKeyPath], environment: [:], allowReadable: false))
        var out: [String] = []
        for name in try f.layout.archives() {
            try ArchiveReader.forEachEntry(layout: f.layout, archive: name) { e in
                for field in participantFields {
                    guard let v = e[field], !v.isNull else { continue }
                    let plain = field.hasSuffix("RSA") ? v.stringValue.flatMap { session.decryptValue($0).plain } : CSVCell.text(v)
                    if plain == participant { out.append("archive \(name.fileName) id \(e["id"]?.int64Value ?? -1)") }
                }
            }
        }
        for dir in [f.layout.active, f.layout.recovered] {
            for file in try FileSystem.list(dir) where file.hasSuffix(".csv") {
                var r = try CSVReader(path: dir + "/" + file)
                defer { r.close() }
                guard let header = try r.next() else { continue }
                let cols = participantFields.compactMap { header.firstIndex(of: $0) }
                var line = 1
                while let row = try r.next() {
                    line += 1
                    if cols.contains(where: { row[$0] == participant }) { out.append("CSV \(file) line \(line)") }
                }
            }
        }
        return out
    }

    @Test func aWithdrawnParticipantLeavesEveryArchiveAndCSVForGood() throws {
        let f = try ExportFixture(["--generate", "--participants", "4"])
        #expect(try f.export(".", "all").code == 0)
        let p = try Self.someParticipant(f)
        let before = try Self.traces(of: p, f)
        #expect(before.contains { $0.hasPrefix("archive ") } && before.contains { $0.hasPrefix("CSV ") })
        let sums = try ChecksumLedger(layout: f.layout).read()

        // Without --yes: listed, nothing changed.
        let dry = try Run.mt(["--config", f.config, "withdraw", "sim", p])
        #expect(dry.code == 0 && dry.stdout.contains("would remove"), "\(dry.stdout)\(dry.stderr)")
        #expect(try ChecksumLedger(layout: f.layout).read() == sums && !FileSystem.exists(f.layout.withdrawals))

        let r = try Run.mt(["--config", f.config, "withdraw", "sim", p, "--yes", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let doc = try JSONParser.parse(r.stdoutBytes)
        #expect(doc["done"] == .bool(true) && !(doc["archives"]?.arrayValues ?? []).isEmpty)
        #expect(try Self.traces(of: p, f) == [])
        #expect(!FileSystem.exists(f.layout.withdrawalJournal))

        // The ledger names the participant only by an HMAC; each rewritten archive has its old and new checksum.
        let ledger = try WithdrawalLedger(layout: f.layout).read()
        #expect(!ledger.entries.isEmpty && ledger.entries.allSatisfy { $0.participant.count == 64 && $0.participant != p })
        #expect(Set(ledger.entries.map(\.participant)).count == 1)
        let text = try FileSystem.readString(f.layout.withdrawals)
        #expect(!text.split(separator: "\t").contains { $0 == p })
        let now = try ChecksumLedger(layout: f.layout).read()
        #expect(Set(ledger.replacements.map(\.archive)) == Set((doc["archives"]?.arrayValues ?? []).compactMap(\.stringValue)))
        for rep in ledger.replacements {
            #expect(sums[rep.archive] == rep.oldSHA256 && now[rep.archive] == rep.newSHA256 && rep.oldSHA256 != rep.newSHA256)
        }

        let v = try Run.mt(["--config", f.config, "verify", "sim"])
        #expect(v.code == 0, "\(v.stdout)\(v.stderr)")

        // recover never brings them back.
        let rec = try Run.mt(["--config", f.config, "recover", "sim"])
        #expect(rec.code == 0, "\(rec.stderr)")
        #expect(try Self.traces(of: p, f) == [])

        // The server still holds the non-deleteable scales' entries of the participant; a full fetch carries them.
        let again = try f.export(".", "all", "--after", "2000-01-01-00-00-00")
        #expect(again.code == 0, "\(again.stderr)")
        #expect(try FileSystem.readString(f.data + "/logs/DEBUG.log").contains("entries of withdrawn participants"))
        #expect(try Self.traces(of: p, f) == [])
        let v2 = try Run.mt(["--config", f.config, "verify", "sim"])
        #expect(v2.code == 0, "\(v2.stdout)\(v2.stderr)")

        // A verify that finds the participant back (an archive restored from a backup) says so.
        let restored = try #require(ledger.replacements.first)
        var text2 = try FileSystem.readString(f.layout.checksums)
        text2 += "\(restored.oldSHA256)  \(restored.archive)\n"
        try FileSystem.writeAtomically(Array(text2.utf8), to: f.layout.checksums)
        let v3 = try Run.mt(["--config", f.config, "verify", "sim"])
        #expect(v3.code == 1 && v3.stdout.contains("withdrawal-unfinished"), "\(v3.stdout)")

        // A rewritten archive whose replacement line is missing (a run killed between its new checksum and that
        // line, before the rerun recorded it) is a finding too.
        try FileSystem.writeAtomically(Array((text2.split(separator: "\n").dropLast().joined(separator: "\n") + "\n").utf8), to: f.layout.checksums)
        let kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains(restored.newSHA256) }
        try FileSystem.writeAtomically(Array(kept.joined(separator: "\n").utf8), to: f.layout.withdrawals)
        let v4 = try Run.mt(["--config", f.config, "verify", "sim"])
        #expect(v4.code == 1 && v4.stdout.contains("no line recording its old and new SHA-256"), "\(v4.stdout)")
    }

    /// Withdrawn while still on the server: the next export deletes a deleteable scale's entries of the
    /// participant without archiving or writing them; the deletion ledger names them withdrawn.
    @Test func aDeleteableScalesWithdrawnEntriesAreStillDeleted() throws {
        let f = try ExportFixture(["--generate", "--participants", "3"])
        #expect(try f.export(".", "all", "--no-delete").code == 0)
        #expect(try f.sim.ledger().isEmpty)
        let p = try Self.someParticipant(f)
        #expect(try Run.mt(["--config", f.config, "withdraw", "sim", p, "--yes"]).code == 0)
        let withdrawn = try WithdrawalLedger(layout: f.layout).read().entries
        let (_, deleteable) = try f.study()
        let onServer = Set(withdrawn.filter { deleteable.contains($0.scale) }.map { "\($0.scale)/\($0.id)" })
        #expect(!onServer.isEmpty)
        // A dry run would write none of them back (the written set no longer knows them).
        let dry = try f.exportJSON(".", "all", "--dry-run").1
        let statuses = (dry["servers"]?.arrayValues ?? []).flatMap { $0["scales"]?.arrayValues ?? [] }.compactMap { $0["status"]?.stringValue }
        #expect(statuses.contains { $0.contains("would archive") } && statuses.allSatisfy { !$0.contains("would") || $0.contains(", write 0") }, "\(statuses)")
        let r = try f.export(".", "all")
        #expect(r.code == 0, "\(r.stderr)")
        let deleted = Set(try f.sim.ledger().map { "\($0.scale)/\($0.id)" })
        #expect(onServer.isSubset(of: deleted), "withdrawn entries left on the server: \(onServer.subtracting(deleted).sorted())")
        #expect(try Self.traces(of: p, f) == [])
        let requests = try DeletionLedger(layout: f.layout).read()
        #expect(requests.filter { onServer.contains("\($0.scale)/\($0.id)") }.allSatisfy { $0.archive == WithdrawalLedger.deletionArchive })
        let v = try Run.mt(["--config", f.config, "verify", "sim"])
        #expect(v.code == 0, "\(v.stdout)")
    }

    @Test func entriesNamedWithoutAKeyAndBadInput() throws {
        let f = try ExportFixture(["--generate", "--participants", "2"])
        #expect(try f.export(".", "all").code == 0)
        let name = try #require(try f.layout.archives().first { $0.scale == "OA" } ?? f.layout.archives().first)
        let id = try #require(try ArchiveReader.entries(layout: f.layout, archive: name).first?["id"]?.int64Value)
        let keyless = f.dir.path + "/keyless.yaml"
        let text = try FileSystem.readString(f.config).split(separator: "\n").filter { !$0.contains("PRIVATE_FILE") }.joined(separator: "\n")
        try FileSystem.writeAtomically(Array((text + "\n").utf8), to: keyless, mode: 0o600)
        #expect(try Run.mt(["--config", keyless, "withdraw", "sim", "7", "--yes"]).code == 78)
        let r = try Run.mt(["--config", keyless, "withdraw", "sim", "--entries", "\(name.scale):\(id)", "--yes"])
        #expect(r.code == 0, "\(r.stdout)\(r.stderr)")
        #expect(try ArchiveReader.entries(layout: f.layout, archive: name).allSatisfy { $0["id"]?.int64Value != id })
        #expect(try WithdrawalLedger(layout: f.layout).read().entries.contains { $0.id == id && $0.participant == "-" })
        #expect(try Run.mt(["--config", f.config, "verify", "sim"]).code == 0)
        #expect(try Run.mt(["--config", keyless, "withdraw", "sim", "--entries", "\(name.scale):\(id)", "--yes"]).code == 1)
        #expect(try Run.mt(["--config", f.config, "withdraw", "sim"]).code == 64)
        #expect(try Run.mt(["--config", f.config, "withdraw", "sim", "--entries", "OA"]).code == 64)
    }

    @Test func aWithdrawalKilledAtRandomPointsEndsCompleteWhenRunAgain() throws {
        var rng = SystemRandomNumberGenerator()
        let rounds = Int(ProcessInfo.processInfo.environment["MT_WITHDRAW_KILL_RUNS"] ?? "") ?? 8
        var fullRun = 0.3
        var killed = 0
        for round in 0..<rounds {
            let f = try ExportFixture(["--generate", "--participants", "3"])
            #expect(try f.export(".", "all").code == 0)
            let p = try Self.someParticipant(f)
            let start = Date()
            let child = try ChildProcess(Products.mt, ["--config", f.config, "withdraw", "sim", p, "--yes"], output: f.dir.path + "/killed.log")
            if round > 0 { usleep(useconds_t(Double.random(in: 0...fullRun, using: &rng) * 1_000_000)) } else { _ = child.wait() }
            if child.isRunning { killed += 1 }
            child.stop(signal: SIGKILL)
            if round == 0 { fullRun = max(Date().timeIntervalSince(start) * 1.2, 0.05) }
            if FileSystem.exists(f.layout.withdrawalJournal) {
                #expect(try f.export().code == 75, "export refuses a data directory with an unfinished withdrawal")
            }
            let again = try Run.mt(["--config", f.config, "withdraw", "sim", p, "--yes"])
            // 1: the killed run had finished, nothing is left to remove.
            #expect(again.code == 0 || again.code == 1, "\(again.stderr)")
            #expect(!FileSystem.exists(f.layout.withdrawalJournal))
            #expect(try Self.traces(of: p, f) == [], "round \(round)")
            #expect(!(try WithdrawalLedger(layout: f.layout).read().entries.isEmpty))
            let v = try Run.mt(["--config", f.config, "verify", "sim"])
            #expect(v.code == 0, "round \(round): \(v.stdout)")
            #expect(try FileSystem.list(f.layout.raw).allSatisfy { !$0.hasPrefix(".") }, "temporary files of the killed run are removed")
        }
        #expect(killed >= rounds / 4, "only \(killed) of \(rounds) withdrawals were killed before they ended")
    }
}
