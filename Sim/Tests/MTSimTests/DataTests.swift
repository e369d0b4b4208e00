import Foundation
import MTCore
import MTSim
import MTTestSupport
import Testing

@Suite("mt-sim serves and generates study data")
struct DataTests {
    @Test func servesADataFolderByteForByte() throws {
        let dir = try TempDir("sim-data")
        defer { dir.remove() }
        let oa = #"[{"id":7,"date":"Tue, 03 Apr 2018 14:05:09 -0400","score":3.10,"big":12345678901234567890,"t":"caf\u00e9, \"q\"\n中文 😀"} , {"id":9,"date":null,"x":[1,{"a":null}]}]"#
        _ = try dir.write("study/OA.json", oa)
        _ = try dir.write("study/Demographic.json", #"[{"id":8,"birthYear":"19001987"}]"#)
        _ = try dir.write("study/Empty.json", "[]")
        _ = try dir.write("study/deleteable.json", #"{"Demographic": false}"#)
        let sim = try SimServer(["--data", dir.file("study")])
        let scales = try sim.scales()
        #expect(scales.count == 3)
        #expect(scales["OA"]?.size == 2 && scales["OA"]?.deleteable == true)
        #expect(scales["Demographic"]?.deleteable == false)
        #expect(scales["Empty"]?.size == 0)
        let body = try sim.client().get(sim.url + "/export/OA").body
        let expected = #"[{"id":7,"date":"Tue, 03 Apr 2018 14:05:09 -0400","score":3.10,"big":12345678901234567890,"t":"caf\u00e9, \"q\"\n中文 😀"},{"id":9,"date":null,"x":[1,{"a":null}]}]"#
        #expect(String(decoding: body, as: UTF8.self) == expected)
        #expect(try sim.client().delete(sim.url + "/export/Demographic/8").status == 403)
        #expect(try sim.client().delete(sim.url + "/export/OA/9").status == 200)
        #expect(try sim.ledger().map(\.id) == [9])
    }

    @Test func refusesBrokenDataFolders() throws {
        let dir = try TempDir("sim-bad")
        defer { dir.remove() }
        _ = try dir.write("bad/OA.json", #"[{"id":1},"#)
        let r = try Run.program(Products.mtSim, ["--data", dir.file("bad")])
        #expect(r.code == ExitCode.dataError.rawValue)
        #expect(r.stderr.contains("OA.json"))
        _ = try dir.write("noid/OA.json", #"[{"date":"x"}]"#)
        let s = try Run.program(Products.mtSim, ["--data", dir.file("noid")])
        #expect(s.code == ExitCode.dataError.rawValue)
        #expect(s.stderr.contains("id"))
        #expect(try Run.program(Products.mtSim, ["--data", dir.file("missing")]).code == ExitCode.noInput.rawValue)
        #expect(try Run.program(Products.mtSim, []).code == ExitCode.usage.rawValue)
        #expect(try Run.program(Products.mtSim, ["--generate", "--bogus"]).code == ExitCode.usage.rawValue)
        #expect(try Run.program(Products.mtSim, ["--generate", "--fail-delete", "abc"]).code == ExitCode.usage.rawValue)
    }

    @Test func helpListsEveryFlag() throws {
        let r = try Run.program(Products.mtSim, ["--help"])
        #expect(r.code == 0)
        for flag in ["--generate", "--data", "--keep", "--participants", "--seed", "--first-id", "--public-key", "--catalogue",
                     "--arrivals", "--arrival-interval", "--ledger", "--host", "--port", "--prefix", "--url-file", "--user",
                     "--pass-file", "--login-redirect", "--tls", "EXIT STATUS"] + FaultSettings.keys.map({ "--" + $0 }) {
            #expect(r.stdout.contains(flag), "help lacks \(flag)")
        }
    }

    /// Entries without their ciphertext (random padding makes it differ on every run) but with its plaintext.
    func comparable(_ sim: SimServer) throws -> [String: [JSONValue]] {
        let key = try RSAPrivateKey.load(path: sim.privateKeyPath)
        let decryptor = try RSADecryptor(key: key)
        var out: [String: [JSONValue]] = [:]
        for name in try sim.scales().keys {
            out[name] = try sim.entries(name).map { e in
                guard let c = e["participantRSA"]?.stringValue else { return e }
                let plain = decryptor.decrypt(Base64.decode(c) ?? []).map { String(decoding: $0, as: UTF8.self) }
                return e.setting("participantRSA", to: .optionalString(plain))
            }
        }
        return out
    }

    @Test func generationIsDeterministicBySeed() throws {
        let a = try SimServer(["--generate", "--participants", "5", "--seed", "42"])
        let b = try SimServer(["--generate", "--participants", "5", "--seed", "42"])
        let c = try SimServer(["--generate", "--participants", "5", "--seed", "43"])
        let x = try comparable(a), y = try comparable(b), z = try comparable(c)
        #expect(!x.isEmpty)
        #expect(x == y)
        #expect(x != z)
    }

    @Test func generatedStudyFollowsTheCatalogue() throws {
        let sim = try SimServer(["--generate", "--participants", "8", "--seed", "5"])
        let catalogue = try ScaleCatalogue.load(path: Products.packageRoot + "/config/scales.yaml")
        let scales = try sim.scales()
        // Every scale whose items a source gives (not JsPsychTrial, MH), plus the study's participant table and
        // TaskLog, which stay on the server.
        let design = try StudyDesign.load(catalogue: catalogue)
        let studyTables = [design.participantTables[0], design.taskLogTables[0]]
        #expect(Set(scales.keys) == Set(catalogue.scales.filter { !$0.items.isEmpty }.map(\.name) + studyTables))
        for t in studyTables { #expect(scales[t]?.deleteable == false, "\(t)") }
        var ids: [(Int64, Int64)] = []
        var sessions = Set<String>()
        var sawCode = false, sawNull = false
        for spec in catalogue.scales where !spec.items.isEmpty {
            #expect(scales[spec.name]?.deleteable == spec.deleteable, "\(spec.name)")
            for e in try sim.entries(spec.name) {
                ids.append((JavaDate.parse(e["date"]?.stringValue ?? "") ?? -1, e.id))
                if let s = e["session"]?.stringValue { sessions.insert(s) }
                for item in spec.items {
                    let v = try #require(e[item], "\(spec.name) \(e.id) lacks \(item)")
                    guard let rule = spec.rule(for: item) else { continue }
                    switch v {
                    case .null: sawNull = true
                    case .number(let n):
                        #expect(rule.isValid(n), "\(spec.name).\(item) = \(n)")
                        if ["555", "-1"].contains(n) { sawCode = true }
                    case .bool(let b): #expect(rule.isValid(b ? "true" : "false"))
                    case .string(let s): if !s.isEmpty { #expect(rule.isValid(s), "\(spec.name).\(item) = \(s)") }
                    case .array: #expect(rule.isValid(JSONWriter.string(v)))
                    case .object: Issue.record("unexpected object in \(spec.name).\(item)")
                    }
                }
            }
        }
        #expect(sawCode && sawNull)
        #expect(sessions.isSuperset(of: ["ELIGIBLE", "PRE", "SESSION1", "POST"]))
        // One id generator across scales: unique, and increasing with the date.
        #expect(Set(ids.map(\.1)).count == ids.count)
        let byDate = ids.sorted { $0 < $1 }.map(\.1)
        #expect(byDate == byDate.sorted())
        #expect(ids.allSatisfy { $0.0 > 0 })
    }

    @Test func freeTextKeepsEveryLanguageIntact() throws {
        let sim = try SimServer(["--generate", "--participants", "6", "--seed", "9"])
        var texts = Set<String>()
        for name in ["Demographic", "Demographics", "ImageryPrime", "AnxietyTriggers", "Evaluation"] {
            for e in try sim.entries(name) {
                for (_, v) in e.objectFields ?? [] { if let s = v.stringValue { texts.insert(s) } }
            }
        }
        for sample in ["J'ai peur de l'avion, « vraiment » — même en été.", "我很焦虑，因为工作压力很大。",
                       "😀👍 okay, \"quoted\", and commas", "line one\nline two, with a comma"] {
            #expect(texts.contains(sample), "missing \(sample)")
        }
        // What is served is what was written to the data folder.
        let file = try FileSystem.read(sim.dataDir + "/Demographic.json")
        let served = try sim.client().get(sim.url + "/export/Demographic").body
        #expect(try JSONParser.parse(file) == JSONParser.parse(served))
    }

    @Test func participantLinksDecryptWithTheWrittenKey() throws {
        let sim = try SimServer(["--generate", "--participants", "4"])
        #expect(FileSystem.mode(of: sim.privateKeyPath) == 0o600)
        let decryptor = try RSADecryptor(key: RSAPrivateKey.load(path: sim.privateKeyPath))
        let entries = try sim.entries("QOL")
        #expect(!entries.isEmpty)
        for e in entries {
            let c = try #require(e["participantRSA"]?.stringValue)
            let plain = try #require(decryptor.decrypt(Base64.decode(c) ?? []))
            let n = try #require(Int(String(decoding: plain, as: UTF8.self)))
            #expect((1...4).contains(n))
        }
        // LinkedQuestionnaireData tables carry the participant's number; anonymous screenings none, but a sessionId.
        #expect(try sim.entries("ExpectancyBias").allSatisfy {
            $0["participant"]?.int64Value != nil || ($0["participant"]?.isNull == true && $0["session"]?.stringValue == "ELIGIBLE"
                                                     && $0["sessionId"]?.stringValue?.count == 32)
        })
    }

    @Test func givenPublicKeyIsUsedAndNoPrivateKeyIsWritten() throws {
        let keys = try TempDir("sim-keys")
        defer { keys.remove() }
        let pair = try TestKeys.generate(in: keys.path)
        let sim = try SimServer(["--generate", "--participants", "2", "--public-key", pair.publicKey])
        #expect(!FileSystem.exists(sim.privateKeyPath))
        let decryptor = try RSADecryptor(key: RSAPrivateKey.load(path: pair.privateKey))
        let c = try #require(sim.entries("QOL").first?["participantRSA"]?.stringValue)
        #expect(decryptor.decrypt(Base64.decode(c) ?? []) != nil)
    }

    @Test func idsCanExceed32Bits() throws {
        let sim = try SimServer(["--generate", "--participants", "2", "--first-id", "3000000000"])
        // The participant table's ids are the participants' own, not entry ids.
        let ids = try sim.scales().keys.filter { $0 != "ParticipantExportDAO" }.flatMap { try sim.entries($0).map(\.id) }
        #expect(ids.min() == 3_000_000_000)
        let victim = try #require(ids.max())
        let scale = try #require(sim.scales().keys.first { try sim.entries($0).contains { $0.id == victim } })
        let status = try sim.client().delete(sim.url + "/export/\(scale)/\(victim)").status
        #expect(status == 200 || status == 403)
    }

    @Test func arrivalsAddNewerEntriesWithFreshIds() throws {
        let sim = try SimServer(["--generate", "--participants", "3"])
        let before = try sim.scales()
        let maxID = try before.keys.flatMap { try sim.entries($0).map(\.id) }.max() ?? 0
        let added = try sim.addArrivals(7)
        #expect(added.count == 7)
        #expect(added.allSatisfy { $0.id > maxID })
        #expect(Set(added.map(\.id)).count == 7)
        let after = try sim.scales()
        #expect(after.values.reduce(0) { $0 + $1.size } == before.values.reduce(0) { $0 + $1.size } + 7)
        let first = added[0]
        #expect(try sim.entries(first.scale).contains { $0.id == first.id })
        // Arrivals are dated now: an after= of an hour ago finds them, the stamp read in the server's zone
        // (UTC-5 by default, like a US study server's JVM): the same wall time in UTC lies 5 hours ahead.
        let now = Int64(Date().timeIntervalSince1970)
        let recent = try sim.entries(first.scale, query: "?after=" + JavaDate.afterText(now - 3600 - 5 * 3600))
        #expect(recent.contains { $0.id == first.id })
        let utcText = try sim.entries(first.scale, query: "?after=" + JavaDate.afterText(now - 3600))
        #expect(!utcText.contains { $0.id == first.id })
    }

    @Test func timedArrivalsKeepComing() throws {
        let sim = try SimServer(["--generate", "--participants", "2", "--arrivals", "3", "--arrival-interval", "0.2"])
        let start = try sim.counter("entries")
        let deadline = Date().addingTimeInterval(30)
        var now = start
        while now < start + 6 && Date() < deadline {
            usleep(100_000)
            now = try sim.counter("entries")
        }
        #expect(now >= start + 6)
    }

    @Test func generateRefusesToOverwriteAStudy() throws {
        let sim = try SimServer(["--generate", "--participants", "1"])
        let served = try sim.scales()
        sim.stop()
        let r = try Run.program(Products.mtSim, ["--generate", "--data", sim.dataDir])
        #expect(r.code == ExitCode.cantCreate.rawValue)
        // The folder is served again as it was.
        let again = try SimServer(["--data", sim.dataDir])
        #expect(try again.scales().mapValues(\.size) == served.mapValues(\.size))
    }
}

@Suite("Java dates")
struct JavaDateTests {
    @Test func formatsAndParsesLikeJava() {
        let t: Int64 = 1_522_778_709
        #expect(JavaDate.format(t, offsetMinutes: -240) == "Tue, 03 Apr 2018 14:05:09 -0400")
        #expect(JavaDate.format(0, offsetMinutes: 0) == "Thu, 01 Jan 1970 00:00:00 +0000")
        #expect(JavaDate.format(951_782_400, offsetMinutes: 60) == "Tue, 29 Feb 2000 01:00:00 +0100")
        #expect(JavaDate.parse("Tue, 03 Apr 2018 14:05:09 -0400") == t)
        #expect(JavaDate.parse("Tue, 03 Apr 2018 18:05:09 +0000") == t)
        #expect(JavaDate.parse("2018-04-03") == nil)
        #expect(JavaDate.parseAfter("2018-04-03-18-05-09") == t)
        #expect(JavaDate.afterText(t) == "2018-04-03-18-05-09")
        #expect(JavaDate.parseAfter("2018-13-03-18-05-09") == nil)
    }

    /// `--study` generates the study's own tables with the columns its classes export.
    @Test func aStudyIsGeneratedWithItsRealColumns() throws {
        let r01 = try SimServer(["--generate", "--participants", "30", "--study", "r01"])
        let names = Set(try r01.scales().keys)
        #expect(names.contains("ExpectancyBias") && names.contains("Credibility") && !names.contains("DD") && !names.contains("SUDS"))
        let dass = try r01.entries("DASS21_AS")
        let fields = Set(dass.flatMap { ($0.objectFields ?? []).map(\.0) })
        #expect(fields == ["id", "date", "participant", "session", "tag", "timeOnPage", "sessionId", "over18", "dryness",
                           "breathing", "trembling", "worry", "panic", "heart", "scared"])
        #expect(dass.contains { $0["participant"]?.isNull == true && $0["session"]?.stringValue == "ELIGIBLE" })
        #expect(dass.allSatisfy { ["true", "false", "N/A"].contains($0["over18"]?.stringValue ?? "") })
        let cred = Set(try r01.entries("Credibility").flatMap { ($0.objectFields ?? []).map(\.0) })
        #expect(cred.isSuperset(of: ["important", "confident_online", "confident_design"]) && !cred.contains("improvement"))

        let r34 = try SimServer(["--generate", "--participants", "5", "--study", "r34"])
        let r34Names = Set(try r34.scales().keys)
        #expect(r34Names.contains("DD") && !r34Names.contains("ExpectancyBias"))
        let qol = Set(try r34.entries("QOL").flatMap { ($0.objectFields ?? []).map(\.0) })
        let header = try FileSystem.readString(Products.packageRoot + "/Tests/Fixtures/mtdata-2015/QOL_29_10_2015.csv")
            .split(separator: "\n")[0].split(separator: ",").map(String.init)
        // The 2015 export's items; participantRSA where the 2015 export had participantDAO, plus tag and timeOnPage
        // of the later QuestionnaireData.
        #expect(qol == Set(header.filter { $0 != "participantDAO" } + ["participantRSA", "tag", "timeOnPage"]))
        // kaiser screens with the OASIS: its OA keeps a sessionId.
        let kaiser = try SimServer(["--generate", "--participants", "5", "--study", "kaiser"])
        #expect(try kaiser.entries("OA").allSatisfy { $0["sessionId"]?.stringValue?.count == 32 })
        #expect(try r01.entries("OA").allSatisfy { $0["sessionId"] == nil })
        let r34Dass = Set(try r34.entries("DASS21_AS").flatMap { ($0.objectFields ?? []).map(\.0) })
        #expect(r34Dass.contains("sessionId") && !r34Dass.contains("over18"))

        let bad = try Run.program(Products.mtSim, ["--generate", "--study", "r43"])
        #expect(bad.code == ExitCode.config.rawValue && bad.stderr.contains("unknown study 'r43'"))
    }
}
