import Foundation
import MTCore

/// The study-level tables a generated study needs for `mt stats flow`: the participant table
/// (ParticipantExportDAO, as r34 exports it: booleans as the byte \001 or \000, the arm in cbmCondition and
/// prime, some admins and under-18s), TaskLog rows for the sessions each participant reached, and DASS21_AS
/// screenings: anonymous ones (empty session, no participant, told apart by sessionId, some submitted twice)
/// and ELIGIBLE ones per participant, some repeated (the last one counts).
///
/// Test accounts are listed in `test_accounts.txt` beside the study, in the format of `mt stats flow --exclude`.
public struct StudyTables: Sendable {
    public static let testAccountsFile = "test_accounts.txt"
    static let tasks = ["Intro", "Questionnaires", "Training", "Outro"]

    public var generator: StudyGenerator
    public var design: StudyDesign

    public init(generator: StudyGenerator) throws {
        self.generator = generator
        design = try StudyDesign.load(catalogue: generator.catalogue)
    }

    /// Adds the tables to `scales` (screenings go into the screening scale when the study has one) and returns
    /// the ids of the test accounts. A catalogue without a `studies:` block gets none of them.
    public func add(to scales: inout [SimScale]) throws -> [Int] {
        guard let participantTable = design.participantTables.first, let taskLog = design.taskLogTables.first else { return [] }
        var rng = SimRandom(seed: generator.seed, stream: "study tables")
        var nextID = (scales.flatMap(\.entries).map(\.id).max() ?? generator.firstID - 1) + 1
        func takeID() -> Int64 { defer { nextID += 1 }; return nextID }
        let n = generator.participants
        let date = { (t: Int64) in JSONValue.string(JavaDate.format(t, offsetMinutes: generator.offsetMinutes)) }
        func byte(_ b: Bool) -> JSONValue { .string(b ? "\u{1}" : "\u{0}") }

        var testAccounts: [Int] = []
        var people: [SimEntry] = []
        var log: [SimEntry] = []
        for p in 1...max(n, 1) where n > 0 {
            let begin = generator.start + Int64(p) * 5_400
            let test = rng.chance(0.1)
            if test { testAccounts.append(p) }
            let admin = rng.chance(0.06), adult = !rng.chance(0.06)
            // Sessions reached: some never start, half finish, the others stop somewhere.
            let reached = rng.chance(0.15) ? 0
                : (rng.chance(0.5) ? design.sessions.count : 1 + Int(rng.next() % UInt64(max(design.sessions.count, 1))))
            let cbm = rng.chance(0.5) ? "POSITIVE" : "FIFTY_FIFTY"
            let fields: [(String, JSONValue)] = [
                ("id", .int(p)), ("theme", .string(["blue", "green"][p % 2])), ("study", .string("r34")),
                ("cbmCondition", .string(cbm)), ("prime", .string("ANXIETY")),
                ("admin", byte(admin)), ("emailOptout", byte(rng.chance(0.2))), ("active", byte(true)),
                ("increase30", byte(rng.chance(0.3))), ("over18", byte(adult)),
                ("lastLogin", date(begin + Int64(reached) * 7 * 86_400)),
                ("currentSession", .string(reached == 0 ? (design.sessions.first ?? "PRE")
                                           : design.sessions[min(reached, design.sessions.count) - 1])),
            ]
            people.append(SimEntry(id: Int64(p), time: nil, raw: JSONWriter.bytes(.object(fields))))
            for (s, session) in design.sessions.prefix(reached).enumerated() {
                // The last session reached is sometimes left half done.
                let done = s == reached - 1 && rng.chance(0.3) ? 1 + Int(rng.next() % UInt64(Self.tasks.count - 1)) : Self.tasks.count
                for (k, task) in Self.tasks.prefix(done).enumerated() {
                    let t = begin + Int64(s) * 7 * 86_400 + Int64(k) * 600
                    let id = takeID()
                    log.append(SimEntry(id: id, time: t, raw: JSONWriter.bytes(.object([
                        ("id", .int(id)), ("participantdao_id", .int(p)), ("session_name", .string(session)),
                        ("task_name", .string(task)), ("date_completed", date(t)),
                    ]))))
                }
            }
        }
        scales.append(SimScale(name: participantTable, deleteable: false, entries: people))
        scales.append(SimScale(name: taskLog, deleteable: false, entries: log))

        if let sc = design.screening, let k = scales.firstIndex(where: { $0.name == sc.scale }),
           let spec = generator.catalogue.spec(for: sc.scale) {
            var screenings: [SimEntry] = []
            // Anonymous screenings of people who never made an account.
            for a in 0..<(n + n / 2) {
                let t = generator.start - 86_400 + Int64(a) * 3_000
                let sessionId = "anon-\(a + 1)"
                let copies = rng.chance(0.15) ? 2 : 1
                for c in 0..<copies {
                    screenings.append(try screening(spec, id: takeID(), time: t + Int64(c) * 60, participant: nil,
                                                    sessionId: sessionId, rng: &rng))
                }
            }
            // ELIGIBLE screenings of the participants, some repeated.
            for p in 1...max(n, 1) where n > 0 {
                let t = generator.start + Int64(p) * 5_400 - 3_600
                let copies = rng.chance(0.25) ? 2 + Int(rng.next() % 2) : 1
                for c in 0..<copies {
                    screenings.append(try screening(spec, id: takeID(), time: t + Int64(c) * 300, participant: p,
                                                    sessionId: "p\(p)-\(c + 1)", rng: &rng))
                }
            }
            scales[k].entries += screenings
        }
        try Self.renumber(&scales, except: participantTable, from: generator.firstID)
        return testAccounts
    }

