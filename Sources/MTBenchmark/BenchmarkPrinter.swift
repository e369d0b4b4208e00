import Foundation
import MTCore

/// The `mt benchmark` table, or its JSON.
struct BenchmarkPrinter {
    let context: CommandContext

    func print(_ statuses: [BenchmarkStatus]) {
        if context.global.json {
            context.stdout.write(JSONWriter.bytes(.object([("servers", .array(statuses.map(\.json)))]), pretty: true) + [0x0A])
            return
        }
        for (n, s) in statuses.enumerated() {
            if n > 0 { context.stdout.line() }
            context.stdout.line(Untrusted.line("\(s.server): \(s.benchmarkFile)"))
            var header = ["SCALE", "BENCHMARK", "DELETEABLE", "LAST EXPORT", "ARCHIVES", "ENTRIES", "CSV ROWS", "HELD"]
            if s.remote { header += ["SERVER SIZE", "AT/BELOW MARK"] }
            var rows = [header]
            for r in s.rows {
                var row = [r.scale, r.benchmark.map(String.init) ?? "-", r.deleteable.map { $0 ? "yes" : "no" } ?? "-",
                           r.lastExport.map { LocalTime.strftime("%Y-%m-%d %H:%M", $0) } ?? "-",
                           String(r.archives), String(r.entriesArchived), String(r.csvRows), String(r.heldBack)]
                if s.remote {
                    row += [r.onServer == true ? r.serverSize.map(String.init) ?? "?" : "not on server",
                            r.remainingAtOrBelow.map(String.init) ?? "-"]
                }
                rows.append(row)
            }
            if s.rows.isEmpty { context.stdout.line("  no benchmark, archives or CSVs yet") } else { table(rows) }
            for w in s.benchmarkWarnings { context.stdout.line(Untrusted.line("warning: \(w)")) }
            for a in s.unreadableArchives { context.stdout.line(Untrusted.line("warning: \(a) could not be read; run mt verify \(s.server)")) }
            for r in s.refusedScaleNames { context.stdout.line("warning: the server lists a scale with an unsafe name (\(Untrusted.text(r))); it was skipped") }
        }
    }

    /// Left-aligned columns; numbers are right-aligned so digits line up.
    private func table(_ raw: [[String]]) {
        let rows = raw.map { $0.map { Untrusted.text($0) } }
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        for (i, row) in rows.enumerated() {
            let cells = row.enumerated().map { c, cell -> String in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return i > 0 && Int(cell) != nil ? pad + cell : cell + pad
            }
            context.stdout.line(cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}
