import Foundation
import MTCore
import MTTestSupport
import Testing

/// Hand-written files in the shapes the original tool left in its `active_data` (2015), with what a careful
/// analyst counts in each by hand.
enum OriginalFixtures {
    /// Comma file, one date column split by its own comma, the old participant column, a `None`, a repeated
    /// answer (participant 19, PRE) and two rows beyond mending (line 7: a cell too many even after mending;
    /// line 9: as wide as the header only because a cell was lost, so mending makes it short).
    /// By hand: 6 entries; participants 17 1 19 20 22 = 5 (21 is only in a left-out row); PRE 5, SESSION1 1;
    /// 1 duplicate; expression missing once; dates 2015-08-25T13:54:35Z … 2015-09-03T14:07:06Z.
    static let qol = """
        children,date,expression,id,participantDAO,session,work
        5,Tue, 25 Aug 2015 08:54:35 -0500,5,1,17,PRE,5
        5,Tue, 25 Aug 2015 11:50:37 -0500,5,2,1,PRE,5
        2,Wed, 26 Aug 2015 12:22:12 -0500,2,3,19,PRE,555
        2,Thu, 27 Aug 2015 14:23:44 -0500,2,4,19,PRE,2
        3,Fri, 28 Aug 2015 09:00:00 -0500,None,5,20,PRE,3
        4,Mon, 31 Aug 2015 13:47:07 -0500,4,6,21,PRE,4,9
        2,Thu, 03 Sep 2015 09:07:06 -0500,2,7,22,SESSION1,2
        2,Tue, 01 Sep 2015 10:00:00 -0500,2,8,PRE,2

        """

    /// Tab file: dates intact, commas inside cells, `None` four times, `[]` once, a Python list of text, one
    /// with an escape (kept as found), and a short row (line 5).
    /// By hand: 4 entries; participants 22 24 25 34 = 4; PRE 3, SESSION1 1; participateReason missing 3,
    /// income 1, race 0; dates 2015-08-27T17:48:16Z … 2015-09-18T15:47:10Z.
    static let demographic = [
        "birthYear\tdate\tid\tincome\tparticipantDAO\tparticipateReason\trace\tsession",
        "1900\tThu, 27 Aug 2015 12:48:16 -0500\t6\tLess than $5,000\t22\tNone\t[u'East Asian', u\"Pacific Islander's\"]\tPRE",
        "1988\tMon, 07 Sep 2015 09:01:17 -0500\t9\t$25,000 - $49,999\t24\tNone\t[]\tPRE",
        "1901\tWed, 09 Sep 2015 09:11:38 -0500\t10\tLess than $5,000\t25\tcuriosity\tÅland, \"Mariehamn\"\tPRE",
        "1901\tWed, 09 Sep 2015 09:11:38 -0500\t10\t25",
        "1975\tFri, 18 Sep 2015 10:47:10 -0500\t14\tNone\t34\tNone\t[u'caf\\xe9']\tSESSION1",
    ].joined(separator: "\n") + "\n"

    /// Comma file with two date columns (two splits per row, one where the second date is None), a date cell
    /// repeated (line 4) and an unquoted comma in a text cell (line 5): both beyond mending.
    /// By hand: 3 entries; participants 17 19 21; PRE 2, SESSION1 1; dateCompleted missing once;
    /// dates 2015-08-25T13:54:35Z … 2015-08-31T18:47:07Z.
    static let taskLog = """
        date,dateCompleted,id,participantDAO,session,taskName
        Tue, 25 Aug 2015 08:54:35 -0500,Tue, 25 Aug 2015 09:00:00 -0500,1,17,PRE,Credibility
        Wed, 26 Aug 2015 12:22:12 -0500,None,2,19,PRE,DASS21
        Thu, 27 Aug 2015 14:23:44 -0500,Thu, 27 Aug 2015 14:23:44 -0500,Thu, 27 Aug 2015 14:30:00 -0500,3,20,PRE,QOL
        Fri, 28 Aug 2015 10:00:00 -0500,Fri, 28 Aug 2015 10:30:00 -0500,4,20,SESSION1,Reasons, not listed
        Mon, 31 Aug 2015 13:47:07 -0500,Mon, 31 Aug 2015 13:50:00 -0500,5,21,SESSION1,QOL

        """

