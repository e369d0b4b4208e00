import Foundation
import MTCore

/// Builds a believable study from the scale catalogue: participants moving through the catalogue's sessions,
/// every item answered from its valid values (with missing codes and nulls), free text in several languages,
/// participant links encrypted the way the server does it.
///
/// Everything but the RSA ciphertext (PKCS#1 v1.5 padding is random by design) follows from the seed.
public struct StudyGenerator: Sendable {
    public var catalogue: ScaleCatalogue
    public var publicKey: RSAPublicKey
    public var participants: Int
    public var seed: UInt64
    public var firstID: Int64
    /// Dates are written at this offset from UTC (Java's `Z`), in minutes: the real server's
    /// `@JsonFormat(timezone="EST")` is always -0500, with no daylight saving.
    public var offsetMinutes = -300
    /// The first participant's start: Tue, 03 Apr 2018 14:05:09 -0400.
    public var start: Int64 = 1_522_778_709

    public init(catalogue: ScaleCatalogue, publicKey: RSAPublicKey, participants: Int, seed: UInt64, firstID: Int64) {
        self.catalogue = catalogue
        self.publicKey = publicKey
        self.participants = participants
        self.seed = seed
        self.firstID = firstID
    }

    /// Free text as participants type it: accents, CJK, emoji, commas, quotes, newlines, a mistyped year.
    static let freeText = [
        "J'ai peur de l'avion, « vraiment » — même en été.",
        "Perché no? Mi sento così, ogni giorno… \"sempre\".",
        "我很焦虑，因为工作压力很大。",
        "😀👍 okay, \"quoted\", and commas",
        "line one\nline two, with a comma",
        "Ça va. 🙂\r\nWindows line end; semi;colons",
        "naïve café — résumé, déjà vu",
        "Sono stanca, ma va bene 💪",
        "家人和朋友, \"support\" 👨‍👩‍👧",
        "19001987",
        "Tab\tseparated\tthoughts",
        "It's fine, I guess.",
    ]

    static let choices = ["Anxiety", "Depression", "Panic", "OCD", "PTSD", "Phobia", "Autre : épuisement, « burn-out »",
                          "Altro: insonnia", "其他", "None"]

    struct Slot {
        var time: Int64
        var scale: Int
        var participant: Int
        var session: String
    }

    /// The scales generated: the study's (all without one), each with known items.
    public var specs: [ScaleSpec] { catalogue.scalesOfStudy.filter { !$0.items.isEmpty } }

    public func generate() throws -> [SimScale] {
        let specs = self.specs
        let sessions = catalogue.sessions
        guard !specs.isEmpty else { throw MTError(.config, "the scale catalogue \(catalogue.sources.joined(separator: ", ")) has no scales") }
        guard !sessions.isEmpty else { throw MTError(.config, "the scale catalogue \(catalogue.sources.joined(separator: ", ")) lists no sessions") }
        var rng = SimRandom(seed: seed, stream: "study")
        // Which sessions each questionnaire is given in.
        let plan: [[String]] = specs.map { spec in
            var picked = sessions.filter { _ in rng.chance(0.35) }
            // A screening table (one that keeps a sessionId) is always given at screening.
            if spec.carriesSessionID && sessions.contains(Self.screening) && !picked.contains(Self.screening) {
                picked.insert(Self.screening, at: 0)
            }
            return picked.isEmpty ? [sessions[Int(rng.next() % UInt64(sessions.count))]] : picked
        }
        var slots: [Slot] = []
        for p in 0..<participants {
            let begin = start + Int64(p) * 5_400 + Int64(rng.next() % 86_400)
            // Half finish the study; the others drop out somewhere.
            let reached = rng.chance(0.5) ? sessions.count : 1 + Int(rng.next() % UInt64(sessions.count))
            for (s, session) in sessions.prefix(reached).enumerated() {
                let sessionTime = begin + Int64(s) * 7 * 86_400 + Int64(rng.next() % 172_800)
                for (k, sessionsOfScale) in plan.enumerated() where sessionsOfScale.contains(session) && rng.chance(0.9) {
                    let t = sessionTime + Int64(rng.next() % 3_600)
                    // Screenings before an account exists: the server stores them with no participant, told
                    // apart by sessionId (only tables that have one).
                    if session == Self.screening && specs[k].carriesSessionID && rng.chance(0.3) {
                        slots.append(Slot(time: t - 600, scale: k, participant: 0, session: session))
                    }
                    slots.append(Slot(time: t, scale: k, participant: p + 1, session: session))
                    // Screenings are sometimes repeated (the last one counts).
                    if s == 0 && rng.chance(0.1) {
                        slots.append(Slot(time: t + 3_600 + Int64(rng.next() % 600), scale: k, participant: p + 1, session: session))
                    }
                }
            }
        }
        slots.sort { ($0.time, $0.scale, $0.participant) < ($1.time, $1.scale, $1.participant) }
        var entries = Array(repeating: [SimEntry](), count: specs.count)
        for (n, slot) in slots.enumerated() {
            let entry = try makeEntry(specs[slot.scale], id: firstID + Int64(n), time: slot.time,
                                      participant: slot.participant, session: slot.session, random: &rng)
            entries[slot.scale].append(entry)
        }
        return specs.enumerated().map { k, s in SimScale(name: s.name, deleteable: s.deleteable, entries: entries[k]) }
    }

