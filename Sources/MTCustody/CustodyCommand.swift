import Foundation
import MTCore

/// `mt custody`: the chain of custody of one server's data, and how long answers stayed on the server.
public struct CustodyCommand: Command {
    public static let name = "custody"
    public static let summary = "chain of custody: each entry's archive, CSV row and confirmed DELETE; time on the server"
    public static let usage = """
        mt custody SERVER [SCALE] [--threshold DURATION] [--html OUT] [--json]
        """
    public static let help = """
        For every archived entry of SERVER (of SCALE only, when given): its date on the server, the archive that
        holds it and that archive's SHA-256 (from raw_data/SHA256SUMS), its CSV file and line, and when the server
        confirmed its DELETE (200 or 404, from ledger/deletions.tsv). Per scale: how long entries stayed on the
        server, from their date to the confirmed DELETE (p50, p95, p99, max; nearest rank), how many are still on
        the server, and those still there beyond --threshold. Entries of scales the server keeps (not deleteable)
        are stated as such and never counted as overdue.

        Read-only: it reads the archives, SHA256SUMS, the deletion ledger, the CSVs and export's state, and
        contacts no server. A ledger written by an older mt has no confirmation lines: the time each DELETE was
        recorded (just before it was sent) is then read as its deletion time, and the report says so.
        """

    public static let options: [OptionSpec] = [
        .value("--threshold", "DURATION", """
            entries of a deleteable scale still on the server whose date is older than
            DURATION (30m, 2h, 1d; a bare number is seconds) are listed and make the exit 1;
            default 1d
            """),
        .value("--html", "OUT", "also write one HTML page for an ethics board: figures, method and checksums"),
        .global("--json", """
            print {"scales": [...], "entries": [...]}: times in ISO 8601 UTC, deletedAt null
            for an entry still on the server
            """),
    ]