    /// Ids again from one generator in date order across every table, as a server's sequence gives them (the
    /// screenings come before the entries they were added after); the participant table keeps the participants'
    /// own ids.
    static func renumber(_ scales: inout [SimScale], except keep: String, from firstID: Int64) throws {
        var order: [(time: Int64, id: Int64, scale: Int, entry: Int)] = []
        for (s, scale) in scales.enumerated() where scale.name != keep {
            for (e, entry) in scale.entries.enumerated() { order.append((entry.time ?? .max, entry.id, s, e)) }
        }
        order.sort { ($0.time, $0.id) < ($1.time, $1.id) }
        for (n, o) in order.enumerated() {
            let id = firstID + Int64(n)
            var entry = scales[o.scale].entries[o.entry]
            guard case .object(var fields) = try JSONParser.parse(entry.raw) else { continue }
            if let i = fields.firstIndex(where: { $0.0 == "id" }) { fields[i].1 = .int(id) }
            entry.id = id
            entry.raw = JSONWriter.bytes(.object(fields))
            scales[o.scale].entries[o.entry] = entry
        }
        for s in scales.indices where scales[s].name != keep { scales[s].entries.sort { $0.id < $1.id } }
    }

    /// One screening entry of `spec` (anonymous when `participant` is nil), with the study's screening session.
    func screening(_ spec: ScaleSpec, id: Int64, time: Int64, participant: Int?, sessionId: String,
                   rng: inout SimRandom) throws -> SimEntry {
        let made = try generator.makeEntry(spec, id: id, time: time, participant: participant ?? 0,
                                           session: design.screening?.session ?? "ELIGIBLE", random: &rng)
        guard case .object(var fields) = try JSONParser.parse(made.raw) else { return made }
        for i in fields.indices {
            switch fields[i].0 {
            case "session" where participant == nil: fields[i].1 = .string("")
            case "tag": fields[i].1 = .null
            case let name where participant == nil && generator.catalogue.participantColumns.contains(name):
                fields[i].1 = .null
            default: break
            }
        }
        fields.append(("sessionId", .string(sessionId)))
        return SimEntry(id: id, time: time, raw: JSONWriter.bytes(.object(fields)))
    }

    /// Writes the test-account list beside the study.
    public static func writeTestAccounts(_ ids: [Int], to directory: String) throws {
        let text = "# test accounts of the generated study (mt stats flow --exclude FILE)\n"
            + ids.map(String.init).joined(separator: ", ") + "\n"
        try FileSystem.writeAtomically(Array(text.utf8), to: directory + "/" + testAccountsFile, mode: 0o644)
    }
}
