import Foundation
import MTCore
import MTTestSupport
import Testing

enum Tools {
    static let pandas: Bool = (try? Run.program("/usr/bin/env", ["python3", "-c", "import pandas"]).code) == 0

    static let chromium: String? = {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for d in dirs where FileManager.default.isExecutableFile(atPath: "\(d)/\(name)") { return "\(d)/\(name)" }
        }
        return nil
    }()

    /// A reader mt did not write, which `scripts/deps.sh test` installs: a missing one fails the test, naming the
    /// package, never skips it.
    static func require(_ name: String, package: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/bin"]
        if let found = dirs.map({ "\($0)/\(name)" }).first(where: FileManager.default.isExecutableFile) { return found }
        Issue.record("\(name) is not installed: run scripts/deps.sh test (Debian package \(package))")
        return nil
    }
}

/// `mt stats` run as the built binary.
@Suite struct StatsCommandTests {
    @Test func summaryOfFilesAsJSONAndCSV() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let a = try dir.write("OA_Apr_03_2018.csv", Fixtures.oa1)
        let b = try dir.write("OA_Jun_01_2018.csv", Fixtures.oa2)
        let r = try Run.mt(["stats", "summary", "--json", a, b])
        #expect(r.code == 0, "\(r.stderr)")
        let v = try JSONParser.parse(Array(r.stdout.utf8))
        #expect(v.arrayValues?.count == 1)
        let s = v.arrayValues![0]
        #expect(s["entries"] == .number("7"))
        #expect(s["participants"] == .number("5"))
        #expect(s["duplicates"] == .number("1"))
        #expect(s["firstDate"] == .string("2018-04-03T18:05:09Z"))
        #expect(r.stderr.contains("warning:") && r.stderr.contains("renamed"))

        let q = try Run.mt(["stats", "--csv", "-q", a])
        #expect(q.code == 0 && q.stderr.isEmpty)
        #expect(q.stdout.hasPrefix("scale,entries,participants,duplicates,firstDate,lastDate,sessions,column,missing,outOfRange\r\n"))
        #expect(q.stdout.contains("OA,5,3,1,2018-04-03T18:05:09Z,2018-05-07T15:00:00Z,PRE=4;SESSION1=1,avoid,1,1\r\n"))

