import Foundation
import MTCore
import MTTestSupport
import Testing

/// `mt release` on a generated, exported study (issue 26, "done when"): nothing in the package matches an original
/// participant id, a ciphertext, a free-text answer or an original timestamp; pseudonyms are one per participant
/// across every file; intervals within a participant are kept; scores per arm equal those on the raw data.
@Suite(.serialized) struct ReleaseEndToEndTests {
    static let profile = """
        roles:
          identifier: pseudonymise
          free-text: drop
          date: shift
          quasi-identifier: coarsen
          item: keep
        shiftDays: 60
        """

    /// Rows of every CSV of a folder, by file name: header and rows.
    static func tables(_ dir: String, only: (String) -> Bool = { _ in true }) throws -> [String: (header: [String], rows: [[String]])] {
        var out: [String: (header: [String], rows: [[String]])] = [:]
        for file in try FileSystem.list(dir).sorted() where file.hasSuffix(".csv") && only(file) {
            var r = try CSVReader(path: dir + "/" + file)
            defer { r.close() }
            guard let header = try r.next() else { continue }
            var rows: [[String]] = []
            while let row = try r.next() { rows.append(row) }
            out[file] = (header, rows)
        }
        return out
    }

    static let links: Set<String> = ["participantRSA", "participant", "participantId", "participantDAO", "participantdao_id"]
    static let dates: Set<String> = ["date", "dateCompleted", "dateSent", "date_completed", "lastLogin"]

    func made() throws -> (ExportFixture, String, String) {
        let f = try ExportFixture(["--generate", "--participants", "5"])
        #expect(try f.export(".", "all").code == 0)
        let secret = f.dir.path + "/lab.secret"
        try FileSystem.writeAtomically(Array("correct horse battery staple 2026\n".utf8), to: secret, mode: 0o600)
        let profile = f.dir.path + "/profile.yaml"
        try FileSystem.writeAtomically(Array(Self.profile.utf8), to: profile)
        return (f, secret, profile)
    }

