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
        // r01 and kaiser: 555 is the no-answer; r34: -1 (and any negative number when scoring).
        let dass = try #require(catalogue.spec(for: "DASS21_AS")?.rule(for: "worry"))
        #expect(dass.isValid("555") && !dass.isValid("-1") && !dass.isValid("4"))
        let r34 = try catalogue.resolved(for: Study("r34"))
        let dass34 = try #require(r34.spec(for: "DASS21_AS")?.rule(for: "worry"))
        #expect(dass34.isValid("-1") && !dass34.isValid("555"))
        #expect(r34.spec(for: "DASS21_AS")?.noAnswer == NoAnswer(codes: [], negative: true))
        let dd = try #require(catalogue.spec(for: "DD"))
        #expect(dd.rule(for: "q1_noAns")?.isValid("true") == true && dd.rule(for: "q1_noAns")?.isValid("1") == false)
        #expect(dd.rule(for: "average_amount")?.isValid("26") == false && dd.rule(for: "monday_count")?.isValid("100") == true)
        let iai = try #require(catalogue.spec(for: "ImpactAnxiousImagery"))
        #expect(iai.rule(for: "anxiety")?.isValid("90") == true && iai.rule(for: "vivid")?.isValid("90") == false)
        let mh = try #require(catalogue.spec(for: "MentalHealthHistory"))
        #expect(mh.rule(for: "Disorders")?.isValid(#"["a","b"]"#) == true && mh.rule(for: "Disorders")?.isValid("a") == false)
        #expect(mh.rule(for: "Other_Desc")?.check == .text && mh.rule(for: "book")?.isValid("8") == true)
        #expect(catalogue.spec(for: "AnxietyTriggers")?.rule(for: "howLong")?.check == .text)
        // Columns the scale does not list (metadata, a stray counter) are never range-checked.
        #expect(catalogue.spec(for: "DASS21_AS")?.rule(for: "over18") == nil)
        #expect(catalogue.spec(for: "OA")?.rule(for: "extra_counter") == nil)
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
        #expect(catalogue.participantColumn(in: ["participant", "participantRSA"], scale: "QOL") == "participantRSA")
        #expect(catalogue.participantColumn(in: ["id"], scale: "OA") == nil)
        // As the original tool: any column whose name contains "participant".
        #expect(catalogue.participantColumn(in: ["id", "participant_id", "session"], scale: "OA") == "participant_id")
        #expect(catalogue.isGuessedParticipant("participant_id", scale: "OA") && !catalogue.isGuessedParticipant("participantRSA", scale: "OA"))
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

    @Test func aStudysDefinitionsReplaceTheBase() throws {
        #expect(catalogue.studies.map(\.study.name) == ["r34", "r01", "kaiser", "templeton"])
        let r34 = try catalogue.resolved(for: Study("r34"))
        #expect(r34.spec(for: "DASS21_DS")?.items.contains("nervous") == true)
        #expect(catalogue.spec(for: "DASS21_DS")?.items.contains("hopeless") == true)
        #expect(r34.spec(for: "DASS21_DS")?.origin == "r34" && r34.spec(for: "QOL")?.origin == "base")
        #expect(r34.spec(for: "Credibility")?.items == ["logical", "important", "recommendable"])
        #expect(try catalogue.resolved(for: Study("kaiser")).spec(for: "Credibility")?.items.prefix(2) == ["important", "confident_online"])
        #expect(try catalogue.resolved(for: Study("templeton")).spec(for: "Credibility")?.items.last == "confident_design")
        #expect(try catalogue.resolved(for: Study("templeton")).spec(for: "ExpectancyBias")?.items.first == "BetterRest")
        // A study's server has only its own tables.
        let names = Set(r34.scalesOfStudy.map(\.name))
        #expect(names.contains("QOL") && names.contains("DD") && !names.contains("ExpectancyBias") && !names.contains("WhatIBelieve"))
        #expect(catalogue.spec(for: "QOL")?.source?.contains("QOL.java") == true)
        do {
            _ = try catalogue.resolved(for: Study("r43"))
            Issue.record("an unknown study must be refused")
        } catch let e as MTError {
            #expect(e.exitCode == .config && e.message.contains("unknown study 'r43'"))
            #expect(e.hint?.contains("did you mean 'r34'") == true)
        }
    }

    @Test func noItemIsInvented() throws {
        // The items the issue found invented are gone from every definition.
        let invented: Set<String> = ["physical", "emotional", "social", "leisure", "overall", "logical", "recommend",
                                     "confident", "improvement"]
        for study in [nil] + catalogue.studies.map(\.study) {
            let c = try catalogue.resolved(for: study)
            #expect(Set(c.spec(for: "QOL")!.items).isDisjoint(with: invented))
            #expect(c.spec(for: "CC")!.items == ["related", "compare"])
            #expect(!c.spec(for: "Credibility")!.items.contains("improvement"))
            for s in c.scales where s.items.isEmpty == false { #expect(s.source != nil, "\(s.name) has no source") }
        }
    }

    @Test func aLabFileCanOverrideAStudysScale() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = try dir.write("lab.yaml", """
            studies:
              r34:
                scales:
                  QOL:
                    items: [material]
            """)
        let config = try dir.write("mt.yaml", """
            s:
              SERVER: http://127.0.0.1:1/api
              PATH: data
              STUDY: r34
              CATALOGUE: lab.yaml
            """)
        let server = try MTConfig.load(path: config, environment: [:], allowReadableSecrets: false).server(named: "s")
        #expect(server.study == "r34")
        let c = try ScaleCatalogue.standard(server: server, environment: ["MT_CATALOGUE": Products.packageRoot + "/config/scales.yaml"])
        #expect(c.study == Study("r34") && c.spec(for: "QOL")?.items == ["material"])
        #expect(c.spec(for: "DASS21_DS")?.items.contains("nervous") == true)
    }

    @Test func configCheckRefusesAnUnknownStudy() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("mt.yaml", "s:\n  SERVER: http://127.0.0.1:1/api\n  PATH: data\n  STUDY: r43\n")
        let config = try MTConfig.load(path: path, environment: [:], allowReadableSecrets: false)
        let report = ConfigCheck.run(config: config, servers: config.servers)
        #expect(report.servers[0].problems.contains { $0.contains("unknown study 'r43'") })
    }
}


