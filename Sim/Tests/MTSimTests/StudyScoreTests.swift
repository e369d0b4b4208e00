import Foundation
import MTCore
import MTSim
import MTStats
import MTTestSupport
import Testing

/// mt's scores against an independent pandas computation of each study's own formula (the Java `score()`
/// methods, MTData's scales.py), on studies mt-sim generates from the catalogue with `--study`, made harder
/// with the columns real tables carry: an extra counter, free text (also typed into item cells), no-answer
/// codes, nulls and anonymous screenings.
@Suite struct StudyScoreTests {
    /// The formulas, written from the Java classes and scales.py, not from the catalogue. Item lists that only
    /// the real 2015 headers give (r34 QOL, DASS21_DS) are read from those headers.
    static let script = #"""
        import sys, json, math
        import pandas as pd

        path, scale, study, fixtures = sys.argv[1:5]
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])

        def header_items(name):
            cols = open(f"{fixtures}/{name}_29_10_2015.csv").readline().strip().split(",")
            return [c for c in cols if c not in ("id", "date", "participantDAO", "session")]

        PHYS = ['breath_suffocate', 'chest_heart', 'confused_outofmind', 'dizzy_ill', 'heart_wrong', 'lightheaded_faint', 'vision_illness']
        NONPHYS = ['breath_flu', 'breath_physically', 'vision_glasses', 'vision_strained', 'lightheaded_eat', 'lightheaded_sleep', 'chest_indigestion', 'chest_sore', 'heart_active', 'heart_excited', 'confused_cold', 'confused_work', 'dizzy_ate', 'dizzy_overtired']
        THREAT = ['visitors_bored', 'shop_irritating', 'smoke_house', 'friend_incompetent', 'jolt_burglar', 'party_boring', 'urgent_died']
        NONTHREAT = ['visitors_engagement', 'visitors_outstay', 'shop_bored', 'shop_concentrating', 'smoke_cig', 'smoke_food', 'friend_helpful', 'friend_moreoften', 'jolt_dream', 'jolt_wind', 'party_hear', 'party_preoccupied', 'urgent_bill', 'urgent_junk']
        OA = ['anxious_freq', 'anxious_sev', 'avoid', 'interfere', 'interfere_social']
        DASS_AS = ['dryness', 'breathing', 'trembling', 'worry', 'panic', 'heart', 'scared']
        EB_POS = {'r01': ['ShortRest', 'SettleIn', 'ConsideredAdvancement', 'FinanciallySecure'],
                  'templeton': ['BetterRest', 'SettleIn', 'ConsideredAdvancement', 'FinanciallySecure']}
        EB_NEG = ['VerySick', 'Offend', 'Stuck', 'Ruining']

        def values(row, cols, skip):
            out = []
            for c in cols:
                v = pd.to_numeric(row.get(c), errors="coerce")
                if v is None or (isinstance(v, float) and math.isnan(v)) or skip(v):
                    continue
                out.append(float(v))
            return out

        def mean(vals):
            return sum(vals) / len(vals) if vals else None

        def ratio(a, b):
            if a is None or b is None or b == 0:
                return None
            return a / b

        # The participant column: MTData takes the one whose name contains "participant".
        pcol = [c for c in df.columns if "participant" in c][0]
        key = [pcol] + [c for c in ("session", "tag", "sessionId") if c in df.columns]
        df["_eligible"] = df["session"] == "ELIGIBLE"
        kept = pd.concat([df[~df["_eligible"]].drop_duplicates(key, keep="first"),
                          df[df["_eligible"]].drop_duplicates(key, keep="last")]).sort_index()
        kept = kept[kept[pcol].notna() & kept["session"].notna()]

        rows = []
        for _, r in kept.iterrows():
            r = r.to_dict()
            if scale == "OA":
                skip = (lambda v: v in (555, -1)) if study == "r34" else (lambda v: v == 555)
                m = mean(values(r, OA, skip))  # Java: (sum / answered) * 5
                s = {"SUM": None if m is None else m * 5}
            elif scale == "DASS21_AS":
                skip = (lambda v: v < 0) if study == "r34" else (lambda v: v == 555)
                m = mean(values(r, DASS_AS, skip))
                s = {"eligibilityScore": None if m is None else m * 14, "SUM": None if m is None else m * 7}
            elif scale == "DASS21_DS":
                items = header_items("DASS21_DS") if study == "r34" else ['nopositive', 'difficult', 'hopeless', 'blue', 'noenthusiastic', 'noworth', 'meaningless']
                m = mean(values(r, items, lambda v: v == -1))
                s = {"SUM": None if m is None else m * len(items)}
            elif scale == "QOL":
                items = header_items("QOL")
                m = mean(values(r, items, lambda v: v == 555))
                s = {"SUM": None if m is None else m * len(items)}
            elif scale == "RR":
                java = [c for c in df.columns if c.endswith(("_NS", "_NF", "_PF", "_PS"))]
                ns = mean(values(r, [c for c in java if c.endswith("_NS")], lambda v: v == -1))
                other = mean(values(r, [c for c in java if c.endswith(("_NF", "_PF", "_PS"))], lambda v: v == -1))
                ps = mean(values(r, [c for c in java if c.endswith("_PS")], lambda v: v == -1))
                nf = mean(values(r, [c for c in java if c.endswith("_NF")], lambda v: v == -1))  # RRScore.R foils
                pf = mean(values(r, [c for c in java if c.endswith("_PF")], lambda v: v == -1))
                s = {"Score": ratio(ns, other), "Negative_Ave": ns, "Positive_Ave": ps,
                     "NegativeFoil_Ave": nf, "PositiveFoil_Ave": pf}
            elif scale == "BBSIQ":
                skip = lambda v: v == 555
                s = {"Physical_Score": ratio(mean(values(r, PHYS, skip)), mean(values(r, NONPHYS, skip))),
                     "External_Threat_Score": ratio(mean(values(r, THREAT, skip)), mean(values(r, NONTHREAT, skip))),
                     "Negative_Ave": mean(values(r, PHYS + THREAT, skip)),
                     "Other_Ave": mean(values(r, NONPHYS + NONTHREAT, skip))}
            elif scale == "ExpectancyBias":
                skip = lambda v: v == -1  # Java NO_ANSWER
                pos, neg = mean(values(r, EB_POS[study], skip)), mean(values(r, EB_NEG, skip))
                s = {"score": None if pos is None or neg is None else pos - neg, "positiveAverage": pos, "negativeAverage": neg}
            else:
                raise SystemExit("no formula for " + scale)
            ident = [("" if (isinstance(r.get(c), float) and math.isnan(r.get(c))) or r.get(c) is None else r.get(c)) for c in key]
            rows.append({"key": ident, "scores": s})
        print(json.dumps({"key": ["participant"] + key[1:], "rows": rows, "anonymous": int(df[pcol].isna().sum())}))
        """#

    /// A generated study's table as the exporter writes it, plus the columns and cells real tables add.
    func table(_ scale: SimScale, into dir: TempDir, seed: UInt64) throws -> String {
        var rng = SimRandom(seed: seed, stream: scale.name)
        let entries = try scale.entries.map { try JSONParser.parse($0.raw) }
        var header = EntryCSV.header(for: entries)
        let items = header.filter { !["id", "date", "participant", "participantRSA", "session", "tag", "timeOnPage", "sessionId", "over18"].contains($0) }
        header += ["visits", "comment"]
        var out = CSVWriter.row(header)
        for e in entries {
            var row = EntryCSV.row(e, header: Array(header.dropLast(2)))
            for (k, name) in header.enumerated() where items.contains(name) {
                // Free text and a negative no-answer the form never posts, typed where a number belongs.
                if rng.chance(0.02) { row[k] = "n/a, skipped" } else if rng.chance(0.02) { row[k] = "-2" }
            }
            row += [String(rng.next() % 40), ["", "J'ai \"peur\", vraiment", "我很焦虑", "fine"][Int(rng.next() % 4)]]
            CSVWriter.appendRow(row, to: &out)
        }
        return try dir.write("\(scale.name)_Nov_29_2026.csv", String(decoding: out, as: UTF8.self))
    }

    func study(_ name: String, dir: TempDir) throws -> [SimScale] {
        let keys = try TestKeys.generate(in: dir.path, name: "study")
        let key = try RSAPublicKey.parse(pem: try FileSystem.read(keys.publicKey), source: keys.publicKey)
        let catalogue = try ScaleCatalogue.load(path: Products.packageRoot + "/config/scales.yaml").resolved(for: Study(name))
        return try StudyGenerator(catalogue: catalogue, publicKey: key, participants: 60, seed: 7, firstID: 1).generate()
    }

    @Test(arguments: [("r34", ["OA", "DASS21_AS", "DASS21_DS", "QOL", "RR", "BBSIQ"]),
                      ("r01", ["OA", "DASS21_AS", "DASS21_DS", "RR", "ExpectancyBias"]),
                      ("kaiser", ["OA", "DASS21_AS", "BBSIQ"]),
                      ("templeton", ["ExpectancyBias"])])
    func scoresMatchTheStudysOwnFormula(study name: String, scales: [String]) throws {
        let dir = try TempDir("scores-\(name)")
        defer { dir.remove() }
        let generated = try study(name, dir: dir)
        let catalogue = try ScaleCatalogue.load(path: Products.packageRoot + "/config/scales.yaml").resolved(for: Study(name))
        let script = try dir.write("formula.py", Self.script)
        for scaleName in scales {
            let scale = try #require(generated.first { $0.name == scaleName }, "\(name) has no \(scaleName)")
            let file = try table(scale, into: dir, seed: 11)
            var out: [UInt8] = []
            let result = try StatsTransforms.scores(ScaleFiles(scale: scaleName, files: [file]), catalogue: catalogue) { out += $0 }
            var reader = try CSVReader(bytes: out)
            let mtHeader = try #require(try reader.next())
            var mtRows: [[String]] = []
            while let r = try reader.next() { mtRows.append(r) }
            let py = try Run.program("/usr/bin/env", ["python3", script, file, scaleName, name, Products.packageRoot + "/Tests/Fixtures/mtdata-2015"])
            #expect(py.code == 0, "\(py.stderr)")
            let expected = try JSONParser.parse(Array(py.stdout.utf8))
            let keyNames = expected["key"]?.arrayValues?.compactMap(\.stringValue) ?? []
            let rows = expected["rows"]?.arrayValues ?? []
            #expect(Array(mtHeader.prefix(keyNames.count)) == keyNames, "\(name) \(scaleName): \(mtHeader)")
            #expect(mtRows.count == rows.count, "\(name) \(scaleName): mt \(mtRows.count) rows, pandas \(rows.count)")
            #expect(mtRows.count > 20)
            for (m, p) in zip(mtRows, rows) {
                let key = p["key"]?.arrayValues?.compactMap(\.stringValue) ?? []
                #expect(Array(m.prefix(key.count)) == key, "\(name) \(scaleName): row keys differ")
                for (k, column) in mtHeader.enumerated().dropFirst(keyNames.count) {
                    let want = p["scores"]?[column]
                    let got = m[k]
                    if want == nil || want == .null {
                        #expect(got.isEmpty, "\(name) \(scaleName) \(column): mt \(got), pandas empty")
                    } else {
                        guard case .number(let text)? = want, let w = Double(text) else {
                            Issue.record("\(name) \(scaleName) \(column): pandas gave \(String(describing: want))")
                            continue
                        }
                        let g = try #require(Double(got), "\(name) \(scaleName) \(column): '\(got)'")
                        #expect(abs(g - w) <= 1e-9 * max(1, abs(w)), "\(name) \(scaleName) \(column): mt \(g), pandas \(w)")
                        // Shortest round-trip text: what Swift prints for the nearest double.
                        #expect(got == StatsNumber.text(g))
                    }
                }
            }
            if scale.entries.contains(where: { String(decoding: $0.raw, as: UTF8.self).contains(#""sessionId""#) }) {
                #expect((expected["anonymous"]?.int64Value ?? 0) > 0, "\(name) \(scaleName): no anonymous screening generated")
                #expect(result.warnings.contains { $0.contains("anonymous screenings") }, "\(result.warnings)")
            }
        }
    }

    /// The issue's example: OA's five items plus an extra numeric and a free-text column; the Java score()
    /// of (1, 2, 555, 3, 4) is (10 / 4) * 5 = 12.5.
    @Test func oaScoresItsFiveItemsOnly() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let f = try dir.write("OA_Nov_29_2026.csv", """
            id,participant,session,tag,anxious_freq,anxious_sev,avoid,interfere,interfere_social,counter,note\r
            1,7,PRE,,1,2,555,3,4,37,"a, b"\r
            2,8,PRE,,2,3,3,3,3,0,\r

            """)
        var out: [UInt8] = []
        let catalogue = try ScaleCatalogue.load(path: Products.packageRoot + "/config/scales.yaml").resolved(for: Study("r01"))
        _ = try StatsTransforms.scores(ScaleFiles(scale: "OA", files: [f]), catalogue: catalogue) { out += $0 }
        // 2.8 × 5 computed as 14 × 5 / 5: exactly 14.
        #expect(String(decoding: out, as: UTF8.self) == "participant,session,tag,SUM\r\n7,PRE,,12.5\r\n8,PRE,,14\r\n")
    }
}
