import Foundation
import MTCore

/// One row of the CONSORT flow (`--json` prints exactly these keys).
struct FlowStage: Sendable, Equatable {
    var stage: String
    /// nil for the screening stages.
    var session: String?
    /// nil = the whole study.
    var arm: String?
    var participants: Int
    /// How many the previous stage had that this one has not; nil where there is no previous stage to compare.
    var lost: Int?

    var json: JSONValue {
        .object([("stage", .string(stage)), ("session", session.map(JSONValue.string) ?? .null),
                 ("arm", arm.map(JSONValue.string) ?? .null), ("participants", .int(participants)),
                 ("lost", lost.map { JSONValue.int($0) } ?? .null)])
    }
}

/// The CONSORT flow of a study (`mt stats flow`), as the lab's R scripts compute it:
/// screened = anonymous screenings (empty session, or an ELIGIBLE entry without a participant) once per
/// sessionId, the first one counting, plus participants with ELIGIBLE entries, the last one counting;
/// eligible = those whose screening scores factor × sum > threshold; enrolled = the participant table; excluded
/// by the exclusion list, testAccount, admin and over18 (in that order, one reason each); started = included
/// participants with a TaskLog row (else a scale entry) in one of the study's sessions; completed S = such a
/// record in a later session (for the last session: in it).
struct StudyFlow: Sendable {
    var stages: [FlowStage] = []
    var arms: [String] = []
    var sessions: [String] = []
    /// Where progress came from: "TaskLog" or "scale entries".
    var progressSource = ""
    var warnings: [String] = []

