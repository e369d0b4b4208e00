import Foundation
import MTCore

/// The one page of `mt custody --html` for an ethics board or data-protection officer: what was measured and
/// how, the figures per scale, a chart of time on the server, the overdue entries and every archive's checksum.
/// Self-contained (inline CSS and SVG, no script, nothing fetched), so it can be mailed or printed as it is.
enum CustodyPage {
    /// Buckets of the chart, by upper bound in seconds.
    static let buckets: [(label: String, upTo: Double)] = [
        ("≤ 5 min", 300), ("≤ 1 h", 3600), ("≤ 6 h", 21_600), ("≤ 1 day", 86_400), ("≤ 7 days", 604_800),
        ("> 7 days", .infinity),
    ]

    /// A bar chart of how many entries of each scale stayed how long.
    static func chart(_ s: CustodyReport.Scale) -> String {
        var counts = [Int](repeating: 0, count: buckets.count)
        for d in s.dwell { counts[buckets.firstIndex { d <= $0.upTo }!] += 1 }
        let top = max(counts.max() ?? 0, 1)
        let barWidth = 70, height = 120
        var svg = "<svg role=\"img\" aria-label=\"time on the server, \(HTMLText.escape(s.name))\" width=\"\(buckets.count * (barWidth + 10) + 10)\" height=\"\(height + 40)\">"
        for (i, n) in counts.enumerated() {
            let h = n * height / top
            let x = 10 + i * (barWidth + 10)
            svg += "<rect x=\"\(x)\" y=\"\(height - h + 5)\" width=\"\(barWidth)\" height=\"\(h)\" fill=\"#4a6fa5\"/>"
            svg += "<text x=\"\(x + barWidth / 2)\" y=\"\(height - h)\" text-anchor=\"middle\" font-size=\"11\">\(n)</text>"
            svg += "<text x=\"\(x + barWidth / 2)\" y=\"\(height + 22)\" text-anchor=\"middle\" font-size=\"11\">\(HTMLText.escape(buckets[i].label))</text>"
        }
        return svg + "</svg>"
    }

    static func html(_ r: CustodyReport) -> String {
        func cell(_ s: String) -> String { "<td>\(HTMLText.escape(s))</td>" }
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>Chain of custody: \(HTMLText.escape(r.server.name))</title>
            <style>
            body { font-family: sans-serif; max-width: 60em; margin: 2em auto; color: #222; }
            table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #bbb; padding: .25em .6em; }
            th { background: #eee; text-align: left; } td.n { text-align: right; } code { font-size: .9em; }
            </style></head><body>
            <h1>Chain of custody: \(HTMLText.escape(r.server.name))</h1>
            <p>Study server <code>\(HTMLText.escape(r.server.apiBase))</code>; data directory <code>\(HTMLText.escape(r.server.path))</code>;
            report made \(HTMLText.escape(UTCTime.iso8601(r.generated))) (UTC) by <code>mt custody</code>.</p>
            <h2>Method</h2>
            <p>Every answer the study server sent was kept byte for byte as a compressed archive in
            <code>raw_data/</code>; each archive was written to disk, flushed, read back and checked before any
            answer in it was deleted from the server, and its SHA-256 was recorded in <code>raw_data/SHA256SUMS</code>
            at that moment. Every DELETE was entered in <code>ledger/deletions.tsv</code>, with the archive holding the
            entry, before it was sent, and the server's confirmation (HTTP 200, or 404 for an entry already gone) was
            entered with its time after the answer.</p>
            <p><em>Time on the server</em> runs from the date the server gave the entry to the confirmed DELETE.
            Percentiles are nearest-rank over the entries with both times. An entry without a confirmed DELETE is
            counted as still on the server; scales the server must keep (not deleteable) are never deleted by design
            and are listed as such. Entries of deleteable scales still on the server after
            \(HTMLText.escape(DurationText.format(r.threshold))) are listed below.
            """
        if r.requestsOnly {
            page += " <strong>This data directory's deletion ledger predates confirmation times: each deletion is dated when its DELETE was recorded, just before it was sent.</strong>"
        }
        page += "</p>\n<h2>Figures</h2>\n<table><tr><th>scale</th><th>kind</th><th>entries</th><th>deleted</th><th>p50</th><th>p95</th><th>p99</th><th>max</th><th>still on the server</th><th>overdue</th></tr>\n"
        for s in r.scales {
            let kind = s.deleteable == false ? "kept by the server" : s.deleteable == true ? "deleteable" : "unknown"
            page += "<tr>" + cell(s.name) + cell(kind)
            for v in [String(s.entries), String(s.deleted), CustodyCommand.duration(s.percentile(0.5)),
                      CustodyCommand.duration(s.percentile(0.95)), CustodyCommand.duration(s.percentile(0.99)),
                      CustodyCommand.duration(s.dwell.last), String(s.stillOnServer),
                      s.deleteable == false ? "-" : String(s.beyondThreshold.count)] {
                page += "<td class=\"n\">\(HTMLText.escape(v))</td>"
            }
            page += "</tr>\n"
        }
        page += "</table>\n"
        for s in r.scales where !s.dwell.isEmpty {
            page += "<h3>\(HTMLText.escape(s.name)): entries by time on the server</h3>\n\(chart(s))\n"
        }
        let overdue = r.entries.filter { e in r.scales.first { $0.name == e.scale }?.beyondThreshold.contains(e.id) == true }
        page += "<h2>Still on the server after \(HTMLText.escape(DurationText.format(r.threshold)))</h2>\n"
        if overdue.isEmpty {
            page += "<p>None.</p>\n"
        } else {
            page += "<table><tr><th>scale</th><th>id</th><th>server date (UTC)</th><th>archive</th></tr>\n"
            for e in overdue {
                page += "<tr>" + cell(e.scale) + cell(String(e.id)) + cell(e.serverDate.map { CustodyCommand.iso(Double($0)) } ?? "-") + cell(e.archive) + "</tr>\n"
            }
            page += "</table>\n"
        }
        page += "<h2>Checksums</h2>\n<p>SHA-256 of every archive as recorded when it was made, and whether the file still matches it today.</p>\n"
        page += "<table><tr><th>archive</th><th>SHA-256</th><th>matches today</th></tr>\n"
        for a in r.archives {
            let ok = a.recorded != nil && a.recorded == a.actual
            page += "<tr>" + cell(a.name) + "<td><code>\(HTMLText.escape(a.recorded ?? "not recorded"))</code></td>" + cell(ok ? "yes" : "NO") + "</tr>\n"
        }
        return page + "</table>\n</body></html>\n"
    }
}
