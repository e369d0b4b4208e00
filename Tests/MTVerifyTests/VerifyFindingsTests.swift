import Foundation
import MTCore
import MTTestSupport
import Testing

/// Each fault a lab can meet, crafted on a clean data directory, must be found, named, and exit 1.
@Suite struct VerifyFindingsTests {
    @Test func cleanDataDirectoryPasses() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("lab: ok: 5 archive(s), 8 archived id(s), 3 deletion(s), 2 CSV file(s)"))
    }

    @Test func flippedByteNamesTheArchive() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        let path = f.layout.archivePath(f.oaArchives[1])
        var bytes = try FileSystem.read(path)
        bytes[bytes.count / 2] ^= 0x01
        try FileSystem.writeAtomically(bytes, to: path, mode: 0o600)
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        #expect(r.stdout.contains("archive-corrupt: \(path): the archive is damaged"))
        #expect(r.stdout.contains("checksum-mismatch: \(path)"))
        // Its id 5 was deleted from the server: the ledger line can no longer be proven.
        #expect(r.stdout.contains("deletion-unarchived: \(f.layout.deletions):3: OA id 5 was deleted"))
    }

    @Test func removedCSVRowIsMissing() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        try f.writeCSV([1, 2, 4, 5].map { LabFixture.oa($0) })
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        #expect(r.stdout.contains("csv-missing: \(f.layout.archivePath(f.oaArchives[0])): OA id 3 is archived here but in no CSV"))
        #expect(r.stdout.contains("fix: rebuild the scale's CSV from the archives: mt recover lab OA"))
        #expect(r.stdout.contains("1 finding(s)"))
    }

    @Test func recoveredCSVCoversARemovedRow() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        try f.writeCSV([1, 2, 4, 5].map { LabFixture.oa($0) })
        try FileSystem.makeDirectories(f.layout.recovered)
        try FileSystem.writeAtomically(EntryCSV.document((1...5).map { LabFixture.oa($0) }),
                                       to: f.layout.recovered + "/OA_recovered_Nov_29_2026.csv", mode: 0o600)
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 0, "\(r.stdout)")
    }

    @Test func duplicatedRowIsReportedWithBothLines() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        try f.writeCSV([1, 2, 3, 4, 5, 3].map { LabFixture.oa($0) })
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        // Row of id 4 spans two lines (a newline inside a quoted value): the duplicate starts on line 8.
        #expect(r.stdout.contains("csv-duplicate: \(f.csv):8: OA id 3 appears 2 times: \(f.csv):4, \(f.csv):8"))
    }

    @Test func deletedArchiveIsMissingAndItsDeletionsUnproven() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        let path = f.layout.archivePath(f.oaArchives[0])
        unlink(path)
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        #expect(r.stdout.contains("archive-missing: \(path): listed in SHA256SUMS but the archive is gone"))
        #expect(r.stdout.contains("deletion-unarchived: \(f.layout.deletions):1: OA id 3 was deleted from the server but no archive of OA holds it (\(f.oaArchives[0].fileName) is missing)"))
        #expect(r.stdout.contains("deletion-unarchived: \(f.layout.deletions):2: OA id 4"))
    }

    @Test func archiveMissingFromChecksumLedger() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        let name = f.taskArchives[0].fileName
        let kept = try FileSystem.readString(f.layout.checksums).split(separator: "\n").filter { !$0.hasSuffix(name) }
        try FileSystem.writeAtomically(Array((kept.joined(separator: "\n") + "\n").utf8), to: f.layout.checksums)
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        #expect(r.stdout.contains("checksum-missing: \(f.layout.raw)/\(name): not in SHA256SUMS"))
        #expect(r.stdout.contains("sha256sum \(name) >> SHA256SUMS"))
        #expect(r.stdout.contains("1 finding(s)"))
    }

    @Test func ciphertextLeftInRSAColumn() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        let key = try RSAPrivateKey.generate(bits: 2048)
        let cipher = try key.publicKey.encryptField("participant-4")
        try f.writeCSV([LabFixture.oa(1), LabFixture.oa(2), LabFixture.oa(3), LabFixture.oa(4, cipher: cipher), LabFixture.oa(5)])
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        #expect(r.stdout.contains("ciphertext-left: \(f.csv):5: column participantRSA of id 4 still holds RSA ciphertext"))
        #expect(!r.stdout.contains(cipher))
    }

    @Test func ledgerIdWithoutArchive() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        try DeletionLedger(layout: f.layout).record(scale: "OA", ids: [77], archive: f.oaArchives[1].fileName)
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        #expect(r.stdout.contains("deletion-unarchived: \(f.layout.deletions):4: OA id 77 was deleted from the server but no archive of OA holds it (\(f.oaArchives[1].fileName) is there but does not hold it)"))
    }

    @Test func worldReadableCSVAndFolder() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        chmod(f.csv, 0o644)
        chmod(f.layout.active, 0o755)
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        #expect(r.stdout.contains("permissions: \(f.csv): file has mode 644"))
        #expect(r.stdout.contains("fix: chmod 600 \(f.csv)"))
        #expect(r.stdout.contains("fix: chmod 700 \(f.layout.active)"))
    }

    @Test func benchmarkBelowHighestArchivedId() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        try Benchmark(marks: ["OA": .init(current: 4, deleteable: true), "Task": .init(current: 12, deleteable: false)])
            .write(path: f.layout.benchmark)
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        #expect(r.stdout.contains("benchmark-behind: \(f.layout.benchmark): OA benchmark 4 is below the highest archived id 5"))
        #expect(r.stdout.contains("fix: mt benchmark lab set OA 5"))
    }

    @Test func raggedCSVAndBrokenLegacyFile() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        let ragged = f.layout.active + "/Task_Nov_30_2026.csv"
        try FileSystem.writeAtomically(Array("id,session\r\n13,a\r\n14,b,extra\r\n".utf8), to: ragged)
        let legacy = f.layout.raw + "/OA_May_01_2018_10_00_00.json"
        try FileSystem.writeAtomically(Array("[{\"id\": 0}] [{\"id\": ".utf8), to: legacy)
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        #expect(r.stdout.contains("csv-columns: \(ragged):3: 1 row(s) do not have the header's 2 columns (lines 3)"))
        #expect(r.stdout.contains("archive-json: \(legacy): the archive does not hold the server's JSON"))
    }

    /// A CSV written before the rule "no C0 control byte in a cell" (one-byte booleans as the bytes themselves).
    @Test func controlBytesInACell() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        let people = f.layout.active + "/ParticipantExportDAO_Nov_30_2026.csv"
        try FileSystem.writeAtomically(Array("admin,id\r\n\u{1},20\r\n\u{0},21\r\n1,22\r\n".utf8), to: people)
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 1)
        #expect(r.stdout.contains("csv-control: \(people):2: 2 cell(s) hold a control byte (NUL, or another below 0x20 but TAB, LF, CR) in admin (lines 2, 3)"), "\(r.stdout)")
        #expect(r.stdout.contains("fix: the file was written before that rule or by another tool: mt recover"))
        // The same values as mt writes them now (and free text with TAB and newlines) are accepted.
        try FileSystem.writeAtomically(Array("admin,id,note\r\n1,20,\"a\tb\r\nc\"\r\n0,21,\r\n".utf8), to: people)
        let ok = try f.mt(["verify", "lab"])
        #expect(!ok.stdout.contains("csv-control"), "\(ok.stdout)")
    }

    @Test func archiveOnlySetUpSkipsCoverageWithANote() throws {
        let f = try LabFixture(privateKey: false)
        defer { f.dir.remove() }
        try f.writeCSV([1, 2].map { LabFixture.oa($0) })
        let r = try f.mt(["verify", "lab"])
        #expect(r.code == 0, "\(r.stdout)")
        #expect(r.stdout.contains("note: server lab has no PRIVATE_FILE (archive-only set-up)"))
    }

    @Test func jsonListsEveryFinding() throws {
        let f = try LabFixture()
        defer { f.dir.remove() }
        try f.writeCSV([1, 2, 3, 5].map { LabFixture.oa($0) })
        chmod(f.csv, 0o640)
        let r = try f.mt(["verify", "lab", "--json"])
        #expect(r.code == 1)
        let json = try JSONParser.parse(r.stdoutBytes)
        #expect(json["ok"] == .bool(false))
        let server = try #require(json["servers"]?.arrayValues?.first)
        #expect(server["server"] == .string("lab"))
        #expect(server["checked"]?["archives"] == .number("5"))
        let findings = try #require(server["findings"]?.arrayValues)
        #expect(findings.count == 2)
        let missing = try #require(findings.first { $0["kind"] == .string("csv-missing") })
        #expect(missing["id"] == .number("4"))
        #expect(missing["scale"] == .string("OA"))
        #expect(missing["path"] == .string(f.layout.archivePath(f.oaArchives[0])))
        #expect(missing["hint"]?.stringValue?.contains("mt recover lab OA") == true)
        let perm = try #require(findings.first { $0["kind"] == .string("permissions") })
        #expect(perm["hint"] == .string("chmod 600 \(f.csv)"))
        #expect(perm["id"] == .null)
    }
}

