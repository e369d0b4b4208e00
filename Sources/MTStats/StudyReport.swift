import MTCore

/// The opening of `mt stats report` on a whole study: the CONSORT flow as an SVG diagram (boxes and arrows per
/// arm, as a trial paper draws it) and an overview table of every scale, flagged against thresholds, each
/// scale linked to its section further down.
enum StudyReport {
    /// Flags of the overview: any duplicate, more than 10% missing cells, more than 1% out of range.
    static let missingThreshold = 0.10
    static let outOfRangeThreshold = 0.01

    /// The box fill of the diagram (the screenshot test looks for it).
    static let boxFill = "#d6eaf8"

    static func section(flow: StudyFlow?, summaries: [ScaleSummary]) -> String {
        // Side by side, so that a screen shows both when the page opens.
        var h = "<section id=\"study\"><div class=\"charts\">\n"
        if let flow {
            h += "<div><h2>Participant flow (CONSORT)</h2>\n<figure>\(diagram(flow))<figcaption>"
            h += "progress from \(esc(flow.progressSource)); −n: lost since the box above</figcaption></figure></div>\n"
        }
        h += "<div><h2>Scales</h2>\n" + overview(summaries) + "</div>"
        return h + "</div></section>\n"
    }

    /// Shares of missing and out-of-range cells of one scale (over the cells that could be). Missing counts the
    /// items only: metadata such as `tag` is empty by design. nil: the table has no items (the participant
    /// table, TaskLog, a scale the catalogue does not list).
    static func shares(_ s: ScaleSummary) -> (missing: Double?, outOfRange: Double) {
        let items = s.isItem.filter { $0 }.count
        let cells = s.entries * items
        let missingItems = zip(s.missing, s.isItem).reduce(0) { $0 + ($1.1 ? $1.0 : 0) }
        let missing: Double? = items == 0 ? nil : cells > 0 ? Double(missingItems) / Double(cells) : 0
        let checked = s.outOfRange.compactMap { $0 }
        let checkedCells = s.entries * checked.count
        let out = checkedCells > 0 ? Double(checked.reduce(0, +)) / Double(checkedCells) : 0
        return (missing, out)
    }

    static func overview(_ summaries: [ScaleSummary]) -> String {
        var h = "<table class=\"heat overview\"><caption>every scale: flagged (⚑) when it has duplicates, more than "
        h += "\(Int(missingThreshold * 100))% of its item cells missing, or more than \(Int(outOfRangeThreshold * 100))% out of range</caption>\n"
        h += "<tr><th>scale</th><th>entries</th><th>participants</th><th>duplicates</th><th>missing</th><th>out of range</th></tr>\n"
        for s in summaries {
            let (m, o) = shares(s)
            func flagged(_ bad: Bool, _ text: String) -> String {
                bad ? "<td class=\"flag\" style=\"background:#f6d5d5\">⚑ \(text)</td>" : "<td>\(text)</td>"
            }
            h += "<tr><td><a href=\"#\(esc(s.scale))\">\(esc(s.scale))</a></td><td>\(s.entries)</td>"
            h += "<td>\(s.participants.map(String.init) ?? "–")</td>"
            h += flagged((s.duplicates ?? 0) > 0, s.duplicates.map(String.init) ?? "–")
            h += flagged((m ?? 0) > missingThreshold, m.map(pct) ?? "–")
            h += flagged(o > outOfRangeThreshold, s.outOfRange.allSatisfy { $0 == nil } ? "–" : pct(o))
            h += "</tr>\n"
        }
        return h + "</table>\n"
    }

    static func pct(_ v: Double) -> String {
        let r = (v * 1000).rounded() / 10
        return (r == r.rounded() ? String(Int(r)) : String(r)) + "%"
    }

