import Foundation
import MTCore

/// `mt stats`: data quality, scores and wide form for analysts.
public struct StatsCommand: Command {
    public static let name = "stats"
    public static let summary = "data quality, scores and wide form for analysts"
    public static let usage = """
        mt stats [summary] [SERVER [SCALE] | FILE.csv...] [--recovered] [--csv]
        mt stats score|wide [SERVER SCALE | FILE.csv...] [--scores] [-o OUT]
        mt stats dedupe [SERVER SCALE | FILE.csv...] [--keep first|last] [-o OUT]
        mt stats report [SERVER [SCALE] | FILE.csv...] --html OUT
        mt stats mend FILE... -o DIR
        mt stats flow [SERVER | FILE.csv...] [--exclude FILE] [--json]
        mt stats dataset [SERVER | FILE.csv...] [--shape long|wide] [--items] [--include-excluded]
                         --format csv|sav|dta|sqlite -o OUT
        """
    public static let help = """
        Input is a server's CSV files (active_data, or recovered_data with --recovered), all scales or one, or
        CSV paths (an argument ending in .csv, or an existing file, is a path). Files of one scale are read as
        one table, columns matched by name (the original's master file). Files are grouped by the scale in
        their name, <Scale>_<DATE>.csv; --scale NAME puts them all in one scale. With no input, the only
        server of the configuration is used.

        VERBS
          summary (default)  per scale: entries, participants, duplicates, missing and out-of-range cells per
                             column, first and last date, entries per session. Streams: memory does not grow
                             with the file, only with the number of distinct answers.
          score              the catalogue's scores, one row per kept answer: participant, the identity's
                             columns (session, tag, sessionId as the table has them), the scores. Scores read
                             the scale's listed items only and skip the scale's no-answer codes (555, -1, or
                             every negative number: see mt scales show SCALE); no answered item, or a zero
                             denominator, leaves the cell empty with a warning.
          wide               one row per participant; columns <Scale>_<item>_<session>, <Scale>_<item>_<session>_<tag>
                             for tagged answers (--scores: the scores).
          dedupe             the rows without repeated answers (identity rule below), in reading order.
          report             one self-contained HTML page (inline SVG, no network): entries over time,
                             completion by session, missing and out-of-range heat table. With the whole
                             study as input it opens on the CONSORT flow and an overview of every scale.
          flow               the CONSORT flow of the study, per arm: screened, eligible, enrolled, excluded
                             (with reasons), included, started, completed each session, and how many were lost
                             at each step (see FLOW below).
          dataset            the study as one table (see DATASET below), in CSV with its Frictionless
                             datapackage.json, SPSS .sav, Stata .dta or a SQLite study database.
          mend               clean RFC 4180 copies of the original tool's CSVs in DIR (same names, UTF-8,
                             \\r\\n, mode 0600, atomic) and DIR/<name>.mend.txt: separator found, rows mended,
                             rows left out with their lines. The inputs are never changed.

        THE ORIGINAL TOOL'S CSV FILES
          Every verb reads them tolerantly, but only a file that proves to be in their shape: tab-separated
          (told by the header), or comma-separated with RFC 2822 dates split by their own unquoted comma in
          its first 1000 rows. There a date is joined back only when that makes the row exactly as wide as
          the header; Python's None is an empty cell ([] stays: an empty list, as mt writes one) and a list
          such as [u'GAD', u'Panic'] becomes JSON, ["GAD","Panic"]; rows that still do not line up are never
          guessed at: they are left out of every count, and their lines are listed once per file. Other
          files are read strictly as RFC 4180.

        DEFINITIONS (they match pandas.read_csv(f, dtype=str, keep_default_na=False, na_values=[""]))
          missing      an empty cell (a short row's absent cells too); "NA", "null" are text, not missing.
          out of range a non-empty cell outside the catalogue's valid values; codes like 555 and -1 are valid.
          duplicates   entries minus distinct identities: participant + session + tag (+ sessionId when
                       present); else participant + session + trial_index; else participant + session; with no
                       session, participant alone; TaskLog (the study design's): participant + session + task.
                       Dedupe keeps the first entry per identity (--keep last: the last), except ELIGIBLE
                       screenings, where the last one counts. Score and wide keep
                       the same rows (first entry), then leave out rows with an empty participant or session
                       (anonymous screenings), with a warning that counts them.
          participants distinct non-empty values of the participant column: participantRSA, participantDAO,
                       participantId, participant, else the first column whose name contains "participant"
                       (a warning names it). With none, participants and duplicates are unknown (null in
                       --json, - in the table), never 0.
        """

