import Foundation
import MTCore
import MTTestSupport
import Testing

/// `mt scales codebook` and the study opening of `mt stats report`, on a generated study.
@Suite struct CodebookAndStudyReportTests {
    /// Every column of every scale is listed, and the data figures agree with pandas.
    @Test(.enabled(if: Tools.pandas, "pandas is not installed (pip install pandas): the comparison with pandas is skipped"))
    func codebookListsEveryColumnAndAgreesWithPandas() throws {
        let study = try GeneratedStudy(participants: 15)
        defer { study.dir.remove() }
        let csvs = try FileSystem.list(study.csvDir).filter { $0.hasSuffix(".csv") }.map { study.csvDir + "/" + $0 }
        let out = study.dir.file("codebook.csv")
        let r = try Run.mt(["scales", "codebook"] + csvs + ["--format", "csv", "-o", out])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(FileSystem.mode(of: out) == 0o600)
        let script = try study.dir.write("pandas_codebook.py", #"""
            import csv, json, os, re, sys
            import pandas as pd
            ours = list(csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")))
            bad = []
            for f in sys.argv[2:]:
                scale = re.sub(r"_recovered_.*$", "", os.path.basename(f))
                df = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
                for c in df.columns:
                    row = [o for o in ours if o["scale"] == scale and o["column"] == c]
                    if len(row) != 1:
                        bad.append(f"{scale}.{c}: {len(row)} entries"); continue
                    o = row[0]
                    if int(o["missing"]) != int(df[c].isna().sum()): bad.append(f"{scale}.{c} missing {o['missing']}")
                    if int(o["distinct"]) != int(df[c].nunique()): bad.append(f"{scale}.{c} distinct {o['distinct']}")
                    n = pd.to_numeric(df[c], errors="coerce")
                    if o["type"] == "integer":
                        want = str(int(n.min())) if n.min() == n.max() else f"{int(n.min())}–{int(n.max())}"
                        if o["range"] != want: bad.append(f"{scale}.{c} range {o['range']} != {want}")
            print(json.dumps({"bad": bad, "entries": len(ours)}))
            """#)
        let py = try Run.program("/usr/bin/env", ["python3", script, out] + csvs)
        #expect(py.code == 0, "\(py.stderr)")
        let v = try JSONParser.parse(Array(py.stdout.utf8))
        #expect(v["bad"]?.arrayValues == [], "\(py.stdout)")
        // The catalogue side: DASS21_AS items with their valid values and score, metadata as metadata.
        let text = try FileSystem.readString(out)
        #expect(text.contains("DASS21_AS,worry,item,0–3,555,\"eligibilityScore, SUM\","), "\(text.prefix(3000))")
        #expect(text.contains("DASS21_AS,session,metadata,"))
        #expect(text.contains("ParticipantExportDAO,cbmCondition,arm (participant table),"))
        #expect(text.contains("ParticipantExportDAO,over18,exclusion flag (participant table),"))
        #expect(text.contains("TaskLog,session_name,session (TaskLog),"))
        let md = try Run.mt(["scales", "codebook"] + csvs)
        // One-byte booleans reach the CSVs as 0/1 (issue 25), so the codebook sees whole numbers, not a byte.
        #expect(md.code == 0 && md.stdout.contains("## ParticipantExportDAO") && !md.stdout.contains("\\001"))
        #expect(text.contains(",integer,0–1,2,0,"), "\(text)")
        #expect(text.contains("TaskLog,task_name,task (TaskLog),,,,participantdao_id + session_name + task_name,yes,"), "\(text)")
        #expect(text.contains("ParticipantExportDAO,id,participant id (participant table),,,,id,yes,"))
        let html = try Run.mt(["scales", "codebook"] + csvs + ["--format", "html"])
        #expect(html.code == 0 && html.stdout.hasPrefix("<!DOCTYPE html>") && html.stdout.contains("<h2>TaskLog</h2>"))
        // A server's active_data gives the same entries.
        try FileSystem.makeDirectories(study.dir.file("data/active_data"))
        // Under the active names export gives them (a recovered name is not an active CSV's name).
        for f in csvs {
            let name = (f as NSString).lastPathComponent.replacingOccurrences(of: "_recovered_", with: "_")
            try FileSystem.writeAtomically(try FileSystem.read(f), to: study.dir.file("data/active_data/") + name)
        }
        let server = try Run.mt(["--config", study.config, "scales", "codebook", "lab", "--format", "csv"])
        #expect(server.code == 0, "\(server.stderr)")
        #expect(Set(server.stdout.components(separatedBy: "\r\n")) == Set(text.components(separatedBy: "\r\n")))
        #expect(try Run.mt(["scales", "show", "OA", "--format", "csv"]).code == 64)
    }

    @Test func reportOpensOnTheFlowAndTheOverview() throws {
        let study = try GeneratedStudy(participants: 12)
        defer { study.dir.remove() }
        let html = study.dir.file("report.html")
        let r = try Run.mt(["--config", study.config, "stats", "report", "lab", "--recovered", "--html", html])
        #expect(r.code == 0, "\(r.stderr)")
        let page = try FileSystem.readString(html)
        let flow = try #require(page.range(of: "<svg class=\"flow\""))
        let overview = try #require(page.range(of: "<table class=\"heat overview\""))
        let firstScale = try #require(page.range(of: "<section id=\"Affect\""))
        #expect(flow.lowerBound < overview.lowerBound && overview.lowerBound < firstScale.lowerBound)
        #expect(page.contains("<a href=\"#DASS21_AS\">DASS21_AS</a>"))
        #expect(page.contains("arm POSITIVE/ANXIETY") && page.contains("arm FIFTY_FIFTY/ANXIETY"))
        // Self-contained: the only links are to the page's own sections.
        for fetch in ["src=", "<link", "@import", "url(", "<script", "href=\"http"] { #expect(!page.contains(fetch), "\(fetch)") }
    }

    @Test(.enabled(if: Tools.chromium != nil, "no chromium binary on PATH: apt-get install chromium to run this test"))
    func flowDiagramRendersAtTheTopInHeadlessChromium() throws {
        let study = try GeneratedStudy(participants: 12)
        defer { study.dir.remove() }
        let html = study.dir.file("report.html")
        #expect(try Run.mt(["--config", study.config, "stats", "report", "lab", "--recovered", "--html", html]).code == 0)
        let shot = study.dir.file("shot.png")
        let r = try Run.program(Tools.chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                  "--user-data-dir=\(study.dir.file("profile"))", "--window-size=1400,900",
                                                  "--screenshot=\(shot)", "file://\(html)"])
        #expect(FileSystem.exists(shot), "chromium wrote no screenshot: \(r.stderr)")
        let script = try study.dir.write("pngcheck.py", PNGCheck.script)
        let c = try Run.program("/usr/bin/env", ["python3", script, shot])
        #expect(c.code == 0, "\(c.stderr)")
        let v = try JSONParser.parse(Array(c.stdout.utf8))
        // The first screen shows the flow's boxes (their fill and outline) and, beside them, the overview with
        // its flags.
        #expect((v["box"]?.int64Value ?? 0) > 500)
        #expect((v["blue"]?.int64Value ?? 0) > 50)
        #expect((v["flag"]?.int64Value ?? 0) > 20)
    }
}