    /// mt's own RFC 4180 file: quoted dates, `None` as an answer, a short row. Read exactly as before.
    static let mtOwn = "date,id,note,participantId,session\r\n"
        + "\"Tue, 25 Aug 2015 08:54:35 -0500\",1,None,7,PRE\r\n"
        + "\"Wed, 26 Aug 2015 08:54:35 -0500\",2,[],8\r\n"
}

@Suite struct OriginalCSVReaderTests {
    func rows(_ path: String) throws -> (OriginalCSVReader, [[String]]) {
        var r = try OriginalCSVReader(path: path)
        defer { r.close() }
        var out: [[String]] = []
        var fields: [String] = []
        while try r.next(into: &fields) { out.append(fields) }
        return (r, out)
    }

    @Test func commaFileWithSplitDatesIsMended() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (r, rows) = try rows(try dir.write("QOL_29_10_2015.csv", OriginalFixtures.qol))
        #expect(r.shape == .originalComma)
        #expect(r.header.count == 7)
        #expect(rows.count == 6)
        #expect(rows.allSatisfy { $0.count == 7 })
        #expect(rows[0] == ["5", "Tue, 25 Aug 2015 08:54:35 -0500", "5", "1", "17", "PRE", "5"])
        #expect(rows[4][2] == "")
        #expect(r.mended == 6) // the left-out row does not line up even mended, so it is not counted as mended
        #expect(r.leftOut == 2 && r.leftOutLines == [7, 9])
        #expect(r.noneCells == 1)
    }

    @Test func tabFileIsSniffedFromItsHeader() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (r, rows) = try rows(try dir.write("Demographic_29_10_2015.csv", OriginalFixtures.demographic))
        #expect(r.shape == .originalTab)
        #expect(r.header == ["birthYear", "date", "id", "income", "participantDAO", "participateReason", "race", "session"])
        #expect(rows.count == 4)
        #expect(rows[0][3] == "Less than $5,000" && rows[0][5] == "")
        #expect(rows[1][6] == "[]")
        #expect(rows[0][6] == #"["East Asian","Pacific Islander's"]"#)
        #expect(r.pythonLists == 1)
        #expect(rows[3][6] == #"[u'caf\xe9']"#) // an escape is not decoded: kept as found
        #expect(rows[2][6] == "Åland, \"Mariehamn\"")
        #expect(r.leftOutLines == [5] && r.noneCells == 4 && r.mended == 0)
    }

    @Test func severalDateColumnsAndRowsBeyondMending() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (r, rows) = try rows(try dir.write("TaskLog_29_10_2015.csv", OriginalFixtures.taskLog))
        #expect(r.shape == .originalComma)
        #expect(rows.map { $0[2] } == ["1", "2", "5"])
        #expect(rows[0][1] == "Tue, 25 Aug 2015 09:00:00 -0500")
        #expect(rows[1][1] == "")
        #expect(r.leftOut == 2 && r.leftOutLines == [4, 5])
    }

    @Test func mtsOwnFileIsReadAsBefore() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("Notes_Aug_25_2015.csv", OriginalFixtures.mtOwn)
        let (r, rows) = try rows(path)
        #expect(r.shape == .rfc4180 && r.notes.isEmpty)
        var plain = try CSVReader(path: path)
        defer { plain.close() }
        var expected: [[String]] = []
        _ = try plain.next()
        while let row = try plain.next() { expected.append(row) }
        #expect(rows == expected)
        #expect(rows[0][2] == "None" && rows[1].count == 4)
    }

    @Test func aFileWithoutWideRowsIsNotTakenForTheOriginals() throws {
        // A weekday and a date's tail in two cells of a row exactly as wide as its header: mt's shape.
        let dir = try TempDir()
        defer { dir.remove() }
        let (r, rows) = try rows(try dir.write("X_Aug_25_2015.csv", "a,b,c\r\nTue, 25 Aug 2015 08:54:35 -0500,None\r\n"))
        #expect(r.shape == .rfc4180)
        #expect(rows == [["Tue", " 25 Aug 2015 08:54:35 -0500", "None"]])
    }

    @Test func scaleOfTheOriginalsFileNames() {
        #expect(ScaleFiles.scale(ofFile: "QOL_29_10_2015.csv") == "QOL")
        #expect(ScaleFiles.scale(ofFile: "DASS21_DS_29_10_2015.csv") == "DASS21_DS")
        #expect(ScaleFiles.scale(ofFile: "MentalHealthHxTx_29_10_2015.csv") == "MentalHealthHxTx")
        #expect(ShelveArchive.parse("QOL_Aug_25_2015.raw.db")?.scale == "QOL")
        #expect(ShelveArchive.parse("DASS21_DS_Sep_03_2015.raw.db")?.scale == "DASS21_DS")
        #expect(ShelveArchive.parse("QOL_Aug_25_2015.json") == nil)
        #expect(ShelveArchive.parse("QOL_Foo_25_2015.raw.db") == nil)
    }
}

