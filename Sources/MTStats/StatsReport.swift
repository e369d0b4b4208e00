import MTCore

/// `mt stats report`: one self-contained HTML page (inline CSS and SVG, no script, nothing fetched) with, per
/// scale, the key numbers, entries over time, completion by session (the attrition funnel) and a heat table of
/// missing and out-of-range cells.
enum StatsReport {
    /// `flow`: the study's CONSORT flow, drawn at the top when the input held the participant table.
    static func html(_ summaries: [ScaleSummary], title: String, catalogue: ScaleCatalogue,
                            flow: StudyFlow? = nil) -> String {
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>mt stats report — \(esc(title))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fff}
            h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:2px solid #3b6ea5}
            .key{display:flex;gap:24px;flex-wrap:wrap}.key div{background:#eef3f9;padding:8px 14px;border-radius:6px}
            .key b{display:block;font-size:20px}
            table.heat{border-collapse:collapse;font-size:13px}table.heat td,table.heat th{border:1px solid #ccc;padding:3px 8px;text-align:right}
            table.heat td:first-child,table.heat th:first-child{text-align:left}
            .charts{display:flex;gap:32px;flex-wrap:wrap;align-items:flex-start}
            figure{margin:8px 0}figcaption{font-size:13px;color:#555}
            </style></head><body>
            <h1>mt stats report — \(esc(title))</h1>
            <p>\(summaries.count) scale\(summaries.count == 1 ? "" : "s"); \(summaries.reduce(0) { $0 + $1.entries }) entries in all.</p>

            """
        h += StudyReport.section(flow: flow, summaries: summaries)
        for s in summaries { h += section(s, catalogue: catalogue) }
        h += "</body></html>\n"
        return h
    }

    static func section(_ s: ScaleSummary, catalogue: ScaleCatalogue) -> String {
        let title = catalogue.spec(for: s.scale)?.title
        var h = "<section id=\"\(esc(s.scale))\"><h2>\(esc(s.scale))\(title.map { " — " + esc($0) } ?? "")</h2>\n<div class=\"key\">"
        let figures: [(String, String)] = [
            ("entries", String(s.entries)), ("participants", s.participants.map(String.init) ?? "–"),
            ("duplicates", s.duplicates.map(String.init) ?? "–"),
            ("first date", s.firstDate.map { String(EntryDate.iso($0).prefix(10)) } ?? "–"),
            ("last date", s.lastDate.map { String(EntryDate.iso($0).prefix(10)) } ?? "–"),
        ]
        for (label, value) in figures { h += "<div><b>\(esc(value))</b>\(label)</div>" }
        h += "</div>\n<div class=\"charts\">\n"
        let span = window(s.perDay)
        var caption = "entries over time"
        if let span, span.before + span.after > 0 {
            let all = (s.perDay.keys.min()!, s.perDay.keys.max()!)
            func entries(_ n: Int) -> String { "\(n) entr\(n == 1 ? "y" : "ies")" }
            let parts = (span.before > 0 ? ["\(entries(span.before)) before \(EntryDate.isoDay(span.lo))"] : [])
                + (span.after > 0 ? ["\(entries(span.after)) after \(EntryDate.isoDay(span.hi))"] : [])
            caption += "; left out: \(parts.joined(separator: " and ")) (all entries: \(EntryDate.isoDay(all.0)) … \(EntryDate.isoDay(all.1)))"
        }
        h += "<figure>\(timeline(s, span: span))<figcaption>\(esc(caption))</figcaption></figure>\n"
        h += "<figure>\(funnel(s))<figcaption>completion by session (participants; share of the first session)</figcaption></figure>\n"
        h += "</div>\n"
        h += heatTable(s)
        if !s.warnings.isEmpty {
            h += "<details><summary>\(s.warnings.count) warning(s)</summary><ul>"
            for w in s.warnings { h += "<li>\(esc(w))</li>" }
            h += "</ul></details>\n"
        }
        return h + "</section>\n"
    }

    /// The axis holds the middle 98% of the entries, and reaches out from there over every day no further from
    /// the last one taken than a month (or half the middle's span): a study whose entries are nearly all in one
    /// season is drawn over that season, not over the years a few late entries reach, and the caption says what
    /// was left out. Evenly spread data is drawn whole.
    static func window(_ perDay: [Int: Int]) -> (lo: Int, hi: Int, before: Int, after: Int)? {
        let days = perDay.keys.sorted()
        guard !days.isEmpty else { return nil }
        let total = Double(perDay.values.reduce(0, +))
        func quantile(_ q: Double) -> Int {
            var seen = 0.0
            for (i, d) in days.enumerated() {
                seen += Double(perDay[d]!)
                if seen >= q * total { return i }
            }
            return days.count - 1
        }
        var lo = quantile(0.01), hi = quantile(0.99)
        let reach = max(31, (days[hi] - days[lo]) / 2)
        while lo > 0 && days[lo] - days[lo - 1] <= reach { lo -= 1 }
        while hi < days.count - 1 && days[hi + 1] - days[hi] <= reach { hi += 1 }
        let before = days[..<lo].reduce(0) { $0 + perDay[$1]! }
        let after = days[(hi + 1)...].reduce(0) { $0 + perDay[$1]! }
        return (days[lo], days[hi], before, after)
    }

    /// Bars per day, or per month when the shown span is more than two months.
    static func timeline(_ s: ScaleSummary, span: (lo: Int, hi: Int, before: Int, after: Int)?) -> String {
        guard let span else {
            return "<svg width=\"420\" height=\"60\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"10\" y=\"35\" font-size=\"13\">no dates</text></svg>"
        }
        let (lo, hi) = (span.lo, span.hi)
        var buckets: [(String, Int)] = []
        if hi - lo <= 62 {
            buckets = (lo...hi).map { (EntryDate.isoDay($0), s.perDay[$0] ?? 0) }
        } else {
            var months: [String: Int] = [:]
            for (d, n) in s.perDay where d >= lo && d <= hi { months[String(EntryDate.isoDay(d).prefix(7)), default: 0] += n }
            let (y0, m0, _) = EntryDate.civil(fromDays: lo), (y1, m1, _) = EntryDate.civil(fromDays: hi)
            var y = y0, m = m0
            while y < y1 || (y == y1 && m <= m1) {
                let key = String(EntryDate.isoDay(EntryDate.daysFromCivil(y, m, 1)).prefix(7))
                buckets.append((key, months[key] ?? 0))
                m += 1
                if m > 12 { m = 1; y += 1 }
            }
        }
        let w = 420.0, h = 180.0, left = 40.0, bottom = 30.0
        let top = Double(buckets.map(\.1).max() ?? 1)
        let bw = (w - left - 10) / Double(buckets.count)
        var svg = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">"
        svg += "<line x1=\"\(left)\" y1=\"\(h - bottom)\" x2=\"\(w - 5)\" y2=\"\(h - bottom)\" stroke=\"#444\"/>"
        svg += "<text x=\"\(left - 4)\" y=\"14\" font-size=\"11\" text-anchor=\"end\">\(Int(top))</text>"
        for (i, b) in buckets.enumerated() {
            let bh = top > 0 ? (h - bottom - 10) * Double(b.1) / top : 0
            let x = left + Double(i) * bw
            svg += "<rect x=\(q(x + 1)) y=\(q(h - bottom - bh)) width=\(q(max(1, bw - 2))) height=\(q(bh)) fill=\"#3b6ea5\"><title>\(b.0): \(b.1)</title></rect>"
        }
        svg += "<text x=\"\(left)\" y=\"\(h - 10)\" font-size=\"11\">\(esc(buckets.first!.0))</text>"
        svg += "<text x=\"\(w - 5)\" y=\"\(h - 10)\" font-size=\"11\" text-anchor=\"end\">\(esc(buckets.last!.0))</text>"
        return svg + "</svg>"
    }

    /// Distinct participants per session, as horizontal bars relative to the first session.
    static func funnel(_ s: ScaleSummary) -> String {
        let rows = s.participantsPerSession
        guard let first = rows.first?.1, first > 0 else {
            return "<svg width=\"420\" height=\"60\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"10\" y=\"35\" font-size=\"13\">no sessions</text></svg>"
        }
        let top = Double(rows.map(\.1).max() ?? 1)
        let rowH = 22.0, labelW = 90.0, barW = 200.0
        let h = Double(rows.count) * rowH + 10
        var svg = "<svg width=\"420\" height=\"\(Int(h))\" viewBox=\"0 0 420 \(Int(h))\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">"
        for (i, r) in rows.enumerated() {
            let y = 5 + Double(i) * rowH
            let bw = barW * Double(r.1) / top
            let pct = Int((Double(r.1) * 100 / Double(first)).rounded())
            svg += "<text x=\"\(labelW - 6)\" y=\(q(y + 15)) font-size=\"12\" text-anchor=\"end\">\(esc(r.0))</text>"
            svg += "<rect x=\"\(labelW)\" y=\(q(y + 2)) width=\(q(max(1, bw))) height=\(q(rowH - 5)) fill=\"#e08a2c\"><title>\(esc(r.0)): \(r.1)</title></rect>"
            svg += "<text x=\(q(labelW + bw + 6)) y=\(q(y + 15)) font-size=\"12\">\(r.1) (\(pct)%)</text>"
        }
        return svg + "</svg>"
    }

    /// Columns × (missing, out of range): counts, shaded by their share of the entries.
    static func heatTable(_ s: ScaleSummary) -> String {
        var h = "<table class=\"heat\"><caption>missing and out-of-range cells per column</caption><tr><th>column</th><th>missing</th><th>out of range</th></tr>\n"
        for (c, name) in s.columns.enumerated() {
            h += "<tr><td>\(esc(name))</td>\(cell(s.missing[c], of: s.entries, hue: "59,110,165"))"
            h += s.outOfRange[c].map { cell($0, of: s.entries, hue: "200,40,40") } ?? "<td>–</td>"
            h += "</tr>\n"
        }
        return h + "</table>\n"
    }

    static func cell(_ n: Int, of total: Int, hue: String) -> String {
        let share = total > 0 ? Double(n) / Double(total) : 0
        let alpha = n == 0 ? 0 : 0.15 + 0.85 * share
        let pct = total > 0 ? String(Int((share * 100).rounded())) + "%" : ""
        let ink = alpha > 0.6 ? ";color:#fff" : ""
        return "<td style=\"background:rgba(\(hue),\(num(alpha)))\(ink)\">\(n) <small>\(pct)</small></td>"
    }

    static func q(_ v: Double) -> String { "\"\(num(v))\"" }

    static func num(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    static func esc(_ s: String) -> String { HTMLText.escape(s) }
}
