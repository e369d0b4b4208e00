import Foundation
import MTCore
@testable import MTStats
import MTTestSupport
import Testing

/// `mt stats dataset` on a generated study (two arms, test accounts, admins, under-18s, repeated and anonymous
/// screenings, no-answer codes), against pandas computing the same rules independently, and each format read
/// back by a reader mt did not write: frictionless, PSPP, pandas' Stata reader, the sqlite3 shell.
@Suite(.serialized) struct DatasetTests {
    static func run(_ study: GeneratedStudy, _ args: [String]) throws -> RunResult {
        try Run.mt(["--config", study.config, "stats", "dataset", "lab", "--recovered", "--exclude", study.testAccounts] + args)
    }

    @Test func longFormAgreesWithPandasAndFrictionlessAcceptsIt() throws {
        let study = try GeneratedStudy()
        defer { study.dir.remove() }
        let out = study.dir.file("out/study.csv")
        try FileSystem.makeDirectories(study.dir.file("out"))
        let r = try Self.run(study, ["--format", "csv", "-o", out])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stderr.contains("scales without scores in the catalogue join with --items only"))
        #expect(FileSystem.mode(of: out) == 0o600)
        let script = try study.dir.write("pandas_dataset.py", Self.pandasDataset)
        let py = try Run.program("/usr/bin/env", ["python3", script, study.csvDir, study.testAccounts, out])
        #expect(py.code == 0, "\(py.stderr)")
        let v = try JSONParser.parse(Array(py.stdout.utf8))
        #expect(v["bad"]?.arrayValues == [], "\(py.stdout)")
        #expect((v["rows"]?.int64Value ?? 0) > 100, "\(py.stdout)")
        #expect(v["arms"]?.int64Value == 2)
        #expect((v["checked"]?.int64Value ?? 0) > 200, "\(py.stdout)")

        let frictionless = try #require(Tools.require("frictionless", package: "PyPI frictionless (scripts/deps.sh test)"))
        let f = try Run.program(frictionless, ["validate", study.dir.file("out/datapackage.json")])
        #expect(f.code == 0, "\(f.stdout)\(f.stderr)")
        let package = try JSONParser.parse(FileSystem.read(study.dir.file("out/datapackage.json")))
        let fields = package["resources"]?.arrayValues?.first?["schema"]?["fields"]?.arrayValues ?? []
        #expect(fields.first { $0["name"] == .string("OA_SUM") }?["type"] == .string("number"))
        #expect(fields.first { $0["name"] == .string("date") }?["type"] == .string("datetime"))