    static func compute(_ sources: [ScaleFiles], catalogue: ScaleCatalogue, design: StudyDesign,
                               exclusions: ExclusionList) throws -> StudyFlow {
        var flow = StudyFlow()
        var warnings = StatsWarnings()
        // Warnings met inside a table's rows (the table's own reader holds `warnings` meanwhile).
        var rowWarnings = StatsWarnings()
        let byName = Dictionary(sources.map { ($0.scale, $0) }, uniquingKeysWith: { a, _ in a })
        func isCiphertext(_ s: String) -> Bool {
            Array(s.utf8).withUnsafeBufferPointer { StatsSummarizer.looksLikeCiphertext($0) }
        }

        // Screening.
        var screened = 0, eligible = 0
        if let sc = design.screening {
            if let source = byName[sc.scale] {
                let table = try StatsTable(source, catalogue: catalogue)
                let sessionCol = table.column("session"), sessionIdCol = table.column("sessionId")
                let itemCols = sc.items.map(table.column)
                let absent = zip(sc.items, itemCols).filter { $0.1 == nil }.map(\.0)
                if !absent.isEmpty {
                    warnings.note("\(sc.scale): no column \(absent.joined(separator: ", ")); no screening can be scored eligible")
                }
                var anonymous: [String: Bool] = [:]   // sessionId → eligible (first entry)
                var named: [String: Bool] = [:]       // participant → eligible (last entry)
                try table.forEachRow(warnings: &warnings) { row in
                    let session = sessionCol.map { row.string($0) } ?? ""
                    let participant = row.participant
                    guard session.isEmpty || session == sc.session else { return }
                    let score: Double? = absent.isEmpty ? itemCols.reduce(Optional(0.0)) { acc, c in
                        guard let acc, let n = ValueRule.wholeNumber(row.string(c!)), !sc.noAnswer.contains(n) else { return nil }
                        return acc + Double(n)
                    }.map { $0 * sc.factor } : nil
                    let ok = (score ?? -Double.infinity) > sc.threshold
                    if isCiphertext(participant) {
                        rowWarnings.add("\(row.file): a participant cell holds RSA ciphertext left undecrypted; that screening is not counted (run mt decrypt or mt recover with the right key)", line: row.line)
                        return
                    }
                    if session.isEmpty || participant.isEmpty {
                        let sid = sessionIdCol.map { row.string($0) } ?? ""
                        guard !sid.isEmpty else {
                            rowWarnings.add("\(row.file): anonymous screenings without a sessionId cannot be told apart and are not counted", line: row.line)
                            return
                        }
                        if anonymous[sid] == nil { anonymous[sid] = ok }
                    } else {
                        named[participant] = ok
                    }
                }
                screened = anonymous.count + named.count
                eligible = anonymous.values.filter { $0 }.count + named.values.filter { $0 }.count
            } else {
                warnings.note("no \(sc.scale) table: screened and eligible are 0")
            }
        }
        flow.stages.append(FlowStage(stage: "screened", session: nil, arm: nil, participants: screened, lost: nil))
        flow.stages.append(FlowStage(stage: "eligible", session: nil, arm: nil, participants: eligible, lost: screened - eligible))

        // The participant table.
        guard let ptName = design.participantTables.first(where: { byName[$0] != nil }) else {
            throw MTError(.noInput, "no participant table (\(design.participantTables.joined(separator: ", "))) among the input",
                          hint: "export it from the server (it is @DoNotDelete), or give its CSV file")
        }
        let roster = try Roster.read(byName[ptName]!, catalogue: catalogue, design: design, exclusions: exclusions,
                                     warnings: &warnings, rowWarnings: &rowWarnings)
        let (armOf, order, reasonOf, arms) = (roster.armOf, roster.order, roster.reasonOf, roster.arms)
        flow.arms = arms

        // Progress: TaskLog when there is one, else every scale's entries.
        flow.sessions = design.sessions
        let position = Dictionary(design.sessions.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        var reached: [String: Int] = [:]
        var unknownSessions = Set<String>()
        func record(_ participant: String, _ session: String) {
            guard armOf[participant] != nil else { return }
            guard let p = position[session] else {
                if !session.isEmpty && session != design.screening?.session { unknownSessions.insert(session) }
                return
            }
            if p > reached[participant] ?? -1 { reached[participant] = p }
        }
        if let logName = design.taskLogTables.first(where: { byName[$0] != nil }) {
            flow.progressSource = logName
            let log = try StatsTable(byName[logName]!, catalogue: catalogue)
            guard let pc = design.taskLogParticipant.lazy.compactMap(log.column).first,
                  let sc = design.taskLogSession.lazy.compactMap(log.column).first else {
                throw MTError(.dataError, "\(logName): needs a participant column (\(design.taskLogParticipant.joined(separator: ", "))) and a session column (\(design.taskLogSession.joined(separator: ", ")))")
            }
            try log.forEachRow(warnings: &warnings) { row in
                let p = row.string(pc).trimmingCharacters(in: .whitespaces)
                if isCiphertext(p) {
                    rowWarnings.add("\(row.file): a participant cell holds RSA ciphertext left undecrypted; that row is not counted", line: row.line)
                    return
                }
                record(p, row.string(sc))
            }
        } else {
            flow.progressSource = "scale entries"
            warnings.note("no TaskLog table (\(design.taskLogTables.joined(separator: ", "))): progress is read from every scale's entries")
            for source in sources where source.scale != ptName {
                let t = try StatsTable(source, catalogue: catalogue)
                guard let sc = t.column("session"), !t.participantNames.isEmpty else { continue }
                try t.forEachRow(warnings: &warnings) { row in
                    let p = row.participant
                    if isCiphertext(p) {
                        rowWarnings.add("\(row.file): a participant cell holds RSA ciphertext left undecrypted; that entry is not counted", line: row.line)
                        return
                    }
                    record(p, row.string(sc))
                }
            }
        }
        if !unknownSessions.isEmpty {
            warnings.note("sessions not in the study's order are ignored: \(unknownSessions.sorted().joined(separator: ", "))")
        }

        // The participant stages, for the whole study (arm nil) and per arm.
        let reasons = ["test account", "admin", "under 18"].filter { r in reasonOf.values.contains(r) }
            + Array(Set(reasonOf.values)).filter { !["test account", "admin", "under 18"].contains($0) }.sorted()
        var armRows: [String?] = [nil]
        armRows += arms.map { Optional($0) }
        func people(_ arm: String?) -> [String] { order.filter { arm == nil || armOf[$0] == arm } }
        var participantStages: [[FlowStage]] = []
        for arm in armRows {
            var rows: [FlowStage] = []
            let enrolled = people(arm)
            rows.append(FlowStage(stage: "enrolled", session: nil, arm: arm, participants: enrolled.count,
                                  lost: arm == nil && eligible >= enrolled.count ? eligible - enrolled.count : nil))
            let excluded = enrolled.filter { reasonOf[$0] != nil }
            rows.append(FlowStage(stage: "excluded", session: nil, arm: arm, participants: excluded.count, lost: nil))
            for r in reasons {
                rows.append(FlowStage(stage: "excluded: \(r)", session: nil, arm: arm,
                                      participants: excluded.filter { reasonOf[$0] == r }.count, lost: nil))
            }
            let included = enrolled.filter { reasonOf[$0] == nil }
            rows.append(FlowStage(stage: "included", session: nil, arm: arm, participants: included.count, lost: excluded.count))
            var previous = included.count
            let started = included.filter { reached[$0] != nil }.count
            rows.append(FlowStage(stage: "started", session: design.sessions.first, arm: arm, participants: started,
                                  lost: previous - started))
            previous = started
            for (i, s) in design.sessions.enumerated() {
                let last = i == design.sessions.count - 1
                let n = included.filter { r in reached[r].map { last ? $0 >= i : $0 > i } ?? false }.count
                rows.append(FlowStage(stage: "completed", session: s, arm: arm, participants: n, lost: previous - n))
                previous = n
            }
            participantStages.append(rows)
        }
        // Stage by stage: the whole study, then each arm.
        for k in participantStages[0].indices {
            for rows in participantStages { flow.stages.append(rows[k]) }
        }
        flow.warnings = warnings.messages + rowWarnings.messages
        return flow
    }

    /// The flow as a table: one line per stage, a column per arm.
    var text: String {
        let heads = ["stage", "session", "study"] + arms
        var lines: [[String]] = [heads]
        var k = 0
        while k < stages.count {
            let s = stages[k]
            var cells = [s.stage, s.session ?? ""]
            var j = k
            while j < stages.count && stages[j].stage == s.stage && stages[j].session == s.session {
                let t = stages[j]
                cells.append(t.lost.map { "\(t.participants) (−\($0))" } ?? String(t.participants))
                j += 1
            }
            while cells.count < heads.count { cells.append("") }
            lines.append(cells)
            k = j
        }
        let widths = heads.indices.map { c in lines.map { $0[c].count }.max() ?? 0 }
        var out = ""
        for l in lines {
            out += l.enumerated().map { c, v in v.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        out += "(−n: lost since the stage above; progress from \(progressSource))\n"
        return out
    }
}

/// The participant table read once for the flow and the dataset: each participant's arm (the condition columns'
/// values joined by "/") and exclusion reason, the first that applies: the exclusion list, testAccount, admin,
/// over18 not true.
struct Roster: Sendable {
    var table: String
    var armOf: [String: String] = [:]
    /// Participant ids in the table's order, each once.
    var order: [String] = []
    var reasonOf: [String: String] = [:]
    /// The arms, sorted; empty when the design names no condition column.
    var arms: [String] = []

    static func read(_ source: ScaleFiles, catalogue: ScaleCatalogue, design: StudyDesign, exclusions: ExclusionList,
                     warnings: inout StatsWarnings, rowWarnings: inout StatsWarnings) throws -> Roster {
        let ptName = source.scale
        var r = Roster(table: ptName)
        let pt = try StatsTable(source, catalogue: catalogue)
        guard let idCol = design.participantID.lazy.compactMap(pt.column).first else {
            throw MTError(.dataError, "\(ptName): no participant id column (\(design.participantID.joined(separator: ", ")))")
        }
        let condCols = design.conditions.compactMap { c in pt.column(c).map { (c, $0) } }
        for c in design.conditions where pt.column(c) == nil { warnings.note("\(ptName): no condition column \(c)") }
        func flag(_ name: String?) -> Int? { name.flatMap(pt.column) }
        let adminCol = flag(design.adminFlag), testCol = flag(design.testAccountFlag), over18Col = flag(design.over18Flag)
        try pt.forEachRow(warnings: &warnings) { row in
            let id = row.string(idCol).trimmingCharacters(in: .whitespaces)
            if id.isEmpty { rowWarnings.add("\(row.file): rows without a participant id are skipped", line: row.line); return }
            if Array(id.utf8).withUnsafeBufferPointer({ StatsSummarizer.looksLikeCiphertext($0) }) {
                rowWarnings.add("\(row.file): a participant id holds RSA ciphertext left undecrypted; it is not counted as a participant (run mt decrypt or mt recover with the right key)", line: row.line)
                return
            }
            if r.armOf[id] != nil { rowWarnings.add("\(row.file): participant ids that appear twice; the first row counts", line: row.line); return }
            let values = condCols.map { row.string($0.1).trimmingCharacters(in: .whitespaces) }
            r.armOf[id] = condCols.isEmpty ? "" : (values.allSatisfy(\.isEmpty) ? "unassigned" : values.joined(separator: "/"))
            r.order.append(id)
            if let reason = exclusions.reason(for: id) { r.reasonOf[id] = reason }
            else if let c = testCol, StudyDesign.isTrue(row.string(c)) { r.reasonOf[id] = "test account" }
            else if let c = adminCol, StudyDesign.isTrue(row.string(c)) { r.reasonOf[id] = "admin" }
            else if let c = over18Col, !StudyDesign.isTrue(row.string(c)) { r.reasonOf[id] = "under 18" }
        }
        r.arms = condCols.isEmpty ? [] : Array(Set(r.armOf.values)).sorted()
        return r
    }
}