/// `mt stats` on those files, as the built binary.
@Suite struct OriginalCSVCommandTests {
    func write(_ dir: TempDir) throws -> [String] {
        [try dir.write("in/QOL_29_10_2015.csv", OriginalFixtures.qol),
         try dir.write("in/Demographic_29_10_2015.csv", OriginalFixtures.demographic),
         try dir.write("in/TaskLog_29_10_2015.csv", OriginalFixtures.taskLog)]
    }

    func summary(_ files: [String]) throws -> ([String: JSONValue], String) {
        let r = try Run.mt(["stats", "summary", "--json"] + files)
        #expect(r.code == 0, "\(r.stderr)")
        let all = try JSONParser.parse(Array(r.stdout.utf8)).arrayValues ?? []
        return (Dictionary(uniqueKeysWithValues: all.map { ($0["scale"]!.stringValue!, $0) }), r.stderr)
    }

    func sessions(_ v: JSONValue?) -> [String: Int64?] {
        Dictionary(uniqueKeysWithValues: (v?["sessions"]?.objectFields ?? []).map { ($0.0, $0.1.int64Value) })
    }

    @Test func summaryCountsWhatAnAnalystCountsByHand() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let files = try write(dir)
        let (s, stderr) = try summary(files)
        let qol = s["QOL"], demo = s["Demographic"], task = s["TaskLog"]
        #expect(qol?["entries"] == .number("6"))
        #expect(qol?["participants"] == .number("5"))
        #expect(qol?["duplicates"] == .number("1"))
        #expect(sessions(qol) == ["PRE": 5, "SESSION1": 1])
        #expect(qol?["firstDate"] == .string("2015-08-25T13:54:35Z"))
        #expect(qol?["lastDate"] == .string("2015-09-03T14:07:06Z"))
        #expect(qol?["missing"]?["expression"] == .number("1"))

        #expect(demo?["entries"] == .number("4"))
        #expect(demo?["participants"] == .number("4"))
        #expect(sessions(demo) == ["PRE": 3, "SESSION1": 1])
        #expect(demo?["missing"]?["participateReason"] == .number("3"))
        #expect(demo?["missing"]?["income"] == .number("1"))
        #expect(demo?["missing"]?["race"] == .number("0"))
        #expect(demo?["firstDate"] == .string("2015-08-27T17:48:16Z"))
        #expect(demo?["lastDate"] == .string("2015-09-18T15:47:10Z"))

        #expect(task?["entries"] == .number("3"))
        #expect(task?["participants"] == .number("3"))
        #expect(sessions(task) == ["PRE": 2, "SESSION1": 1])
        #expect(task?["missing"]?["dateCompleted"] == .number("1"))
        #expect(task?["firstDate"] == .string("2015-08-25T13:54:35Z"))
        #expect(task?["lastDate"] == .string("2015-08-31T18:47:07Z"))