    @Test func aReleaseHoldsNoIdentifierCiphertextFreeTextOrTimestampAndKeepsScoresPerArm() throws {
        let (f, secret, profile) = try made()
        let out = f.dir.path + "/share/package"
        let r = try Run.mt(["--config", f.config, "release", "sim", "--profile", profile, "--secret", secret, "-o", out])
        #expect(r.code == 0, "\(r.stdout)\(r.stderr)")
        #expect(try FileSystem.list(f.dir.path + "/share") == ["package"], "no temporary folder is left beside it")

        // The originals: active CSVs (decrypted) by scale, and the archives' ciphertexts.
        let raw = try Self.tables(f.layout.active)
        var byScale: [String: [[String: String]]] = [:]
        for name in raw.keys.sorted() {
            guard let scale = f.layout.scale(ofActiveCSV: name) else { continue }
            for row in raw[name]!.rows { byScale[scale, default: []].append(Dictionary(uniqueKeysWithValues: zip(raw[name]!.header, row))) }
        }
        var ciphertexts = Set<String>()
        for name in try f.layout.archives() {
            try ArchiveReader.forEachEntry(layout: f.layout, archive: name) { e in
                if let c = e["participantRSA"]?.stringValue { ciphertexts.insert(c) }
            }
        }
        #expect(!ciphertexts.isEmpty)
        let participantTable = "ParticipantExportDAO"
        var people = Set<String>()
        var freeText = Set<String>()
        var stamps = Set<String>()
        let root = ((#filePath as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        let catalogue = try ScaleCatalogue.load(path: (root as NSString).deletingLastPathComponent + "/config/scales.yaml")
        for (scale, rows) in byScale {
            for row in rows {
                for (c, v) in row where !v.isEmpty {
                    if Self.links.contains(c) || (scale == participantTable && c == "id") { people.insert(v) }
                    if Self.dates.contains(c) { stamps.insert(v); if let t = EntryDate.parse(v) { stamps.insert(EntryDate.iso(t)) } }
                    // mt-sim's answers include a mistyped year, 19001987: a number, released in number columns.
                    if catalogue.roles.role(of: c, in: catalogue.spec(for: scale)) == .freeText, Double(v) == nil { freeText.insert(v) }
                }
            }
        }
        #expect(people.count >= 5 && !freeText.isEmpty && !stamps.isEmpty, "\(people) \(freeText.count) \(stamps.count)")

        // grep every file of the package.
        let files = try FileSystem.list(out).sorted()
        #expect(Set(["README.md", "manifest.json", "profile.yaml", "SHA256SUMS"]).isSubset(of: Set(files)))
        for file in files {
            let text = try FileSystem.readString(out + "/" + file)
            for s in ciphertexts { #expect(!text.contains(s), "\(file) holds a ciphertext") }
            for s in freeText { #expect(!text.contains(s), "\(file) holds a free-text answer: \(s)") }
            for s in stamps { #expect(!text.contains(s), "\(file) holds an original timestamp: \(s)") }
            #expect(!text.contains("correct horse"), "\(file) holds the secret")
        }
        // Every participant and entry id cell is a pseudonym; no cell of those columns is an original id.
        let package = try Self.tables(out)
        #expect(Set(package.keys) == Set(byScale.keys.map { "\($0).csv" }))
        for (file, t) in package {
            for (i, c) in t.header.enumerated() where Self.links.contains(c) || c == "id" || c == "sessionId" {
                for row in t.rows where !row[i].isEmpty {
                    #expect(!people.contains(row[i]) && (row[i].hasPrefix("P") || row[i].hasPrefix("I")) && row[i].count == 17,
                            "\(file) column \(c): \(row[i])")
                }
            }
        }

        // One pseudonym per participant across every file (the participant table's id included), and back.
        var pseudonyms: [String: Set<String>] = [:]
        var shifts: [String: Set<Int64>] = [:]
        for (scale, rows) in byScale {
            let t = try #require(package["\(scale).csv"])
            #expect(t.rows.count == rows.count, "\(scale): every row is released")
            for (k, row) in rows.enumerated() {
                let released = Dictionary(uniqueKeysWithValues: zip(t.header, t.rows[k]))
                let linkColumns = row.keys.filter { Self.links.contains($0) || (scale == participantTable && $0 == "id") }
                guard let who = linkColumns.compactMap({ row[$0].flatMap { $0.isEmpty ? nil : $0 } }).first else { continue }
                for c in linkColumns where !(row[c] ?? "").isEmpty { pseudonyms[who, default: []].insert(released[c] ?? "") }
                for c in Self.dates where !(row[c] ?? "").isEmpty {
                    let before = try #require(EntryDate.parse(row[c]!))
                    let after = try #require(released[c].flatMap(EntryDate.parse), "\(scale) \(c): \(released[c] ?? "none")")
                    shifts[who, default: []].insert(after - before)
                }
                // Free text and quasi-identifiers are not there as such.
                #expect(released["participateReason"] == nil && released["gender"].map { $0.isEmpty } ?? true)
            }
        }
        #expect(pseudonyms.count >= 5 && pseudonyms.values.allSatisfy { $0.count == 1 }, "\(pseudonyms)")
        #expect(Set(pseudonyms.values.compactMap(\.first)).count == pseudonyms.count, "two participants share a pseudonym")
        #expect(shifts.values.allSatisfy { $0.count == 1 && abs($0.first!) >= 86_400 }, "one offset per participant: \(shifts)")

        // Scores per arm: mt stats score on the raw CSVs and on the package, joined to the participant table's arm.
        for scale in ["OA", "DASS21_AS"] {
            let rawFiles = raw.keys.filter { f.layout.scale(ofActiveCSV: $0) == scale }.sorted().map { f.layout.active + "/" + $0 }
            #expect(!rawFiles.isEmpty)
            let a = try scoresPerArm(rawFiles, scale: scale, people: Self.tables(f.layout.active) { f.layout.scale(ofActiveCSV: $0) == participantTable }.values.first!)
            let b = try scoresPerArm([out + "/\(scale).csv"], scale: scale, people: try #require(package["\(participantTable).csv"]))
            #expect(a.keys.contains("POSITIVE") || a.keys.contains("FIFTY_FIFTY"), "\(scale): the scores join an arm: \(a.keys)")
            #expect(!a.isEmpty && a == b, "\(scale): \(a) vs \(b)")
        }

        // The manifest's checksums are the files'; the README names each column's fate; the profile is recorded.
        let manifest = try JSONParser.parse(FileSystem.read(out + "/manifest.json"))
        #expect(manifest["mtVersion"]?.stringValue?.isEmpty == false)
        for entry in manifest["files"]?.arrayValues ?? [] {
            let name = try #require(entry["name"]?.stringValue)
            #expect(SHA256.hex(try FileSystem.read(out + "/" + name)) == entry["sha256"]?.stringValue, "\(name)")
        }
        #expect((manifest["files"]?.arrayValues ?? []).count == files.count - 2)
        let readme = try FileSystem.readString(out + "/README.md")
        #expect(readme.contains("| participantRSA | identifier | pseudonymised") && readme.contains("| participateReason | free-text | dropped |"))
        #expect(try FileSystem.readString(out + "/profile.yaml").contains("date: shift"))
        if package["AxImagery.csv"] != nil {
            #expect(readme.contains("| Vividness | item | kept where a number"), "an item without valid values releases only numbers")
        }

        // Made again with the same secret: the same package (pseudonyms and shifts are keyed, not random).
        let again = f.dir.path + "/again"
        #expect(try Run.mt(["--config", f.config, "release", "sim", "--profile", profile, "--secret", secret, "-o", again]).code == 0)
        for file in files where file != "manifest.json" && file != "SHA256SUMS" {
            #expect(try FileSystem.read(again + "/" + file) == FileSystem.read(out + "/" + file), "\(file)")
        }
    }

    /// arm → the sorted scores (every score column) of `mt stats score` on `files`.
    func scoresPerArm(_ files: [String], scale: String, people: (header: [String], rows: [[String]])) throws -> [String: [String]] {
        let dir = try TempDir("mt-release-scores")
        defer { dir.remove() }
        let r = try Run.mt(["stats", "score", "--scale", scale, "-o", dir.path + "/s.csv"] + files)
        #expect(r.code == 0 || r.code == 1, "\(r.stderr)")
        let scores = try #require(try Self.tables(dir.path)["s.csv"])
        let id = try #require(people.header.firstIndex(of: "id")), arm = try #require(people.header.firstIndex(of: "cbmCondition"))
        let armOf = Dictionary(people.rows.map { ($0[id], $0[arm]) }, uniquingKeysWith: { a, _ in a })
        var out: [String: [String]] = [:]
        for row in scores.rows {
            let values = Array(row.dropFirst()).filter { !$0.isEmpty && Double($0) != nil }
            out[armOf[row[0]] ?? "none", default: []].append(values.joined(separator: " "))
        }
        return out.mapValues { $0.sorted() }
    }

    static let readers: Bool = (try? Run.program("/usr/bin/env", ["Rscript", "--version"]).code) == 0
        && (try? Run.program("/usr/bin/env", ["python3", "-c", "import pandas"]).code) == 0

    /// R's read.csv and pandas.read_csv, both with their defaults, read every CSV of a package whole and without a
    /// warning (free text with commas, quotes, CR LF and emoji is dropped here, so the profile keeps it).
    @Test(.enabled(if: ReleaseEndToEndTests.readers, "Rscript or pandas is not installed (scripts/deps.sh test): skipped"))
    func thePackageReadsInRAndPandasWithTheirDefaults() throws {
        let (f, secret, _) = try made()
        let keepText = f.dir.path + "/keep.yaml"
        try FileSystem.writeAtomically(Array(Self.profile.replacingOccurrences(of: "free-text: drop", with: "free-text: keep").utf8), to: keepText)
        let out = f.dir.path + "/pkg"
        #expect(try Run.mt(["--config", f.config, "release", "sim", "--profile", keepText, "--secret", secret, "-o", out]).code == 0)
        let manifest = try JSONParser.parse(FileSystem.read(out + "/manifest.json"))
        let rows = Dictionary(uniqueKeysWithValues: (manifest["files"]?.arrayValues ?? []).compactMap { e -> (String, Int64)? in
            guard let n = e["name"]?.stringValue, n.hasSuffix(".csv"), let r = e["rows"]?.int64Value else { return nil }
            return (n, r)
        })
        let csvs = rows.keys.sorted().map { out + "/" + $0 }
        #expect(csvs.count > 10)
        let script = f.dir.path + "/read.R"
        try FileSystem.writeAtomically(Array("""
            args <- commandArgs(trailingOnly = TRUE)
            withCallingHandlers({
              for (f in args) cat(basename(f), nrow(read.csv(f)), "\\n")
            }, warning = function(w) stop(conditionMessage(w)))
            """.utf8), to: script)
        let r = try Run.program("/usr/bin/env", ["Rscript", script] + csvs)
        #expect(r.code == 0, "\(r.stderr)")
        let py = try Run.program("/usr/bin/env", ["python3", "-W", "error", "-c", """
            import sys, os, pandas
            for f in sys.argv[1:]: print(os.path.basename(f), len(pandas.read_csv(f)))
            """] + csvs)
        #expect(py.code == 0, "\(py.stderr)")
        for (name, n) in rows {
            #expect(r.stdout.contains("\(name) \(n) "), "R read \(name): \(r.stdout)")
            #expect(py.stdout.contains("\(name) \(n)\n"), "pandas read \(name): \(py.stdout)")
        }
    }

    @Test func badProfilesSecretsAndFoldersAreRefusedWithTheirCodes() throws {
        let (f, secret, profile) = try made()
        func release(_ extra: [String], out: String? = nil) throws -> RunResult {
            try Run.mt(["--config", f.config, "release", "sim", "-o", out ?? f.dir.path + "/pkg"] + extra)
        }
        let bad = f.dir.path + "/bad.yaml"
        try FileSystem.writeAtomically(Array("roles:\n  item: keep\n  freetext: drop\n".utf8), to: bad)
        let r1 = try release(["--profile", bad, "--secret", secret])
        #expect(r1.code == 78 && r1.stderr.contains("bad.yaml:3: unknown column role 'freetext'"), "\(r1.stderr)")
        try FileSystem.writeAtomically(Array("roles:\n  date: blur\n".utf8), to: bad)
        let r2 = try release(["--profile", bad, "--secret", secret])
        #expect(r2.code == 78 && r2.stderr.contains("bad.yaml:2: unknown action 'blur'"), "\(r2.stderr)")
        #expect(try release(["--profile", profile]).code == 78, "pseudonyms need a secret")
        #expect(try release(["--profile", profile, "--secret", f.dir.path + "/none"]).code == 66)
        #expect(try release(["--profile", f.dir.path + "/none.yaml", "--secret", secret]).code == 66)
        chmod(secret, 0o644)
        #expect(try release(["--profile", profile, "--secret", secret]).code == 77)
        chmod(secret, 0o600)
        let short = f.dir.path + "/short.secret"
        try FileSystem.writeAtomically(Array("abc\n".utf8), to: short)
        #expect(try release(["--profile", profile, "--secret", short]).code == 78)
        #expect(try Run.mt(["--config", f.config, "release", "sim", "--profile", profile]).code == 64)
        // An existing non-empty folder is never written into; an empty one is filled.
        let full = f.dir.path + "/full"
        try FileSystem.makeDirectories(full)
        try FileSystem.writeAtomically([0x41], to: full + "/keep.txt")
        #expect(try release(["--profile", profile, "--secret", secret], out: full).code == 73)
        #expect(try FileSystem.list(full) == ["keep.txt"])
        let empty = f.dir.path + "/empty"
        try FileSystem.makeDirectories(empty)
        #expect(try release(["--profile", profile, "--secret", secret], out: empty).code == 0)
        #expect(FileSystem.exists(empty + "/README.md"))
        #expect(!FileSystem.exists(f.dir.path + "/pkg"), "no refused run left a package")
        // A killed run's temporary folder (its process gone) is removed by the next release to the same DIR.
        let stale = f.dir.path + "/.again.release-999999999-1"
        try FileSystem.makeDirectories(stale)
        try FileSystem.writeAtomically([0x41], to: stale + "/OA.csv")
        #expect(try release(["--profile", profile, "--secret", secret], out: f.dir.path + "/again").code == 0)
        #expect(!FileSystem.exists(stale) && FileSystem.exists(f.dir.path + "/again/README.md"))
        // A relative DIR, and one whose parent does not exist yet.
        let rel = try Run.mt(["--config", f.config, "release", "sim", "--profile", profile, "--secret", secret, "-o", "rel/out"], cwd: f.dir.path)
        #expect(rel.code == 0 && FileSystem.exists(f.dir.path + "/rel/out/manifest.json"), "\(rel.stderr)")
    }
}