    public static let exitStatus = """
        EXIT STATUS
          0   shown; no entry of a deleteable scale is on the server beyond the threshold
          1   some are (they are listed)
          64  usage error (an unknown SCALE, a bad DURATION)
          65  an archive cannot be read (verify says more)
          66  the data directory does not exist
          73  --html OUT cannot be created, or a folder of the data directory is a symlink
          74  --html OUT cannot be written (disk full)
          78  configuration error
        """

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        var p = ArgumentParser(arguments, for: Self.self)
        var threshold = 86_400.0
        if let text = try p.value("--threshold") {
            guard let d = DurationText.parse(text) else {
                throw MTError.usage("--threshold expects a duration such as 30m, 2h or 1d, got '\(text)'", usage: usage)
            }
            threshold = d
        }
        let html = try p.value("--html")
        let args = try p.positionals(max: 2)
        guard let serverName = args.first, serverName != "." else {
            throw MTError.usage("name one SERVER: custody reports on one data directory", usage: usage)
        }
        let server = try context.loadConfig().server(named: serverName)
        let report = try CustodyReport.read(server: server, scale: args.count > 1 ? args[1] : nil, threshold: threshold)
        if let html {
            try FileSystem.writeAtomically(Array(CustodyPage.html(report).utf8), to: html, mode: 0o644)
        }
        if context.global.json {
            context.stdout.write(JSONWriter.bytes(json(report), pretty: true) + [0x0A])
        } else if context.global.verbosity != .quiet {
            context.stdout.write(text(report))
        }
        return report.overdue > 0 ? .problems : .ok
    }

    static func iso(_ t: Double) -> String { UTCTime.iso8601(Date(timeIntervalSince1970: t)) }

    static func json(_ r: CustodyReport) -> JSONValue {
        func seconds(_ v: Double?) -> JSONValue { v.map { .number(String(format: "%.3f", $0)) } ?? .null }
        let scales: [JSONValue] = r.scales.map { s in
            .object([
                ("scale", .string(s.name)), ("deleteable", s.deleteable.map(JSONValue.bool) ?? .null),
                ("entries", .int(Int64(s.entries))), ("deleted", .int(Int64(s.deleted))),
                ("dwellSeconds", .object([("p50", seconds(s.percentile(0.5))), ("p95", seconds(s.percentile(0.95))),
                                          ("p99", seconds(s.percentile(0.99))), ("max", seconds(s.dwell.last))])),
                ("stillOnServer", .int(Int64(s.stillOnServer))),
                ("beyondThreshold", .array(s.beyondThreshold.map { .int($0) })),
            ])
        }
        let entries: [JSONValue] = r.entries.map { e in
            var status: JSONValue = .null
            var kind: JSONValue = .null
            switch e.deletion {
            case .confirmed(_, let code)?: status = .int(Int64(code)); kind = .string("confirmed")
            case .requested?: kind = .string("requested")
            case nil: break
            }
            return .object([
                ("scale", .string(e.scale)), ("id", .int(e.id)),
                ("serverDate", e.serverDate.map { .string(iso(Double($0))) } ?? .null),
                ("archive", .string(e.archive)), ("archiveSHA256", e.archiveSHA256.map(JSONValue.string) ?? .null),
                ("csv", e.csv.map(JSONValue.string) ?? .null), ("line", e.line.map { .int(Int64($0)) } ?? .null),
                ("deletedAt", e.deletion.map { .string(UTCTime.iso8601($0.time)) } ?? .null),
                ("deletion", kind), ("status", status),
            ])
        }
        return .object([
            ("server", .string(r.server.name)), ("generated", .string(UTCTime.iso8601(r.generated))),
            ("thresholdSeconds", .number(String(format: "%.0f", r.threshold))),
            ("ledger", .string(r.requestsOnly ? "requests-only" : "confirmed")),
            ("scales", .array(scales)), ("entries", .array(entries)),
            ("archives", .array(r.archives.map { a in
                .object([("archive", .string(a.name)), ("sha256", a.recorded.map(JSONValue.string) ?? .null),
                         ("matches", .bool(a.recorded != nil && a.recorded == a.actual))])
            })),
        ])
    }

    static func duration(_ v: Double?) -> String { v.map { DurationText.format($0) } ?? "-" }

    static func text(_ r: CustodyReport) -> String {
        var out = "\(r.server.name): \(r.entries.count) archived entries in \(r.archives.count) archives"
        out += r.requestsOnly ? " (older deletion ledger: deletion times are when each DELETE was recorded)\n" : "\n"
        let head = ["SCALE", "KIND", "ENTRIES", "DELETED", "P50", "P95", "P99", "MAX", "ON SERVER", "OVERDUE"]
        var rows: [[String]] = []
        for s in r.scales {
            let kind = s.deleteable == false ? "kept by the server" : s.deleteable == true ? "deleteable" : "unknown"
            rows.append([s.name, kind, String(s.entries), String(s.deleted), duration(s.percentile(0.5)),
                         duration(s.percentile(0.95)), duration(s.percentile(0.99)), duration(s.dwell.last),
                         String(s.stillOnServer), s.deleteable == false ? "-" : String(s.beyondThreshold.count)])
        }
        var width = head.map(\.count)
        for row in rows { for (i, f) in row.enumerated() { width[i] = max(width[i], f.count) } }
        func line(_ row: [String]) -> String {
            row.enumerated().map { i, f in f.padding(toLength: width[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        out += "\n  " + line(head) + "\n" + rows.map { "  " + line($0) + "\n" }.joined()
        out += "  (time on the server: from the entry's date to its confirmed DELETE; OVERDUE: still on the server after \(DurationText.format(r.threshold)))\n"
        let overdue = r.entries.filter { e in r.scales.first { $0.name == e.scale }?.beyondThreshold.contains(e.id) == true }
        if !overdue.isEmpty {
            out += "\nstill on the server after \(DurationText.format(r.threshold)):\n"
            for e in overdue {
                out += "  \(e.scale) id \(e.id): dated \(e.serverDate.map { iso(Double($0)) } ?? "-"), archived in \(e.archive)\n"
            }
        }
        let mismatched = r.archives.filter { $0.recorded == nil || $0.recorded != $0.actual }
        for a in mismatched {
            out += "warning: \(a.name) does not match raw_data/SHA256SUMS\(a.recorded == nil ? " (no line)" : ""); run mt verify\n"
        }
        return out
    }
}