        // Said once per file, with the lines left out.
        #expect(stderr.components(separatedBy: "QOL_29_10_2015.csv: 2 row(s) beyond mending left out of every count (lines 7, 9)").count == 2)
        #expect(stderr.contains("TaskLog_29_10_2015.csv: 2 row(s) beyond mending left out of every count (lines 4, 5)"))
        #expect(stderr.contains("Demographic_29_10_2015.csv: 4 cell(s) hold Python's None, read as empty"))
        #expect(stderr.contains("Demographic_29_10_2015.csv: written by the original tool (tab-separated)"))
        #expect(!stderr.contains("rows longer than the header") && !stderr.contains("rows shorter than the header"))
    }

    @Test func mtsOwnFilesAreCountedAsBefore() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (s, stderr) = try summary([try dir.write("Notes_Aug_25_2015.csv", OriginalFixtures.mtOwn)])
        #expect(s["Notes"]?["entries"] == .number("2"))
        #expect(s["Notes"]?["missing"]?["note"] == .number("0"))
        #expect(s["Notes"]?["missing"]?["session"] == .number("1"))
        #expect(stderr.contains("rows shorter than the header"))
        #expect(!stderr.contains("original tool"))
    }

    @Test func mendWritesCleanCopiesAndReports() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let files = try write(dir)
        let before = try files.map { try FileSystem.read($0) }
        let out = dir.file("mended")
        let r = try Run.mt(["stats", "mend"] + files + ["-o", out])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try files.map { try FileSystem.read($0) } == before)

        let qol = try FileSystem.readString(out + "/QOL_29_10_2015.csv")
        #expect(qol.hasPrefix("children,date,expression,id,participantDAO,session,work\r\n5,\"Tue, 25 Aug 2015 08:54:35 -0500\",5,1,17,PRE,5\r\n"))
        #expect(qol.contains("3,\"Fri, 28 Aug 2015 09:00:00 -0500\",,5,20,PRE,3\r\n"))
        #expect(!qol.contains(",21,"))
        let demo = try FileSystem.readString(out + "/Demographic_29_10_2015.csv")
        #expect(demo.contains("1988,\"Mon, 07 Sep 2015 09:01:17 -0500\",9,\"$25,000 - $49,999\",24,,[],PRE\r\n"))
        #expect(demo.contains("\"Åland, \"\"Mariehamn\"\"\""))
        #expect(demo.contains(#",22,,"[""East Asian"",""Pacific Islander's""]",PRE\#r\#n"#))
        for f in ["QOL_29_10_2015", "Demographic_29_10_2015", "TaskLog_29_10_2015"] {
            var st = stat()
            #expect(stat(out + "/\(f).csv", &st) == 0 && st.st_mode & 0o777 == 0o600)
            #expect(stat(out + "/\(f).mend.txt", &st) == 0 && st.st_mode & 0o777 == 0o600)
        }
        let report = try FileSystem.readString(out + "/TaskLog_29_10_2015.mend.txt")
        #expect(report.contains("separator:  comma"))
        #expect(report.contains("rows mended:  3"))
        #expect(report.contains("rows left out (beyond mending): 2\n  at lines: 4, 5\n"))
        #expect(try FileSystem.readString(out + "/Demographic_29_10_2015.mend.txt").contains("separator:  tab"))

        // The copy, read strictly, counts as the tolerant reading of the original.
        let again = try Run.mt(["stats", "summary", "--json", out + "/QOL_29_10_2015.csv"])
        let first = try JSONParser.parse(Array(again.stdout.utf8)).arrayValues?.first
        #expect(first?["entries"] == .number("6") && first?["participants"] == .number("5"))
        #expect(!again.stderr.contains("original tool"))

        // Never over an input.
        let onto = try Run.mt(["stats", "mend", files[0], "-o", dir.file("in")])
        #expect(onto.code == 64)
        #expect(onto.stderr.contains("is one of the inputs"))
        #expect(try FileSystem.read(files[0]) == before[0])
        let noDir = try Run.mt(["stats", "mend", files[0]])
        #expect(noDir.code == 64)
    }

    @Test func mendRefusesBeforeWritingAndLeavesNothingHalfWritten() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let a = try dir.write("a/QOL_29_10_2015.csv", OriginalFixtures.qol)
        let b = try dir.write("b/QOL_29_10_2015.csv", OriginalFixtures.qol)
        let out = dir.file("out")
        let twice = try Run.mt(["stats", "mend", a, b, "-o", out])
        #expect(twice.code == 64)
        #expect(twice.stderr.contains("would both be copied to \(out)/QOL_29_10_2015.csv"))
        #expect(!FileSystem.exists(out))

        // Bytes that are not UTF-8 in the second file: exit 65 naming file and line; the first copy is whole,
        // the second was never renamed into place, no temporary file is left.
        var latin1 = Array(OriginalFixtures.qol.utf8)
        let at = OriginalFixtures.qol.utf8.distance(from: OriginalFixtures.qol.utf8.startIndex,
                                                    to: OriginalFixtures.qol.range(of: "SESSION1")!.lowerBound)
        latin1[at] = 0xE9 // in SESSION1 on line 8, a row that is kept
        let bad = dir.file("c/DD_29_10_2015.csv")
        try FileSystem.makeDirectories(dir.file("c"))
        try FileSystem.writeAtomically(latin1, to: bad)
        let r = try Run.mt(["stats", "mend", a, bad, "-o", out])
        #expect(r.code == 65)
        #expect(r.stderr.contains("\(bad): line 8: text is not valid UTF-8"))
        #expect(try FileSystem.list(out).sorted() == ["QOL_29_10_2015.csv", "QOL_29_10_2015.mend.txt"])

        let file = try dir.write("plain-file", "x")
        #expect(try Run.mt(["stats", "mend", a, "-o", file]).code == 73)
    }

    @Test(.enabled(if: Tools.pandas, "pandas is not installed (pip install pandas): the comparison with pandas is skipped"))
    func mendedCopiesReadInPandasAsMtCountsThem() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let files = try write(dir)
        let out = dir.file("mended")
        let m = try Run.mt(["stats", "mend", "-q"] + files + ["-o", out])
        #expect(m.code == 0, "\(m.stderr)")
        let (ours, _) = try summary(files)
        // Any warning pandas gives (a bad line, mixed types, a date it cannot read) fails the script.
        let script = try dir.write("pandas_mended.py", """
            import json, sys, warnings
            import pandas as pd
            warnings.simplefilter("error")
            out = {}
            for f in sys.argv[1:]:
                df = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""], on_bad_lines="error")
                with open(f, newline="") as h:
                    lines = h.read().split("\\r\\n")
                assert lines[-1] == "" and len(lines) - 2 == len(df), "one line per entry"
                dates = pd.to_datetime(df["date"], format="%a, %d %b %Y %H:%M:%S %z", utc=True)
                out[f.rsplit("/", 1)[1].split("_29_")[0]] = {
                    "entries": len(df),
                    "participants": int(df["participantDAO"].nunique()),
                    "sessions": {k: int(v) for k, v in df["session"].value_counts().items()},
                    "firstDate": dates.min().strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "lastDate": dates.max().strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "missing": {c: int(n) for c, n in df.isnull().sum().items()},
                }
            print(json.dumps(out))
            """)
        let copies = ["QOL", "Demographic", "TaskLog"].map { out + "/\($0)_29_10_2015.csv" }
        let py = try Run.program("/usr/bin/env", ["python3", script] + copies)
        #expect(py.code == 0, "\(py.stderr)")
        #expect(py.stderr.isEmpty, "\(py.stderr)")
        let theirs = try JSONParser.parse(Array(py.stdout.utf8))
        for scale in ["QOL", "Demographic", "TaskLog"] {
            for key in ["entries", "participants", "firstDate", "lastDate"] {
                #expect(ours[scale]?[key] == theirs[scale]?[key], "\(scale) \(key)")
            }
            #expect(sessions(ours[scale]) == sessions(theirs[scale]), "\(scale) sessions")
            let a = (ours[scale]?["missing"]?.objectFields ?? []).map { "\($0.0)=\($0.1.int64Value ?? -1)" }.sorted()
            let b = (theirs[scale]?["missing"]?.objectFields ?? []).map { "\($0.0)=\($0.1.int64Value ?? -1)" }.sorted()
            #expect(a == b, "\(scale) missing")
        }
    }

    static let rscript: Bool = (try? Run.program("/usr/bin/env", ["Rscript", "--version"]).code) == 0

    @Test(.enabled(if: OriginalCSVCommandTests.rscript, "Rscript is not installed (apt-get install r-base-core): the R check is skipped"))
    func mendedCopiesReadInRWithoutWarning() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let files = try write(dir)
        let out = dir.file("mended")
        #expect(try Run.mt(["stats", "mend", "-q"] + files + ["-o", out]).code == 0)
        // Any warning (an incomplete line, an embedded nul, a bad encoding) stops R with an error.
        let script = try dir.write("read.R", """
            args <- commandArgs(trailingOnly = TRUE)
            withCallingHandlers({
              for (f in args) {
                d <- read.csv(f, colClasses = "character", na.strings = "", encoding = "UTF-8", check.names = FALSE)
                cat(basename(f), nrow(d), ncol(d), length(unique(d$participantDAO)), "\\n")
              }
            }, warning = function(w) stop(conditionMessage(w)))
            """)
        let copies = ["QOL", "Demographic", "TaskLog"].map { out + "/\($0)_29_10_2015.csv" }
        let r = try Run.program("/usr/bin/env", ["Rscript", script] + copies)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("QOL_29_10_2015.csv 6 7 5"))
        #expect(r.stdout.contains("Demographic_29_10_2015.csv 4 8 4"))
        #expect(r.stdout.contains("TaskLog_29_10_2015.csv 3 6 3"))
    }
}