    public static let options: [OptionSpec] = [
        .flag("--recovered", "read SERVER's recovered_data instead of active_data"),
        .value("--scale", "NAME", "treat every FILE.csv as scale NAME"),
        .value("--study", "NAME", """
            the study whose scale definitions apply (r34, r01, kaiser, templeton); default: the
            server's STUDY key, else the catalogue's shared base
            """),
        .flag("--csv", "as CSV (one row per scale and column)", verbs: ["summary"]),
        .choice("--keep", StatsTransforms.Keep.allCases.map(\.rawValue), "which entry of an identity stays (default first)",
                verbs: ["dedupe"]),
        .flag("--scores", "scores instead of item answers", verbs: ["wide"]),
        .value("--output", short: "-o", "OUT", """
            write to OUT (atomically, mode 0600) instead of stdout; for
            mend, the folder for the copies (made if missing); an output that
            would replace an input is refused
            """, verbs: ["score", "wide", "dedupe", "mend", "dataset"]),
        .choice("--shape", Dataset.Shape.allCases.map(\.rawValue), "long (one row per participant and session, the default) or wide (one per participant)",
                verbs: ["dataset"]),
        .flag("--items", "every item's answer beside the scores", verbs: ["dataset"]),
        .flag("--include-excluded", "keep excluded participants, with the reason in an excluded column", verbs: ["dataset"]),
        .choice("--format", DatasetFormat.allCases.map(\.rawValue), "the dataset's file format (required)", verbs: ["dataset"]),
        .value("--html", "OUT", "the HTML file to write (atomically, mode 0600)", verbs: ["report"]),
        .value("--exclude", "FILE", "participant ids to exclude (test accounts), added to EXCLUDE_IDS",
               verbs: ["flow", "report", "dataset"]),
        .global("--json", """
            flow: an array of {stage, session, arm, participants, lost}, stage by stage, the
            whole study (arm null) before each arm; session is null for screening stages.
            summary: an array with, per scale, exactly scale, entries, participants,
            duplicates, missing {column: n}, outOfRange {column: n}, sessions {session: n},
            firstDate, lastDate (ISO 8601, UTC)
            """),
    ]

    public static let notes = """
        FLOW (the lab's R scripts, with the catalogue's `designs:` block naming tables and columns)
          screened     anonymous screenings (empty session, or no participant) once per sessionId, the first
                       counting, plus participants with ELIGIBLE entries of the screening scale, the last counting
          eligible     screenings with factor × sum of the items > threshold (DASS21_AS: 2 × sum > 10); an item
                       empty or a no-answer code (-1, -2) leaves no score, so not eligible
          enrolled     rows of the participant table (ParticipantExportDAO); the arm is its condition columns'
                       values joined by "/" (cbmCondition/prime)
          excluded     one reason each, the first that applies: the exclusion list (EXCLUDE_IDS, --exclude:
                       ids and ranges, "spam: 20-420" names the reason), testAccount, admin, over18 not true;
                       booleans are true when the cell is the byte \\001, true or 1
          started      included participants with a TaskLog row in one of the study's sessions (without a
                       TaskLog table: an entry of any scale)
          completed S  such a record in a later session; for the last session, in it
          lost         the stage above minus this one (null where there is no stage above to compare)
        A participant id holding RSA ciphertext is a warning, never a participant.

        DATASET
          Columns: participant, arm (the design's condition columns), excluded (with --include-excluded), then
          long: session and date (the session's first entry, ISO 8601 UTC) and <Scale>_<score> for every scored
          scale of the catalogue (with --items, <Scale>_<item> too); wide: per session date_<session> and
          <Scale>_<score or item>_<session>. Each scale keeps what dedupe keeps (its identity rule); answers
          whose participant or session cannot be joined (no participant column, ciphertext left undecrypted, a
          session outside the study's order, a participant not in the participant table) are left out, each
          kind named in a warning. Exclusions (EXCLUDE_IDS, --exclude, testAccount, admin, under 18) apply as in
          flow. Formats: csv (RFC 4180) and OUT's datapackage.json beside it (a Frictionless Table Schema: types,
          labels, no-answer codes as missingValues, coded answers as enum constraints with their labels);
          sav (SPSS, through ReadStat: variable and value labels, no-answer codes user-missing, UTF-8);
          dta (Stata 14+, through ReadStat: labels, no-answer codes as extended missing .a, .b, …); sqlite (one
          typed table per scale with each row's archive file and SHA-256, participants, sessions, the dataset as
          the view dataset, PRAGMA user_version = 1; written under a temporary name and renamed).

        Quirks in the data (booleans exported as the byte \\001, ragged rows, a renamed participant column,
        ciphertext left in an *RSA column, dates that do not parse) are printed as warnings on stderr.
        """

