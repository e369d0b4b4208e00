import Foundation
import Yams

/// The study-level facts of the catalogue's `designs:` block: the participant table, arms, TaskLog, the
/// eligibility screening and the session order (what `mt stats flow` needs beyond the scales).
public struct StudyDesign: Sendable, Equatable {
    public struct Screening: Sendable, Equatable {
        public var scale: String
        public var session: String
        public var items: [String]
        public var factor: Double
        public var threshold: Double
        public var noAnswer: [Int]
    }

    public var name: String
    public var participantTables: [String]
    public var participantID: [String]
    public var conditions: [String]
    public var adminFlag: String?
    public var testAccountFlag: String?
    public var over18Flag: String?
    public var taskLogTables: [String]
    public var taskLogParticipant: [String]
    public var taskLogSession: [String]
    public var taskLogTask: [String]
    public var taskLogDate: [String]
    public var screening: Screening?
    public var sessions: [String]
    /// The catalogue files the facts came from.
    public var sources: [String]

    /// The named study (or `default`) from the `designs:` blocks of the catalogue's files, later files
    /// replacing blocks of earlier ones; keys a study block leaves out come from `default`.
    public static func load(catalogue: ScaleCatalogue, study: String? = nil) throws -> StudyDesign {
        var blocks: [String: (Node.Mapping, String)] = [:]
        for source in catalogue.sources {
            let text = try FileSystem.readString(source)
            guard let root = try? Yams.compose(yaml: text), case .mapping(let top) = root,
                  let studies = top["designs"] else { continue }
            guard case .mapping(let m) = studies else {
                throw MTError(.config, "\(source):\(studies.mark?.line ?? 0): `designs` must map study names to their facts",
                              hint: "see the comments above `designs:` in \(ScaleCatalogue.shippedForHints)")
            }
            for (k, v) in m {
                guard let name = k.string, case .mapping(let block) = v else {
                    throw MTError(.config, "\(source):\(k.mark?.line ?? 0): each study must be a mapping")
                }
                blocks[name] = (block, source)
            }
        }
        // The study the catalogue was resolved for (STUDY or --study) chooses the design too: one choice, not two.
        let name = study ?? catalogue.study?.name ?? "default"
        guard blocks[name] != nil || name == "default" else {
            throw MTError(.config, "the catalogue has no study '\(name)' under `designs:`",
                          hint: "studies there: \(blocks.keys.sorted().joined(separator: ", "))")
        }
        let base = blocks["default"]?.0
        let own = name == "default" ? nil : blocks[name]?.0
        let source = blocks[name]?.1 ?? blocks["default"]?.1 ?? catalogue.sources.last ?? "<catalogue>"
        func node(_ key: String) -> Node? { own?[key] ?? base?[key] }
        func fail(_ n: Node?, _ what: String) -> MTError {
            MTError(.config, "\(source):\(n?.mark?.line ?? 0): study \(name): \(what)",
                    hint: "see the comments above `designs:` in \(ScaleCatalogue.shippedForHints)")
        }
        func strings(_ n: Node?) -> [String] {
            guard let n else { return [] }
            if case .sequence(let s) = n { return s.compactMap(\.string) }
            return n.string.map { [$0] } ?? []
        }
        let flags = node("flags")
        let log = node("taskLog")
        var screening: Screening?
        if let s = node("screening") {
            guard let scale = s["scale"]?.string, let session = s["session"]?.string else {
                throw fail(s, "screening needs scale and session")
            }
            let items = strings(s["items"])
            guard !items.isEmpty else { throw fail(s, "screening needs its items") }
            guard let factor = Double(s["factor"]?.string ?? "1"), let threshold = s["threshold"]?.string.flatMap(Double.init) else {
                throw fail(s, "screening needs a numeric factor and threshold")
            }
            let codes = try strings(s["noAnswer"]).map { c in
                guard let i = Int(c) else { throw fail(s["noAnswer"], "noAnswer must be whole numbers, not '\(c)'") }
                return i
            }
            screening = Screening(scale: scale, session: session, items: items, factor: factor, threshold: threshold,
                                  noAnswer: codes)
        }
        return StudyDesign(
            name: name,
            participantTables: strings(node("participantTable")),
            participantID: strings(node("participantId")),
            conditions: strings(node("conditions")),
            adminFlag: flags?["admin"]?.string, testAccountFlag: flags?["testAccount"]?.string,
            over18Flag: flags?["over18"]?.string,
            taskLogTables: strings(log?["tables"]), taskLogParticipant: strings(log?["participant"]),
            taskLogSession: strings(log?["session"]), taskLogTask: strings(log?["task"]),
            taskLogDate: strings(log?["date"]),
            screening: screening,
            sessions: node("sessions") != nil ? strings(node("sessions"))
                : catalogue.sessions.filter { $0 != screening?.session },
            sources: Array(Set(blocks.values.map(\.1))).sorted())
    }

    /// What the design makes of a table that is not a questionnaire.
    public enum TableRole: String, Sendable {
        case participantTable = "participant table"
        case taskLog = "TaskLog"
    }

    /// The one answer to "is this table the participant table or the TaskLog?", for stats and the codebook.
    public func role(of scale: String) -> TableRole? {
        if participantTables.contains(scale) { return .participantTable }
        if taskLogTables.contains(scale) { return .taskLog }
        return nil
    }

    /// The identity of a TaskLog row besides its participant: the session and the task (a participant does
    /// each task of a session once; its `participantdao_id` alone would make every later task a duplicate).
    /// nil for other tables, whose identity is the catalogue's rule.
    public func identityColumns(scale: String, columns: [String]) -> [String]? {
        guard role(of: scale) == .taskLog else { return nil }
        return [taskLogSession, taskLogTask].compactMap { $0.first(where: columns.contains) }
    }

    /// The column dating a table's entries: `date`, or, in a TaskLog without one, its completion date
    /// (`date_completed`, `dateCompleted`, …).
    public func dateColumn(scale: String, columns: [String]) -> String {
        if role(of: scale) == .taskLog, !columns.contains("date"), let d = taskLogDate.first(where: columns.contains) { return d }
        return "date"
    }

    /// The participant column of the design's own tables: the participant table's `id`, TaskLog's
    /// `participantdao_id` (or its other names); nil for other tables.
    public func participantColumn(scale: String, columns: [String]) -> String? {
        switch role(of: scale) {
        case .participantTable: participantID.first(where: columns.contains)
        case .taskLog: taskLogParticipant.first(where: columns.contains)
        case nil: nil
        }
    }

    /// The column naming an entry's session: TaskLog's `session_name` (or its other names), `session` elsewhere.
    public func sessionColumn(scale: String, columns: [String]) -> String {
        if role(of: scale) == .taskLog, let c = taskLogSession.first(where: columns.contains) { return c }
        return "session"
    }

    /// A participant-table boolean: 1 (as mt writes a one-byte boolean), the byte \001 (CSVs written before
    /// that rule), true, True, TRUE or t.
    public static func isTrue(_ cell: String) -> Bool {
        ["\u{1}", "true", "True", "TRUE", "t", "1"].contains(cell.trimmingCharacters(in: .whitespaces))
    }
}
