import Foundation
import MTCore
import MTTestSupport
import Testing

/// config/scales.yaml as shipped, and the loader's rules.
@Suite struct CatalogueTests {
    let catalogue: ScaleCatalogue

    init() throws { catalogue = try ScaleCatalogue.load(path: Products.packageRoot + "/config/scales.yaml") }

    @Test func everyScaleOfScalesMdIsThere() {
        for name in ["OA", "DASS21_AS", "DASS21_DS", "QOL", "RR", "BBSIQ", "CC", "WhatIBelieve", "Credibility", "Relatability",
                     "Affect", "AxImagery", "Phq4", "SUDS", "ExpectancyBias", "ImpactAnxiousImagery", "AnxietyTriggers", "DD",
                     "DD_FU", "MentalHealthHistory", "MentalHealthHxTx", "HelpSeeking", "Evaluation", "Demographic",
                     "Demographics", "ImageryPrime", "JsPsychTrial", "MH"] {
            #expect(catalogue.spec(for: name) != nil, "\(name)")
        }
        #expect(catalogue.spec(for: "OA")?.items == ["anxious_freq", "anxious_sev", "avoid", "interfere", "interfere_social"])
        #expect(catalogue.missingCodes == [555, -1, -2])
    }

    @Test func validValuesAndCodes() throws {
        let oa = try #require(catalogue.spec(for: "OA")?.rule(for: "avoid"))
        #expect(oa.isValid("0") && oa.isValid("4") && oa.isValid("555") && oa.isValid("3.0"))
        #expect(!oa.isValid("5") && !oa.isValid("-1") && !oa.isValid("abc"))
        let dass = try #require(catalogue.spec(for: "DASS21_AS")?.rule(for: "worry"))
        #expect(dass.isValid("-1") && !dass.isValid("555") && !dass.isValid("4"))
        let dd = try #require(catalogue.spec(for: "DD"))
        #expect(dd.rule(for: "q1_noAns")?.isValid("true") == true && dd.rule(for: "q1_noAns")?.isValid("1") == false)
        #expect(dd.rule(for: "average_amount")?.isValid("26") == false && dd.rule(for: "q1")?.isValid("100") == true)
        let iai = try #require(catalogue.spec(for: "ImpactAnxiousImagery"))
        #expect(iai.rule(for: "anxiety")?.isValid("90") == true && iai.rule(for: "vivid")?.isValid("90") == false)
        let mh = try #require(catalogue.spec(for: "MentalHealthHistory"))
        #expect(mh.rule(for: "disorders")?.isValid(#"["a","b"]"#) == true && mh.rule(for: "disorders")?.isValid("a") == false)
        #expect(mh.rule(for: "otherDesc")?.check == .text && mh.rule(for: "book")?.isValid("8") == true)
        #expect(catalogue.spec(for: "AnxietyTriggers")?.rule(for: "howLong")?.check == .text)
    }

    @Test func scoresSelectTheirItems() throws {
        let rr = try #require(catalogue.spec(for: "RR"))
        let score = try #require(rr.scores.first { $0.name == "Score" })
        let cols = ["job_NS", "job_NF", "job_PS", "job_PF", "date"]
        #expect(score.numerator(in: cols) == ["job_NS"])
        #expect(score.denominator(in: cols) == ["job_NF", "job_PS", "job_PF"])
        let bbsiq = try #require(catalogue.spec(for: "BBSIQ"))
        let physical = try #require(bbsiq.scores.first { $0.name == "Physical_Score" })
        #expect(physical.numerator(in: bbsiq.items).count == 7 && physical.denominator(in: bbsiq.items).count == 14)
        #expect(catalogue.spec(for: "OA")?.scores.first?.kind == .scaledSum)
    }

    @Test func participantColumnUnderAnyHistoricName() {
        #expect(catalogue.participantColumn(in: ["id", "participantDAO", "session"], scale: "OA") == "participantDAO")
        #expect(catalogue.participantColumn(in: ["participant", "participantRSA"], scale: "ExpectancyBias") == "participant")
        #expect(catalogue.participantColumn(in: ["participant", "participantRSA"], scale: "OA") == "participantRSA")
        #expect(catalogue.participantColumn(in: ["id"], scale: "OA") == nil)
        #expect(!catalogue.isItem("sessionId") && catalogue.isItem("anxious_freq"))
    }

    @Test func aLabOverrideReplacesAndAdds() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let extra = try dir.write("lab.yaml", """
            scales:
              OA:
                items: [anxious_freq]
                valid:
                  - {range: [0, 10]}
              Sleep:
                items: [hours]
                valid:
                  - {range: [0, 24], codes: [99]}
            """)
        let merged = catalogue.overridden(by: try ScaleCatalogue.load(path: extra))
        #expect(merged.spec(for: "OA")?.items == ["anxious_freq"])
        #expect(merged.spec(for: "OA")?.rule(for: "anxious_freq")?.isValid("9") == true)
        #expect(merged.spec(for: "Sleep")?.rule(for: "hours")?.isValid("99") == true)
        #expect(merged.scales.count == catalogue.scales.count + 1)
    }

    @Test func badFilesSayWhereAndWhat() {
        for (text, needle) in [("scales: [1, 2]", "must map"), ("scales:\n  OA:\n    valid:\n      - {range: [4, 1]}", "range must be [lo, hi]"),
                               ("scales:\n  OA:\n    valid:\n      - {type: blob}", "unknown rule type"),
                               ("scales:\n  OA:\n    scores:\n      - {name: S, kind: ratio}", "needs `over`"),
                               ("a: [", "not valid YAML")] {
            do {
                _ = try ScaleCatalogue.parse(text, source: "lab.yaml")
                Issue.record("expected an error for \(text)")
            } catch let e as MTError {
                #expect(e.exitCode == .config && e.message.contains("lab.yaml") && e.message.contains(needle), "\(e.message)")
            } catch { Issue.record("\(error)") }
        }
    }
}