    /// The session whose answers may come before a participant exists (anonymous screenings).
    static let screening = "ELIGIBLE"

    /// One entry of `spec` with every item answered; participant 0 is an anonymous screening (no participant).
    func makeEntry(_ spec: ScaleSpec, id: Int64, time: Int64, participant: Int, session: String,
                   random rng: inout SimRandom) throws -> SimEntry {
        var fields: [(String, JSONValue)] = [("id", .int(id)), ("date", .string(JavaDate.format(time, offsetMinutes: offsetMinutes)))]
        if participant == 0 {
            fields.append((spec.participant ?? "participantRSA", .null))
        } else if let column = spec.participant, !column.hasSuffix("RSA") {
            fields.append((column, .int(participant)))
        } else {
            fields.append((spec.participant ?? "participantRSA", .string(try publicKey.encryptField(String(participant)))))
        }
        if spec.carriesSessionID {
            // A servlet session id: 32 upper-case hex digits.
            fields.append(("sessionId", .string((0..<4).map { _ in String(format: "%08X", UInt32(truncatingIfNeeded: rng.next())) }.joined())))
        }
        if spec.metadata.contains("over18") {
            // "N/A" unless the answer was given at eligibility (the class's default).
            fields.append(("over18", .string(session == Self.screening ? (rng.chance(0.9) ? "true" : "false") : "N/A")))
        }
        fields.append(("session", .string(session)))
        fields.append(("tag", rng.chance(0.2) ? .string(["pre", "post", "followup"][Int(rng.next() % 3)]) : .null))
        // Two decimals, trailing zero kept: exact number text must survive the export.
        fields.append(("timeOnPage", .number("\(rng.next() % 300).\(String(format: "%02d", Int(rng.next() % 100)))")))
        for item in spec.items { fields.append((item, value(spec.rule(for: item), &rng))) }
        let raw = JSONWriter.bytes(.object(fields))
        return SimEntry(id: id, time: time, raw: raw)
    }

    func value(_ rule: ValueRule?, _ rng: inout SimRandom) -> JSONValue {
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        guard let rule else { return text(&rng) }
        switch rule.check {
        case let .range(lo, hi, codes):
            if rng.chance(0.04) { return .null }
            if !codes.isEmpty && rng.chance(0.06) { return .int(pick(codes)) }
            return .int(lo + Int(rng.next() % UInt64(hi - lo + 1)))
        case .values(let allowed):
            if allowed.isEmpty || rng.chance(0.04) { return .null }
            let v = pick(allowed)
            if v == "true" || v == "false" { return .bool(v == "true") }
            if Int(v) != nil { return .number(v) }
            return .string(v)
        case .text:
            return text(&rng)
        case .list:
            if rng.chance(0.05) { return .null }
            let n = Int(rng.next() % 4)
            return .array((0..<n).map { _ in .string(pick(Self.choices)) })
        }
    }

    func text(_ rng: inout SimRandom) -> JSONValue {
        if rng.chance(0.08) { return .null }
        if rng.chance(0.08) { return .string("") }
        return .string(Self.freeText[Int(rng.next() % UInt64(Self.freeText.count))])
    }
}

/// New entries over time (`--arrivals`, `POST /__sim/arrivals`), dated now, with ids from the shared generator.
public final class ArrivalGenerator: Sendable {
    let generator: StudyGenerator
    let store: EntryStore
    let specs: [ScaleSpec]
    private let random: Locked<SimRandom>

    /// Arrivals go to the catalogue's scales that the store serves.
    public init(generator: StudyGenerator, store: EntryStore) {
        self.generator = generator
        self.store = store
        let served = Set(store.list().map(\.name))
        specs = generator.specs.filter { served.contains($0.name) }
        random = Locked(SimRandom(seed: generator.seed, stream: "arrivals"))
    }

    /// Adds `n` entries spread over the scales; returns their scales and ids.
    public func arrive(_ n: Int) throws -> [(scale: String, id: Int64)] {
        guard n > 0, !specs.isEmpty else { return [] }
        let sessions = generator.catalogue.sessions.isEmpty ? ["SESSION1"] : generator.catalogue.sessions
        let now = Int64(Date().timeIntervalSince1970)
        let ids = store.takeIDs(n)
        let made: [(String, SimEntry)] = try random.withLock { rng in
            try ids.map { id in
                let spec = specs[Int(rng.next() % UInt64(specs.count))]
                let participant = 1 + Int(rng.next() % UInt64(max(generator.participants, 1)))
                let session = sessions[Int(rng.next() % UInt64(sessions.count))]
                return (spec.name, try generator.makeEntry(spec, id: id, time: now, participant: participant,
                                                           session: session, random: &rng))
            }
        }
        store.add(made.map { (scale: $0.0, entry: $0.1) })
        return made.map { ($0.0, $0.1.id) }
    }
}

extension ScaleSpec {
    /// Tables whose class keeps a `sessionId` (catalogue `metadata`), which links screenings answered before
    /// an account exists.
    var carriesSessionID: Bool { metadata.contains("sessionId") }
}