    public static let exitStatus = """
        EXIT STATUS
          0   done (warnings may have been printed)
          64  usage error
          65  a file is not valid CSV or UTF-8, or a table has no participant column (score, wide, dedupe), or
              an --exclude line is neither an id nor a range (flow)
          66  no such file, folder or scale, or no participant table (flow)
          73  the output file or mend's folder cannot be created
          74  the output could not be written (disk full, /dev/full)
          77  the config file holds a password and is readable by others
          78  configuration error (an EXCLUDE_IDS item that is neither an id nor a range too)
        """

    static let verbs = ["summary", "score", "wide", "dedupe", "report", "flow", "mend", "dataset"]

    struct Options {
        var verb = "summary"
        var recovered = false
        var csv = false
        var keep = StatsTransforms.Keep.first
        var scores = false
        var output: String?
        var html: String?
        var scale: String?
        var study: Study?
        var inputs: [String] = []
        var exclude: String?
        var dataset = Dataset.Options()
        var format: DatasetFormat?
    }

    static func parse(_ arguments: [String]) throws -> Options {
        var p = ArgumentParser(arguments, for: Self.self)
        var o = Options()
        o.recovered = p.flag("--recovered")
        o.csv = p.flag("--csv")
        o.scores = p.flag("--scores")
        if let k = try p.choice("--keep") { o.keep = StatsTransforms.Keep(rawValue: k)! }
        o.output = try p.value("--output")
        o.html = try p.value("--html")
        o.scale = try p.value("--scale")
        o.study = try p.value("--study").map(Study.init)
        o.exclude = try p.value("--exclude")
        if let s = try p.choice("--shape") { o.dataset.shape = Dataset.Shape(rawValue: s)! }
        o.dataset.items = p.flag("--items")
        o.dataset.includeExcluded = p.flag("--include-excluded")
        o.format = try p.choice("--format").map { DatasetFormat(rawValue: $0)! }
        var args = try p.positionals()
        if let first = args.first, verbs.contains(first) { o.verb = first; args.removeFirst() }
        o.inputs = args
        if o.scale != nil && o.verb == "mend" {
            throw MTError.usage("mend: --scale is not for mend (copies keep their names)", usage: usage)
        }
        // The declaration says which verbs each option goes with.
        for option in options where !option.verbs.isEmpty && p.given.contains(option.long) && !option.verbs.contains(o.verb) {
            throw MTError.usage("\(o.verb): \(option.short ?? option.long) is for \(option.verbs.joined(separator: ", ")) only",
                                usage: usage)
        }
        if o.verb == "report" && o.html == nil {
            throw MTError.usage("report needs --html OUT (the file to write)", usage: usage)
        }
        if o.verb == "dataset" && (o.format == nil || o.output == nil) {
            throw MTError.usage("dataset needs --format csv|sav|dta|sqlite and -o OUT (the file to write)", usage: usage)
        }
        if o.format == .sqlite && o.dataset.shape == .wide {
            throw MTError.usage("dataset: the study database holds one table per scale and the long form as its view; --shape wide is for csv, sav and dta", usage: usage)
        }
        if o.verb == "mend" && (o.output == nil || o.inputs.isEmpty) {
            throw MTError.usage("mend needs the CSV files and -o DIR (the folder for the copies)", usage: usage)
        }
        return o
    }

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        let o = try parse(arguments)
        if o.verb == "mend" { return try mend(o, context: context) }
        if o.verb == "flow" { return try runFlow(o, context: context) }
        if o.verb == "dataset" { return try runDataset(o, context: context) }
        let (sources, catalogue, title) = try resolveInputs(o, context: context)
        let design = try StudyDesign.load(catalogue: catalogue)
        let warn: ([String]) -> Void = { ws in
            guard context.global.verbosity > .quiet else { return }
            for w in ws { context.stderr.line(Untrusted.line("warning: \(w)")) }
        }
        switch o.verb {
        case "summary", "report":
            let summaries = try sources.map { source in
                // A bar only for a person watching, never under cron.
                let bar = context.stderrIsTerminal && context.global.verbosity > .quiet
                    ? ProgressBar(output: context.stderr, label: source.scale, total: StatsTable.size(of: source.files), unit: "bytes")
                    : nil
                defer { bar?.finish() }
                return try StatsSummarizer.summarize(source, catalogue: catalogue, design: design, detail: o.verb == "report",
                                                     progress: bar.map { b in { b.advance(by: $0) } })
            }
            for s in summaries { warn(s.warnings) }
            if let html = o.html {
                let flow = try reportFlow(o, sources: sources, catalogue: catalogue, context: context)
                let page = StatsReport.html(summaries, title: title, catalogue: catalogue, flow: flow)
                try FileSystem.writeOutput(Array(page.utf8), to: html, mode: 0o600)
                if context.global.verbosity > .quiet { context.stderr.line("wrote \(html) (\(summaries.count) scale\(summaries.count == 1 ? "" : "s"))") }
            } else if context.global.json {
                context.stdout.write(JSONWriter.bytes(.array(summaries.map(\.json)), pretty: true) + [0x0A])
            } else if o.csv {
                context.stdout.write(StatsSummaryText.csv(summaries)) // data for spreadsheets: kept byte for byte, like every CSV
            } else {
                context.stdout.write(Untrusted.message(String(decoding: StatsSummaryText.table(summaries), as: UTF8.self)))
            }
        default:
            guard sources.count == 1 else {
                throw MTError.usage("\(o.verb) works on one scale; the input has \(sources.map(\.scale).joined(separator: ", "))",
                                    usage: usage)
            }
            let source = sources[0]
            let produce: (([UInt8]) throws -> Void) throws -> StatsTransforms.Result = { write in
                switch o.verb {
                case "score": try StatsTransforms.scores(source, catalogue: catalogue, design: design, write: write)
                case "wide": try StatsTransforms.wide(source, catalogue: catalogue, scores: o.scores, design: design, write: write)
                default: try StatsTransforms.dedupe(source, catalogue: catalogue, keep: o.keep, design: design, write: write)
                }
            }
            let result: StatsTransforms.Result
            if let out = o.output {
                var r: StatsTransforms.Result?
                try FileSystem.writeOutput(to: out, mode: 0o600) { fd in
                    r = try produce { try FileSystem.writeAll(fd, $0, path: out) }
                }
                result = r!
            } else {
                result = try produce { context.stdout.write($0) }
            }
            warn(result.warnings)
            if context.global.verbosity > .quiet && o.output != nil {
                context.stderr.line(Untrusted.line("\(source.scale): \(result.rowsIn) entries in, \(result.rowsOut) rows written to \(o.output!)"))
            }
        }
        return .ok
    }

    static func mend(_ o: Options, context: CommandContext) throws -> ExitCode {
        let dir = o.output!
        let plan = try OriginalCSVMend.plan(o.inputs, directory: dir)
        try FileSystem.makeDirectories(dir)
        var reports: [JSONValue] = []
        for p in plan {
            let r = try OriginalCSVMend.mend(p.input, to: p.csv, report: p.report)
            reports.append(r.json)
            if !context.global.json && context.global.verbosity > .quiet {
                context.stderr.line("\(p.input): \(r.rowsWritten) rows → \(p.csv) (\(r.shape.separatorName)-separated, \(r.mended) mended, "
                    + "\(r.leftOut) left out\(r.leftOut > 0 ? " at " + OriginalCSVReader.lines(r.leftOutLines, total: r.leftOut) : ""); report \(p.report))")
            }
        }
        if context.global.json { context.stdout.write(JSONWriter.bytes(.array(reports), pretty: true) + [0x0A]) }
        return .ok
    }

    /// Files or a server's folder, and the catalogue (with the server's override when there is a server).
    static func resolveInputs(_ o: Options, context: CommandContext) throws -> ([ScaleFiles], ScaleCatalogue, String) {
        let isFile: (String) -> Bool = { $0.hasSuffix(".csv") || (FileSystem.exists($0) && !FileSystem.isDirectory($0)) }
        if !o.inputs.isEmpty && o.inputs.contains(where: isFile) {
            let catalogue = try ScaleCatalogue.standard(server: nil, study: o.study, environment: context.environment)
            let title = o.inputs.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
            return (try ScaleFiles.paths(o.inputs, scale: o.scale), catalogue, title)
        }
        guard o.inputs.count <= 2 else {
            throw MTError.usage("expected SERVER [SCALE] or CSV files, got \(o.inputs.joined(separator: " "))", usage: usage)
        }
        let config = try context.loadConfig()
        let server: ServerConfig
        if let name = o.inputs.first {
            server = try config.server(named: name)
        } else {
            guard config.servers.count == 1 else {
                throw MTError.usage("name a server (\(config.servers.map(\.name).joined(separator: ", "))) or CSV files", usage: usage)
            }
            server = config.servers[0]
        }
        let catalogue = try ScaleCatalogue.standard(server: server, study: o.study, environment: context.environment)
        let scale = o.inputs.count > 1 ? o.inputs[1] : o.scale
        let sources = try ScaleFiles.server(DataLayout(server: server), recovered: o.recovered, scale: scale)
        return (sources, catalogue, "\(server.name) (\(o.recovered ? "recovered_data" : "active_data"))")
    }
}