@Suite struct CiphertextHeuristicTests {
    @Test func recognisesRealCiphertextOnly() throws {
        let key = try RSAPrivateKey.generate(bits: 2048)
        let cipher = try key.publicKey.encryptField("a participant's answer")
        #expect(CSVScan.looksLikeCiphertext(cipher))
        // Java's MIME encoder wraps lines; still ciphertext.
        let wrapped = stride(from: 0, to: cipher.count, by: 76).map { i in
            String(cipher.dropFirst(i).prefix(76))
        }.joined(separator: "\r\n")
        #expect(CSVScan.looksLikeCiphertext(wrapped))
        #expect(!CSVScan.looksLikeCiphertext("participant-4"))
        #expect(!CSVScan.looksLikeCiphertext(String(repeating: "word ", count: 80)))
        // Long base64 of a size no RSA key has.
        #expect(!CSVScan.looksLikeCiphertext(Base64.encode([UInt8](repeating: 7, count: 300))))
    }

    @Test func recoveredFileNamesGiveTheirScale() {
        #expect(CSVName.recoveredScale(of: "OA_recovered_Nov_29_2026.csv") == "OA")
        #expect(CSVName.recoveredScale(of: "Task_2_recovered_Nov_29_2026.csv") == "Task_2")
        #expect(CSVName.recoveredScale(of: "README_OA_recovered_Nov_29_2026.txt") == nil)
        #expect(DataLayout(root: "/x", dateFormat: "%Y_%m_%d").scale(ofRecoveredCSV: "PHQ_9_recovered_2026_11_29.csv") == "PHQ_9")
    }
}
