import Foundation
import MTCore
import MTTestSupport
import Testing

/// The catalogue against the real 2015 export headers of the r34 server (Tests/Fixtures/mtdata-2015).
@Suite struct RealHeaderTests {
    static let fixtures = Products.packageRoot + "/Tests/Fixtures/mtdata-2015"
    /// The 2015 exports' non-item columns.
    static let meta: Set<String> = ["id", "date", "participantDAO", "session"]

    func header(_ scale: String) throws -> [String] {
        var r = try CSVReader(path: "\(Self.fixtures)/\(scale)_29_10_2015.csv")
        defer { r.close() }
        return try #require(try r.next())
    }

    func r34() throws -> ScaleCatalogue {
        try ScaleCatalogue.load(path: Products.packageRoot + "/config/scales.yaml").resolved(for: Study("r34"))
    }

    @Test func r34ItemsAreExactlyTheExportedColumns() throws {
        let c = try r34()
        for scale in ["QOL", "BBSIQ", "DASS21_DS"] {
            let items = try header(scale).filter { !Self.meta.contains($0) }
            #expect(Set(try #require(c.spec(for: scale)).items) == Set(items), "\(scale)")
            #expect(c.spec(for: scale)!.items.count == items.count, "\(scale): an item listed twice")
        }
        #expect(c.spec(for: "QOL")!.items.count == 16)
    }

    @Test func r34RRListsBothFormsAndScoresOnlyTheLaterOne() throws {
        let rr = try #require(try r34().spec(for: "RR"))
        let exported = try header("RR").filter { !Self.meta.contains($0) }
        #expect(exported.count == 28 && Set(exported).isSubset(of: Set(rr.items)))
        let score = try #require(rr.scores.first { $0.name == "Score" })
        #expect(score.numerator(in: rr.items).count == 9 && score.denominator(in: rr.items).count == 27)
        #expect(Set(score.numerator(in: rr.items)).isDisjoint(with: exported))
    }

    /// MTData has no 2015 OA export: the five items are those of the Java class (OA.java, every study) and of
    /// MTData's scales.py, which agree.
    @Test func oaItemsAreTheJavaFields() throws {
        for study in ["r34", "r01", "kaiser"] {
            let c = try ScaleCatalogue.load(path: Products.packageRoot + "/config/scales.yaml").resolved(for: Study(study))
            #expect(c.spec(for: "OA")?.items == ["anxious_freq", "anxious_sev", "avoid", "interfere", "interfere_social"])
        }
    }

    @Test func checkFindsNoUnknownColumnInTheRealFiles() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var files: [String] = []
        for scale in ["QOL", "BBSIQ", "DASS21_DS", "RR"] {
            files.append(try dir.write("\(scale)_29_10_2015.csv", try FileSystem.readString("\(Self.fixtures)/\(scale)_29_10_2015.csv")))
        }
        let r = try Run.mt(["scales", "check", "--study", "r34", "--json"] + files)
        let results = try #require(try JSONParser.parse(Array(r.stdout.utf8)).arrayValues, "\(r.stderr)")
        #expect(results.count == 4)
        for v in results {
            #expect(v["unknown"] == .array([]), "\(v)")
            #expect(v["participant"] == .string("participantDAO"))
        }
        // QOL, BBSIQ and DASS21_DS are complete; the 2015 RR lacks the later form's items.
        #expect(results.filter { $0["missing"] != .array([]) }.compactMap { $0["scale"]?.stringValue } == ["RR"])
        // Without the study, the base's DASS21_DS (r01: hopeless) does not fit the r34 file.
        let base = try Run.mt(["scales", "check", files[2]])
        #expect(base.code == 1 && base.stdout.contains("nervous") && base.stdout.contains("hopeless"))
    }

    @Test func showSaysWhichStudysDefinitionApplies() throws {
        let r = try Run.mt(["scales", "show", "DASS21_AS", "--study", "r34"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("study: r34"))
        #expect(r.stdout.contains("definition     study r34's own definition"))
        #expect(r.stdout.contains("source         MindTrails r34 Questionnaire/DASS21_AS.java"))
        #expect(r.stdout.contains("no answer      any negative number"))
        #expect(r.stdout.contains("eligibilityScore: mean of the answered items × 14"))
        let q = try Run.mt(["scales", "show", "QOL", "--study", "r34"])
        #expect(q.stdout.contains("definition     the shared base (r34 defines no own QOL)"))
        #expect(q.stdout.contains("items (16)     material, health, relationships, children, spouse, friend, helping, participating, learning, understanding, work, expression, socializing, reading, recreation, independence"))
        #expect(q.stdout.contains("QOL.java"))
        let base = try Run.mt(["scales", "show", "QOL"])
        #expect(base.stdout.contains("study: none chosen, the shared base"))
        let bad = try Run.mt(["scales", "show", "QOL", "--study", "r99"])
        #expect(bad.code == 78 && bad.stderr.contains("unknown study 'r99'"))
        let j = try Run.mt(["scales", "show", "Credibility", "--study", "kaiser", "--json"])
        let v = try JSONParser.parse(Array(j.stdout.utf8))
        #expect(v["study"] == .string("kaiser") && v["definition"] == .string("kaiser"))
    }

    @Test func showWithAServerUsesItsStudy() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let config = try dir.write("mt.yaml", "lab:\n  SERVER: https://study.example.edu/api/\n  USER: admin\n  PATH: data/\n  STUDY: kaiser\n")
        let r = try Run.mt(["--config", config, "scales", "show", "Credibility", "lab"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("study: kaiser") && r.stdout.contains("definition     study kaiser's own definition"))
        #expect(r.stdout.contains("important, confident_online, notified"))
        let other = try Run.mt(["--config", config, "scales", "show", "Credibility", "lab", "--study", "templeton"])
        #expect(other.stdout.contains("study: templeton"))
    }
}