        let t = try Run.mt(["stats", a])
        #expect(t.stdout.contains("entries 5   participants 3   duplicates 1"))
    }

    @Test func serverFoldersActiveAndRecovered() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = try dir.write("data/active_data/OA_Apr_03_2018.csv", Fixtures.oa1)
        _ = try dir.write("data/active_data/OA_Jun_01_2018.csv", Fixtures.oa2)
        _ = try dir.write("data/active_data/Phq4_Apr_03_2018.csv", "participantId,session,nervous\r\n1,PRE,2\r\n")
        _ = try dir.write("data/recovered_data/OA_Nov_29_2026.csv", "participantId,session,avoid\r\n9,PRE,1\r\n")
        let config = try dir.write("mt.yaml", """
            lab:
              SERVER: https://study.example.edu/api/
              USER: admin
              PATH: data/
            """)
        let all = try Run.mt(["--config", config, "stats", "lab", "--json"])
        #expect(all.code == 0, "\(all.stderr)")
        let scales = try JSONParser.parse(Array(all.stdout.utf8)).arrayValues ?? []
        #expect(scales.map { $0["scale"] } == [.string("OA"), .string("Phq4")])
        #expect(scales.first?["entries"] == .number("7"))

        let one = try Run.mt(["--config", config, "stats", "summary", "lab", "OA", "--recovered", "--json"])
        #expect(one.code == 0, "\(one.stderr)")
        #expect(try JSONParser.parse(Array(one.stdout.utf8)).arrayValues?.first?["entries"] == .number("1"))

        let missing = try Run.mt(["--config", config, "stats", "lab", "OAA"])
        #expect(missing.code == 66)
        #expect(missing.stderr.contains("did you mean 'OA'"))
    }

    @Test func outputFilesAreWrittenPrivately() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let a = try dir.write("OA_Apr_03_2018.csv", Fixtures.oa1)
        for verb in ["score", "wide", "dedupe"] {
            let out = dir.file("\(verb).csv")
            let r = try Run.mt(["stats", verb, a, "-o", out])
            #expect(r.code == 0, "\(verb): \(r.stderr)")
            #expect(FileSystem.mode(of: out) == 0o600)
            #expect(try FileSystem.readString(out).hasPrefix(verb == "dedupe" ? "anxious_freq," : "participant,"))
        }
        let r = try Run.mt(["stats", "dedupe", a, "--keep", "sideways"])
        #expect(r.code == 64)
        let s = try Run.mt(["stats", "summary", a, "--keep", "last"])
        #expect(s.code == 64)
    }

    @Test func reportHoldsTheKeyNumbers() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let a = try dir.write("OA_Apr_03_2018.csv", Fixtures.oa1)
        let b = try dir.write("OA_Jun_01_2018.csv", Fixtures.oa2)
        let html = dir.file("report.html")
        let r = try Run.mt(["stats", "report", a, b, "--html", html])
        #expect(r.code == 0, "\(r.stderr)")
        let page = try FileSystem.readString(html)
        #expect(FileSystem.mode(of: html) == 0o600)
        #expect(page.contains("<b>7</b>entries"))
        #expect(page.contains("<b>5</b>participants"))
        #expect(page.contains("<b>1</b>duplicates"))
        #expect(page.contains("<b>2018-04-03</b>first date") && page.contains("<b>2018-06-01</b>last date"))
        #expect(page.contains("<svg") && page.contains("PRE: 3")) // 3 participants answered PRE (101, 102, 103)
        #expect(page.contains("<td>interfere_social</td>"))
        for fetch in ["src=", "<link", "@import", "url(", "<script"] { #expect(!page.contains(fetch), "\(fetch)") }
        // Links only to the page's own sections (the overview links each scale).
        #expect(page.components(separatedBy: "href=\"").dropFirst().allSatisfy { $0.hasPrefix("#") })
    }

    @Test(.enabled(if: Tools.chromium != nil, "no chromium binary on PATH: apt-get install chromium to run this test"))
    func reportRendersInHeadlessChromium() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let a = try dir.write("OA_Apr_03_2018.csv", Fixtures.oa1)
        let html = dir.file("report.html")
        #expect(try Run.mt(["stats", "report", a, "--html", html]).code == 0)
        let shot = dir.file("shot.png")
        let r = try Run.program(Tools.chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                  "--user-data-dir=\(dir.file("profile"))", "--window-size=1000,900",
                                                  "--screenshot=\(shot)", "file://\(html)"])
        #expect(FileSystem.exists(shot), "chromium wrote no screenshot: \(r.stderr)")
        let script = try dir.write("pngcheck.py", PNGCheck.script)
        let c = try Run.program("/usr/bin/env", ["python3", script, shot])
        #expect(c.code == 0, "\(c.stderr)")
        let v = try JSONParser.parse(Array(c.stdout.utf8))
        // Not blank: many colours, and the bars of both charts are on screen in their own colours.
        #expect((v["colors"]?.int64Value ?? 0) > 20)
        #expect((v["blue"]?.int64Value ?? 0) > 100)
        #expect((v["orange"]?.int64Value ?? 0) > 100)
    }

    @Test(.enabled(if: Tools.pandas, "pandas is not installed (pip install pandas): the comparison with pandas is skipped"))
    func summaryAgreesWithPandasToTheUnit() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        // Two files of one scale, columns in another order, empty cells, repeated answers, quoted commas and
        // newlines, UTF-8, a blank line and a short row; pandas reads them with the definitions of mt-stats(1).
        var rng = SystemRandomNumberGenerator()
        var files: [String] = []
        for (k, header) in [["id", "date", "participantId", "session", "tag", "anxious_freq", "avoid", "note"],
                            ["participantId", "note", "avoid", "tag", "session", "id", "anxious_freq", "extra"]].enumerated() {
            var text = CSVWriter.row(header)
            for i in 0..<3000 {
                var row: [String] = []
                for h in header {
                    let r = Int.random(in: 0..<100, using: &rng)
                    switch h {
                    case "id": row.append(String(k * 10000 + i))
                    case "date": row.append(r < 3 ? "" : "Mon, 0\(1 + i % 9) Jun 2020 1\(i % 10):00:00 +0000")
                    case "participantId": row.append(r < 2 ? "" : String(Int.random(in: 1...400, using: &rng)))
                    case "session": row.append(["PRE", "SESSION1", "POST", ""][Int.random(in: 0..<4, using: &rng)])
                    case "tag": row.append(r < 80 ? "" : "t\(r % 3)")
                    case "note": row.append(r < 50 ? "" : ["a, b", "dit \"oui\"", "ligne\nsuivante", "中文 🙂", "NA", "null"][r % 6])
                    default: row.append(r < 10 ? "" : String(r % 7))
                    }
                }
                CSVWriter.appendRow(row, to: &text)
                if i == 1000 { text += Array("\r\n".utf8) }
                if i == 2000 && k == 1 { text += Array("77,x\r\n".utf8) }
            }
            files.append(try dir.write("OA_Jun_0\(k + 1)_2020.csv", String(decoding: text, as: UTF8.self)))
        }
        let mt = try Run.mt(["stats", "summary", "--json"] + files)
        #expect(mt.code == 0, "\(mt.stderr)")
        let ours = try JSONParser.parse(Array(mt.stdout.utf8)).arrayValues![0]
        let script = try dir.write("pandas_summary.py", """
            import json, sys
            import pandas as pd
            frames = [pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""]) for f in sys.argv[1:]]
            df = pd.concat(frames, ignore_index=True, sort=False)
            missing = df.isnull().sum()
            print(json.dumps({
                "entries": len(df),
                "participants": int(df["participantId"].nunique()),
                "duplicates": len(df) - len(df.drop_duplicates(subset=["participantId", "session", "tag"])),
                "missing": {c: int(missing[c]) for c in df.columns},
                "sessions": {k: int(v) for k, v in df["session"].value_counts().items()},
            }))
            """)
        let py = try Run.program("/usr/bin/env", ["python3", script] + files)
        #expect(py.code == 0, "\(py.stderr)")
        let theirs = try JSONParser.parse(Array(py.stdout.utf8))
        for key in ["entries", "participants", "duplicates"] {
            #expect(ours[key] == theirs[key], "\(key)")
        }
        let ourMissing = Dictionary(uniqueKeysWithValues: ours["missing"]!.objectFields!.map { ($0.0, $0.1.int64Value) })
        let theirMissing = Dictionary(uniqueKeysWithValues: theirs["missing"]!.objectFields!.map { ($0.0, $0.1.int64Value) })
        #expect(ourMissing == theirMissing)
        #expect(ourMissing.count == 9)
        let ourSessions = Dictionary(uniqueKeysWithValues: ours["sessions"]!.objectFields!.map { ($0.0, $0.1.int64Value) })
        let theirSessions = Dictionary(uniqueKeysWithValues: theirs["sessions"]!.objectFields!.map { ($0.0, $0.1.int64Value) })
        #expect(ourSessions == theirSessions)
    }
}