        // With --items, coded answers are enum constraints with their labels, no-answer codes missingValues.
        let items = try Self.run(study, ["--items", "--format", "csv", "-o", out])
        #expect(items.code == 0, "\(items.stderr)")
        let f2 = try Run.program(frictionless, ["validate", study.dir.file("out/datapackage.json")])
        #expect(f2.code == 0, "\(f2.stdout)\(f2.stderr)")
        let p2 = try JSONParser.parse(FileSystem.read(study.dir.file("out/datapackage.json")))
        let freq = try #require(p2["resources"]?.arrayValues?.first?["schema"]?["fields"]?.arrayValues?.first { $0["name"] == .string("OA_anxious_freq") })
        #expect(freq["type"] == .string("integer"))
        #expect(freq["constraints"]?["enum"] == .array((0...4).map { .int($0) }))
        #expect(freq["missingValues"] == .array([.string(""), .string("555")]))
        let labels = freq["categories"]?.arrayValues ?? []
        #expect(labels.contains { $0["value"] == .int(0) && $0["label"] == .string("No anxiety") })
        #expect(labels.contains { $0["value"] == .int(555) && $0["label"] == .string("Prefer not to answer") })
    }

    @Test func savDtaAndSqliteReadBackAsTheCSV() throws {
        let study = try GeneratedStudy(participants: 25)
        defer { study.dir.remove() }
        let dir = study.dir.file("out")
        try FileSystem.makeDirectories(dir)
        for format in ["csv", "sav", "dta", "sqlite"] {
            let r = try Self.run(study, ["--items", "--format", format, "-o", "\(dir)/study.\(format)"])
            #expect(r.code == 0, "\(format): \(r.stderr)")
        }
        #expect(try FileSystem.list(dir).sorted() == ["datapackage.json", "study.csv", "study.dta", "study.sav", "study.sqlite"])

        // SPSS: GNU PSPP, independent of ReadStat, writes the data back as CSV and lists the dictionary.
        let pspp = try #require(Tools.require("pspp", package: "pspp"))
        let syntax = try study.dir.write("read.sps", """
            GET FILE='\(dir)/study.sav'.
            DISPLAY DICTIONARY /VARIABLES=OA_anxious_freq OA_SUM.
            SAVE TRANSLATE /OUTFILE='\(dir)/from_sav.csv' /TYPE=CSV /FIELDNAMES /REPLACE.

            """)
        let p = try Run.program(pspp, ["-O", "format=csv", syntax])
        #expect(p.code == 0, "\(p.stdout)\(p.stderr)")
        #expect(p.stdout.contains(",0,No anxiety") && p.stdout.contains(",555[a],Prefer not to answer"), "\(p.stdout)")
        #expect(p.stdout.contains("OA_anxious_freq,") && p.stdout.contains(",555\n"), "user-missing 555: \(p.stdout)")

        // sqlite: the sqlite3 shell.
        let sqlite = try #require(Tools.require("sqlite3", package: "sqlite3"))
        let q = try Run.program(sqlite, ["-csv", "-header", "\(dir)/study.sqlite", "SELECT * FROM dataset"])
        #expect(q.code == 0, "\(q.stderr)")
        try FileSystem.writeAtomically(Array(q.stdout.utf8), to: "\(dir)/from_sqlite.csv")
        let meta = try Run.program(sqlite, ["\(dir)/study.sqlite", """
            PRAGMA user_version;
            SELECT count(*) FROM participants;
            SELECT count(*) FROM OA WHERE archive LIKE '%OA%.json%' AND length(archive_sha256) = 64;
            SELECT count(*) FROM OA;
            SELECT type FROM sqlite_master WHERE name = 'dataset';
            """])
        let lines = meta.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5 && lines[0] == "1" && Int(lines[1])! >= 25 && lines[2] == lines[3] && Int(lines[2])! > 0 && lines[4] == "view", "\(meta.stdout)\(meta.stderr)")

        // All three against the CSV, value by value; dta through pandas' own Stata reader.
        let script = try study.dir.write("compare.py", Self.compareFormats)
        let c = try Run.program("/usr/bin/env", ["python3", script, dir])
        #expect(c.code == 0, "\(c.stderr)")
        let v = try JSONParser.parse(Array(c.stdout.utf8))
        #expect(v["bad"]?.arrayValues == [], "\(c.stdout)")
        #expect((v["cells"]?.int64Value ?? 0) > 10_000, "\(c.stdout)")
    }

    @Test func wideShapeExcludedRowsAndUsageErrors() throws {
        let study = try GeneratedStudy()
        defer { study.dir.remove() }
        let long = study.dir.file("long.csv"), wide = study.dir.file("wide.csv"), all = study.dir.file("all.csv")
        #expect(try Self.run(study, ["--format", "csv", "-o", long]).code == 0)
        #expect(try Self.run(study, ["--shape", "wide", "--format", "csv", "-o", wide]).code == 0)
        #expect(try Self.run(study, ["--include-excluded", "--format", "csv", "-o", all]).code == 0)
        let py = try Run.program("/usr/bin/env", ["python3", "-c", """
            import json, sys
            import pandas as pd
            l, w, a = (pd.read_csv(f, dtype=str, keep_default_na=False) for f in sys.argv[1:4])
            bad = []
            if len(w) != w["participant"].nunique(): bad.append("wide: a participant twice")
            if set(l["participant"]) - set(w["participant"]): bad.append("wide lacks participants of long")
            for _, r in l.iterrows():
                if r["OA_SUM"]:
                    col = "OA_SUM_" + r["session"]
                    got = w.loc[w["participant"] == r["participant"], col].iloc[0]
                    if got != r["OA_SUM"]: bad.append(f"{r['participant']} {col}: {got} != {r['OA_SUM']}")
            if "excluded" in l.columns or "excluded" not in a.columns: bad.append("excluded column")
            reasons = set(a["excluded"]) - {""}
            if not {"test account", "admin", "under 18"} <= reasons: bad.append(f"reasons {reasons}")
            if len(a[a["excluded"] == ""]) != len(l): bad.append("included rows differ")
            print(json.dumps({"bad": bad}))
            """, long, wide, all])
        #expect(py.code == 0, "\(py.stderr)")
        #expect(py.stdout.contains("\"bad\": []"), "\(py.stdout)")
        let u = try Self.run(study, ["--format", "csv"])
        #expect(u.code == 64 && u.stderr.contains("-o OUT"))
        let s = try Self.run(study, ["--shape", "wide", "--format", "sqlite", "-o", study.dir.file("x.sqlite")])
        #expect(s.code == 64 && s.stderr.contains("--shape wide is for csv, sav and dta"))
        let f = try Run.mt(["--config", study.config, "stats", "dataset", "lab", "--recovered", "--format", "xlsx", "-o", long])
        #expect(f.code == 64)
    }

    /// The dataset's rules computed by pandas alone: identity and dedupe per scale, exclusions, arm, the
    /// session's first date, and two scores by their formulas.
    static let pandasDataset = #"""
        import glob, json, os, re, sys
        import pandas as pd
        d, excl, ours = sys.argv[1], sys.argv[2], sys.argv[3]
        def load(scale):
            name = lambda f: re.sub(r"(_recovered)?_[A-Z][a-z]{2}_\d\d_\d{4}.*\.csv$", "", os.path.basename(f))
            fs = sorted(f for f in glob.glob(d + "/*.csv") if name(f) == scale)
            return pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""]) for f in fs], ignore_index=True) if fs else None
        sessions = ["ELIGIBLE", "PRE", "SESSION1", "SESSION2", "SESSION3", "SESSION4", "SESSION5", "SESSION6", "SESSION7", "SESSION8", "POST"]
        pt = load("ParticipantExportDAO").drop_duplicates("id", keep="first")
        listed = set()
        for line in open(excl):
            listed |= {t.strip() for t in line.split("#")[0].split(",") if t.strip()}
        true = lambda v: v in ("1", "\x01", "true")
        def reason(r):
            if r["id"] in listed: return "test account"
            if true(r["admin"]): return "admin"
            if not true(r["over18"]): return "under 18"
            return None
        pt["reason"] = pt.apply(reason, axis=1)
        included = set(pt[pt["reason"].isna()]["id"])
        arm = dict(zip(pt["id"], pt["cbmCondition"] + "/" + pt["prime"]))
        when = lambda s: pd.to_datetime(s, format="%a, %d %b %Y %H:%M:%S %z", utc=True)
        def kept(df, p):
            key = [p] + [c for c in (["session", "tag", "sessionId"] if "tag" in df.columns else ["session"]) if c in df.columns]
            df = df.assign(_k=df[key].fillna("").agg("\x1f".join, axis=1))
            last = df["session"] == "ELIGIBLE"
            first = df[~last].drop_duplicates("_k", keep="first")
            return pd.concat([first, df[last].drop_duplicates("_k", keep="last")]).sort_index()
        def joined(df, p):
            df = df[df[p].notna() & df["session"].isin(sessions) & df[p].isin(included)]
            df = df.assign(_s=df[p] + "\x1f" + df["session"])
            a = df[df["session"] != "ELIGIBLE"].drop_duplicates("_s", keep="first")
            b = df[df["session"] == "ELIGIBLE"].drop_duplicates("_s", keep="last")
            return pd.concat([a, b])
        scored = ["BBSIQ", "DASS21_AS", "DASS21_DS", "ExpectancyBias", "OA", "QOL", "RR"]
        frames, dates = {}, []
        for s in scored:
            df = load(s)
            if df is None: continue
            p = next(c for c in ["participantRSA", "participantDAO", "participantId", "participant"] if c in df.columns)
            j = joined(kept(df, p), p)
            frames[s] = (j, p)
            dates.append(pd.DataFrame({"participant": j[p], "session": j["session"], "date": when(j["date"])}))
        first = pd.concat(dates).groupby(["participant", "session"])["date"].min()
        def mean_items(row, items, codes):
            v = [float(row[i]) for i in items if i in row and pd.notna(row[i]) and float(row[i]) not in codes]
            return sum(v) / len(v) if v else None
        o = pd.read_csv(ours, dtype=str, keep_default_na=False)
        bad, checked = [], 0
        if len(o) != len(first): bad.append(f"rows: ours {len(o)}, pandas {len(first)}")
        oa_items = ["anxious_freq", "anxious_sev", "avoid", "interfere", "interfere_social"]
        dass = ["dryness", "breathing", "trembling", "worry", "panic", "heart", "scared"]
        want = {}
        for (s, items, factor, col) in [("OA", oa_items, 5, "OA_SUM"), ("DASS21_AS", dass, 14, "DASS21_AS_eligibilityScore")]:
            j, p = frames[s]
            for _, r in j.iterrows():
                m = mean_items(r, items, {555.0})
                want[(r[p], r["session"], col)] = m * factor if m is not None else None
        for _, r in o.iterrows():
            k = (r["participant"], r["session"])
            if k not in first.index: bad.append(f"{k} not in pandas"); continue
            if r["date"] != first[k].strftime("%Y-%m-%dT%H:%M:%SZ"): bad.append(f"{k} date {r['date']} != {first[k]}")
            if r["arm"] != arm[r["participant"]]: bad.append(f"{k} arm")
            for col in ["OA_SUM", "DASS21_AS_eligibilityScore"]:
                w = want.get((r["participant"], r["session"], col))
                got = float(r[col]) if r[col] else None
                if (w is None) != (got is None) or (w is not None and abs(w - got) > 1e-9): bad.append(f"{k} {col}: {got} != {w}")
                checked += 1
            checked += 2
        print(json.dumps({"bad": bad[:20], "rows": len(o), "arms": o["arm"].nunique(), "checked": checked}))
        """#

    /// The sav (as PSPP wrote it back), the dta (pandas' Stata reader) and the sqlite view against the CSV.
    static let compareFormats = #"""
        import json, math, sys
        import pandas as pd
        d = sys.argv[1]
        csv = pd.read_csv(d + "/study.csv", dtype=str, keep_default_na=False)
        sav = pd.read_csv(d + "/from_sav.csv", dtype=str, keep_default_na=False)
        lite = pd.read_csv(d + "/from_sqlite.csv", dtype=str, keep_default_na=False)
        dta = pd.read_stata(d + "/study.dta", convert_categoricals=False, convert_missing=True)
        reader = pd.io.stata.StataReader(d + "/study.dta")
        labels = reader.value_labels()
        package = json.load(open(d + "/datapackage.json"))
        fields = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
        bad, cells = [], 0
        def same(a, b, name):
            if a == "" or b == "" or b is None: return (a == "") == (b == "" or b is None)
            try: return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
            except ValueError: return a == b
        for name, other in [("sqlite", lite), ("sav", sav)]:
            if list(other.columns) != list(csv.columns): bad.append(f"{name}: columns differ"); continue
            if len(other) != len(csv): bad.append(f"{name}: {len(other)} rows, csv {len(csv)}"); continue
            for c in csv.columns:
                for i, (a, b) in enumerate(zip(csv[c], other[c])):
                    b = b.strip()
                    if name == "sav": a = a.replace("\r\n", "\n")  # PSPP's CSV writer ends a text's lines with LF
                    if not same(a.strip(), b, c): bad.append(f"{name} row {i} {c}: {b!r} != {a!r}")
                    cells += 1
        if len(dta) != len(csv): bad.append(f"dta: {len(dta)} rows")
        # Stata names are at most 32 bytes: longer ones are cut (the variable label keeps the full name), so
        # columns are matched by position.
        if len(dta.columns) != len(csv.columns): bad.append("dta: columns differ")
        for c, dc in zip(csv.columns, dta.columns):
            if dc != c and not (len(c) > 32 and reader.variable_labels()[dc].startswith(c + ":")): bad.append(f"dta column {dc} for {c}")
            codes = {m for m in fields[c].get("missingValues", []) if m}
            for i, (a, b) in enumerate(zip(csv[c], dta[dc])):
                if a in codes:
                    ok = type(b).__name__ == "StataMissingValue"
                elif a == "":
                    ok = (isinstance(b, float) and math.isnan(b)) or b == "" or type(b).__name__ == "StataMissingValue"
                else:
                    ok = same(a, str(b), c)
                if not ok: bad.append(f"dta row {i} {c}: {b!r} != {a!r}")
                cells += 1
        freq = labels.get("l_OA_anxious_freq", {})
        if freq.get(0) != "No anxiety": bad.append(f"dta value labels: {freq}")
        if reader.variable_labels().get("OA_SUM", "").find("OASIS") < 0: bad.append("dta variable label")
        print(json.dumps({"bad": bad[:30], "cells": cells}))
        """#
}

/// What cannot be joined is named, per scale and kind, and left out.
@Suite struct DatasetJoinTests {
    @Test func warningsNameWhatCouldNotBeJoined() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let cipher = String(repeating: "QUJD", count: 86)
        let people = try dir.write("ParticipantExportDAO_Jan_01_2020.csv", """
            admin,cbmCondition,id,over18,prime,testAccount\r
            0,POSITIVE,1,1,ANXIETY,0\r
            0,FIFTY_FIFTY,2,1,ANXIETY,0\r
            1,POSITIVE,3,1,ANXIETY,0\r

            """)
        let oa = try dir.write("OA_Jan_01_2020.csv", """
            anxious_freq,anxious_sev,avoid,date,id,interfere,interfere_social,participant,session,tag\r
            1,2,3,"Mon, 06 Jan 2020 10:00:00 -0500",10,4,555,1,PRE,\r
            1,1,1,"Mon, 06 Jan 2020 11:00:00 -0500",11,1,1,1,PRE,\r
            0,0,0,"Tue, 07 Jan 2020 10:00:00 -0500",12,0,0,1,WEIRD,\r
            2,2,2,"Tue, 07 Jan 2020 10:00:00 -0500",13,2,2,9,PRE,\r
            2,2,2,"Tue, 07 Jan 2020 10:00:00 -0500",14,2,2,\(cipher),PRE,\r
            4,4,4,"Wed, 08 Jan 2020 10:00:00 -0500",15,4,4,2,POST,\r
            3,3,3,"Wed, 08 Jan 2020 10:00:00 -0500",16,3,3,3,POST,\r

            """)
        let qol = try dir.write("QOL_Jan_01_2020.csv", "id,session,material\r\n1,PRE,3\r\n")
        let cat = try Fixtures.catalogue()
        let design = try StudyDesign.load(catalogue: cat)
        let sources = try ScaleFiles.paths([people, oa, qol], scale: nil)
        let d = try Dataset.build(sources, catalogue: cat, design: design, exclusions: ExclusionList(), options: .init())
        let text = d.warnings.joined(separator: "\n")
        #expect(text.contains("OA: 1 answer(s) whose participant holds RSA ciphertext left undecrypted are not joined"), "\(text)")
        #expect(text.contains("OA: 1 answer(s) in a session outside the study's order"), "\(text)")
        #expect(text.contains("OA: 1 answer(s) of participants not in the participant table are not joined"), "\(text)")
        #expect(text.contains("QOL: not joined: QOL: no participant column"), "\(text)")
        // Participant 1 PRE once (the first of two answers: the same identity), 2 POST; 3 is an admin.
        #expect(d.rows.map { Array($0.prefix(3)) } == [["1", "POSITIVE/ANXIETY", "PRE"], ["2", "FIFTY_FIFTY/ANXIETY", "POST"]])
        let sum = try #require(d.columns.firstIndex { $0.name == "OA_SUM" })
        #expect(d.rows[0][sum] == "12.5") // (1+2+3+4) / 4 × 5: 555 skipped
        #expect(d.rows[0][3] == "2020-01-06T15:00:00Z")
        #expect(d.participants.map(\.excluded) == ["", "", "admin"])
    }
}