    /// Boxes top to bottom: screening, then one column per arm (or one for the whole study), each box with the
    /// stage's count, arrows between them and the number lost beside each arrow.
    static func diagram(_ flow: StudyFlow) -> String {
        let boxW = 180.0, boxH = 32.0, gap = 16.0, colGap = 30.0, margin = 10.0
        let armNames: [String?] = flow.arms.isEmpty ? [nil] : flow.arms.map { Optional($0) }
        let columns = Double(armNames.count)
        let excluded = flow.stages.filter { $0.arm == nil && $0.stage.hasPrefix("excluded: ") && $0.participants > 0 }
        // Room on the right of the enrolled box for the reasons of exclusion.
        let noteW = excluded.isEmpty ? 0.0 : 150.0
        // How far the reasons reach below the enrolled box (the arms start under them).
        let notesBelow = excluded.isEmpty ? 0.0 : max(0, 14 + Double(excluded.count) * 13 - boxH)
        let width = max(boxW + 2 * noteW + 2 * margin, columns * boxW + (columns - 1) * colGap + 2 * margin)
        let screening = flow.stages.filter { $0.arm == nil && ["screened", "eligible", "enrolled"].contains($0.stage) }
        let perArm: [[FlowStage]] = armNames.map { arm in
            flow.stages.filter { $0.arm == arm && !["screened", "eligible"].contains($0.stage)
                && !$0.stage.hasPrefix("excluded") && $0.stage != "enrolled" }
        }
        let armRows = perArm.map(\.count).max() ?? 0
        let height = margin * 2 + Double(screening.count + armRows + (flow.arms.isEmpty ? 0 : 1)) * (boxH + gap)
            + notesBelow
        var svg = "<svg class=\"flow\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
        svg += "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" font-size=\"12\">"
        func box(_ x: Double, _ y: Double, _ title: String, _ n: Int, notes: [String] = []) {
            svg += "<rect x=\(q(x)) y=\(q(y)) width=\(q(boxW)) height=\(q(boxH)) rx=\"4\" fill=\"\(boxFill)\" stroke=\"#3b6ea5\" stroke-width=\"1.5\"/>"
            svg += "<text x=\(q(x + boxW / 2)) y=\(q(y + 13)) text-anchor=\"middle\">\(esc(title))</text>"
            svg += "<text x=\(q(x + boxW / 2)) y=\(q(y + 27)) text-anchor=\"middle\" font-weight=\"bold\">n = \(n)</text>"
            for (i, note) in notes.enumerated() {
                svg += "<text x=\(q(x + boxW + 8)) y=\(q(y + 11 + Double(i) * 13)) font-size=\"11\" fill=\"#a33\">\(esc(note))</text>"
            }
        }
        func arrow(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, lost: Int?) {
            svg += "<line x1=\(q(x1)) y1=\(q(y1)) x2=\(q(x2)) y2=\(q(y2 - 6)) stroke=\"#444\" stroke-width=\"1.5\"/>"
            svg += "<polygon points=\"\(num(x2 - 5)),\(num(y2 - 7)) \(num(x2 + 5)),\(num(y2 - 7)) \(num(x2)),\(num(y2))\" fill=\"#444\"/>"
            if let lost, lost != 0 {
                svg += "<text x=\(q((x1 + x2) / 2 + 8)) y=\(q((y1 + y2) / 2 + 4)) fill=\"#a33\">−\(lost)</text>"
            }
        }
        func title(_ s: FlowStage) -> String {
            switch s.stage {
            case "started": return "started \(s.session ?? "")"
            case "completed": return "completed \(s.session ?? "")"
            default: return s.stage
            }
        }
        let cx = width / 2
        var y = margin
        var lastBottom = y
        for (i, s) in screening.enumerated() {
            if i > 0 { arrow(cx, lastBottom, cx, y, lost: s.lost) }
            let notes = s.stage == "enrolled" && !excluded.isEmpty
                ? ["excluded:"] + excluded.map { "\($0.stage.dropFirst(10)): \($0.participants)" } : []
            box(cx - boxW / 2, y, s.stage, s.participants, notes: notes)
            lastBottom = y + boxH
            y += boxH + gap + (notes.isEmpty ? 0 : notesBelow)
        }
        let top = y
        var armTop = top
        if !flow.arms.isEmpty { armTop += boxH + gap }
        for (a, rows) in perArm.enumerated() {
            let x = margin + Double(a) * (boxW + colGap) + (width - 2 * margin - columns * boxW - (columns - 1) * colGap) / 2
            let ax = x + boxW / 2
            var yy = top
            var from = lastBottom
            if let arm = armNames[a] {
                let enrolled = flow.stages.first { $0.arm == arm && $0.stage == "enrolled" }?.participants ?? 0
                arrow(cx, lastBottom, ax, top, lost: nil)
                box(x, top, "arm " + arm, enrolled)
                yy = armTop
                from = top + boxH
            }
            for s in rows {
                arrow(ax, from, ax, yy, lost: s.lost)
                box(x, yy, title(s), s.participants)
                from = yy + boxH
                yy += boxH + gap
            }
        }
        return svg + "</svg>"
    }

    static func q(_ v: Double) -> String { "\"\(num(v))\"" }

    static func num(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    static func esc(_ s: String) -> String { StatsReport.esc(s) }
}