/// Decodes a PNG (8-bit RGB or RGBA) with zlib and reports how many colours it shows and how many pixels have
/// the report's bar colours; a blank page has one or two colours.
enum PNGCheck {
    static let script = #"""
        import json, struct, sys, zlib
        data = open(sys.argv[1], "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
        pos, idat = 8, b""
        while pos < len(data):
            n, kind = struct.unpack(">I4s", data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + n]
            if kind == b"IHDR":
                w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            elif kind == b"IDAT":
                idat += body
            pos += 12 + n
        bpp = {2: 3, 6: 4}[ctype]
        raw = zlib.decompress(idat)
        stride = w * bpp
        prev = bytearray(stride)
        colors = {}
        for y in range(h):
            f = raw[y * (stride + 1)]
            line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                if f == 1: line[i] = (line[i] + a) & 255
                elif f == 2: line[i] = (line[i] + b) & 255
                elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
            for x in range(0, stride, bpp * 4):
                px = bytes(line[x:x + 3])
                colors[px] = colors.get(px, 0) + 1
            prev = line
        print(json.dumps({"width": w, "height": h, "colors": len(colors),
                          "blue": colors.get(bytes([59, 110, 165]), 0), "orange": colors.get(bytes([224, 138, 44]), 0),
                          "box": colors.get(bytes([214, 234, 248]), 0), "flag": colors.get(bytes([246, 213, 213]), 0)}))
        """#
}

/// The issue's "done when": a study from mt-sim, its archives rebuilt by mt recover, then mt stats summary on the
/// recovered CSVs agrees with pandas on every scale.
@Suite struct StatsOnRecoveredDataTests {
    @Test(.enabled(if: Tools.pandas, "pandas is not installed (pip install pandas): the comparison with pandas is skipped"))
    func summaryOfRecoveredCSVsAgreesWithPandas() throws {
        let sim = try SimServer(["--generate", "--participants", "12"])
        sim.stop() // only its generated study is needed
        let dir = try TempDir()
        defer { dir.remove() }
        let raw = dir.file("data/raw_data")
        try FileSystem.makeDirectories(raw)
        var scales: [String] = []
        let catalogue = try Fixtures.catalogue()
        for name in try FileSystem.list(sim.dataDir) where name.hasSuffix(".json") {
            let scale = String(name.dropLast(5))
            guard catalogue.spec(for: scale) != nil else { continue } // the simulator's own settings
            scales.append(scale)
            // The original tool's raw file name: <Scale>_<Mon_DD_YYYY>_<HH_MM_SS>.json
            try FileSystem.writeAtomically(try FileSystem.read(sim.dataDir + "/" + name), to: "\(raw)/\(scale)_Nov_29_2026_10_00_00.json")
        }
        #expect(scales.count > 20)
        let config = try dir.write("mt.yaml", """
            lab:
              SERVER: https://study.example.edu/api/
              USER: admin
              PRIVATE_FILE: \(sim.privateKeyPath)
              PATH: data/
            """)
        let recover = try Run.mt(["--config", config, "recover", "lab"])
        #expect(recover.code == 0, "\(recover.stderr)\n\(recover.stdout)")
        let r = try Run.mt(["--config", config, "stats", "summary", "lab", "--recovered", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let ours = try JSONParser.parse(Array(r.stdout.utf8)).arrayValues ?? []
        #expect(ours.count == scales.count)

        let csvs = try FileSystem.list(dir.file("data/recovered_data")).filter { $0.hasSuffix(".csv") }.map { dir.file("data/recovered_data/" + $0) }
        let script = try dir.write("pandas_all.py", """
            import json, os, re, sys
            import pandas as pd
            out = []
            for f in sorted(sys.argv[1:]):
                scale = re.sub(r"_recovered_.*$", "", os.path.basename(f))
                df = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
                names = ["participant"] if scale == "ExpectancyBias" else ["participantRSA", "participantDAO", "participantId", "participant"]
                p = next(c for c in names if c in df.columns)
                c = df.columns
                rest = [] if "session" not in c else (["session", "tag"] + (["sessionId"] if "sessionId" in c else []) if "tag" in c
                        else (["session", "trial_index"] if "trial_index" in c else ["session"]))
                miss = df.isnull().sum()
                out.append({"scale": scale, "entries": len(df), "participants": int(df[p].nunique()),
                            "duplicates": len(df) - len(df.drop_duplicates(subset=[p] + rest)),
                            "missing": {k: int(miss[k]) for k in c},
                            "sessions": {k: int(v) for k, v in df["session"].value_counts().items()} if "session" in c else {}})
            print(json.dumps(out))
            """)
        let py = try Run.program("/usr/bin/env", ["python3", script] + csvs)
        #expect(py.code == 0, "\(py.stderr)")
        let theirs = try JSONParser.parse(Array(py.stdout.utf8)).arrayValues ?? []
        #expect(theirs.count == ours.count)
        func dict(_ v: JSONValue?) -> [String: Int64?] {
            Dictionary(uniqueKeysWithValues: (v?.objectFields ?? []).map { ($0.0, $0.1.int64Value) })
        }
        for t in theirs {
            guard let o = ours.first(where: { $0["scale"] == t["scale"] }) else {
                Issue.record("mt stats has no \(t["scale"]!)")
                continue
            }
            let scale = t["scale"]?.stringValue ?? "?"
            for key in ["entries", "participants", "duplicates"] { #expect(o[key] == t[key], "\(scale) \(key)") }
            #expect(dict(o["missing"]) == dict(t["missing"]), "\(scale) missing")
            #expect(dict(o["sessions"]) == dict(t["sessions"]), "\(scale) sessions")
        }
    }
}