/// Labels from the studies' question pages (config/labels.yaml, written by scripts/labels.py from MT-Java).
@Suite struct CatalogueLabelTests {
    @Test func r34OASaysWhatItsPageShowsAndWhereItDisagreesWithItsClass() throws {
        let c = try ScaleCatalogue.standard(study: Study("r34"), environment: ["MT_CATALOGUE": Products.packageRoot + "/config/scales.yaml"])
        let l = try #require(c.spec(for: "OA")?.labels)
        #expect(l.source == "r34/src/main/resources/templates/questions/OA.html")
        #expect(l.label("anxious_freq", 0) == "No anxiety" && l.label("anxious_freq", 4) == "Constant anxiety")
        #expect(l.label("anxious_freq", 555) == "Prefer not to answer")
        #expect(l.items["avoid"]?.text?.contains("how often did you avoid situations") == true)
        #expect(l.disagrees?.contains("OA.java skips NO_ANSWER = -1") == true)
        // The shared base takes the page of the study its definition cites (r01 for OA).
        let base = try ScaleCatalogue.standard(environment: ["MT_CATALOGUE": Products.packageRoot + "/config/scales.yaml"])
        #expect(base.spec(for: "OA")?.labels?.study == "r01")
        #expect(base.spec(for: "OA")?.labels?.label("anxious_freq", 0) == "No anxiety")
    }

    @Test func aBrokenLabelsFileNamesItsLine() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("labels.yaml", "studies:\n  r34:\n    OA:\n      items: {}\n")
        #expect(throws: MTError.self) { _ = try ScaleLabels.load(path: f) }
        let g = try dir.write("labels2.yaml", "studies:\n  r34:\n    OA:\n      source: x.html\n      noAnswer: {many: Prefer not}\n")
        do { _ = try ScaleLabels.load(path: g); Issue.record("accepted a non-numeric code") } catch let e as MTError {
            #expect(e.message.contains("labels2.yaml:5"), "\(e.message)")
        }
    }
}
