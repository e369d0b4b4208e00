import Foundation
import MTCore

/// What a DELETE did.
public enum DeleteOutcome: Sendable, Equatable {
    case deleted
    case notDeleteable
    case unknownScale
    case unknownEntry
    case ledgerFailed(String)
}

/// The served study, shared by every connection. A delete checks, writes its ledger line (flushed to disk) and
/// removes the entry under one lock, so of concurrent deletes of one id exactly one succeeds and the ledger never
/// misses a deleted id.
public final class EntryStore: Sendable {
    struct Table {
        var name: String
        var deleteable: Bool
        /// Deleted entries leave a hole (nil) so that `index` stays valid; holes are compacted in bulk.
        var slots: [SimEntry?]
        var index: [Int64: Int]
        var live: Int

        init(_ s: SimScale) {
            name = s.name
            deleteable = s.deleteable
            slots = s.entries
            index = [:]
            for (k, e) in s.entries.enumerated() { index[e.id] = k }
            live = s.entries.count
        }

        mutating func append(_ e: SimEntry) {
            index[e.id] = slots.count
            slots.append(e)
            live += 1
        }

        mutating func remove(at k: Int) {
            if let id = slots[k]?.id { index[id] = nil }
            slots[k] = nil
            live -= 1
            if slots.count > 64 && live * 2 < slots.count {
                slots = slots.filter { $0 != nil }
                index = [:]
                for (k, e) in slots.enumerated() { index[e!.id] = k }
            }
        }
    }

    struct State {
        var tables: [Table]
        var nextID: Int64
        /// Arrived entries not committed yet (a concurrent transaction's rows): id → when they become visible.
        var uncommitted: [Int64: Double] = [:]
        var batches = 0
        var random: SimRandom
    }

    /// How a real server's database misbehaves (`--late-commit`, `--restart-ids`).
    public struct Quirks: Sendable {
        /// With probability `lateRate`, an arriving entry commits `lateSeconds` later than the others of its batch.
        public var lateRate = 0.0
        public var lateSeconds = 0.0
        /// After this many arrival batches the database is rebuilt: every table empty, ids from `firstID` again.
        public var restartAfter: Int?
        /// After this many arrival batches, the scale's deleteable flag flips (the study team changed it).
        public var flips: [(scale: String, after: Int)] = []
        public var seed: UInt64 = 1

        public init() {}
    }

    private let state: Locked<State>
    public let ledgerPath: String?
    let quirks: Quirks
    let firstID: Int64

    public init(scales: [SimScale], ledgerPath: String?, firstID: Int64 = 1, quirks: Quirks = Quirks()) {
        let maxID = scales.flatMap(\.entries).map(\.id).max() ?? (firstID - 1)
        state = Locked(State(tables: scales.map(Table.init), nextID: max(firstID, maxID + 1),
                             random: SimRandom(seed: quirks.seed, stream: "late-commit")))
        self.ledgerPath = ledgerPath
        self.quirks = quirks
        self.firstID = firstID
    }

    /// Whether an entry is committed (visible to every request) at `now`.
    static func visible(_ id: Int64, _ s: State, _ now: Double) -> Bool {
        s.uncommitted[id].map { $0 <= now } ?? true
    }

    /// `(name, size, deleteable)` per scale, in a stable order.
    public func list() -> [(name: String, size: Int, deleteable: Bool)] {
        let now = Date().timeIntervalSince1970
        return state.withLock { s in
            s.tables.map { t in
                let hidden = s.uncommitted.isEmpty ? 0 : t.slots.reduce(0) { $0 + (($1.map { !Self.visible($0.id, s, now) } ?? false) ? 1 : 0) }
                return (t.name, t.live - hidden, t.deleteable)
            }
        }
    }

    /// Which date `after=` compares, as the real ExportController does: `TaskLog` by `dateCompleted`,
    /// `ActionLog` by `date`, other `…Log` tables by `dateSent`, trial summaries (`…Trial…`) not at all (always
    /// everything), every other table (the questionnaires) by `date`.
    public static func afterField(of scale: String) -> KeyPath<SimEntry, Int64?>? {
        if scale == "TaskLog" { return \.completed }
        if scale == "ActionLog" { return \.time }
        if scale.hasSuffix("Log") { return \.sent }
        if scale.contains("Trial") { return nil }
        return \.time
    }

    /// The JSON array of a scale's entries newer than `after` (all when nil); nil for an unknown scale.
    /// Like the real server's `date > ?`, a row whose date is null (or missing) is never newer than `after`.
    public func body(of scale: String, after: Int64?) -> [UInt8]? {
        let field = Self.afterField(of: scale)
        let now = Date().timeIntervalSince1970
        let picked: [SimEntry]? = state.withLock { s in
            guard let t = s.tables.first(where: { $0.name == scale }) else { return nil }
            return t.slots.compactMap { e in
                guard let e, Self.visible(e.id, s, now) else { return nil }
                if let after, let field {
                    guard let time = e[keyPath: field], time > after else { return nil }
                }
                return e
            }
        }
        guard let picked else { return nil }
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(picked.reduce(2) { $0 + $1.raw.count + 1 })
        for (k, e) in picked.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: e.raw)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    public func delete(scale: String, id: Int64) -> DeleteOutcome {
        state.withLock { s in
            guard let t = s.tables.firstIndex(where: { $0.name == scale }) else { return .unknownScale }
            guard let k = s.tables[t].index[id], Self.visible(id, s, Date().timeIntervalSince1970) else { return .unknownEntry }
            guard s.tables[t].deleteable else { return .notDeleteable }
            if let ledgerPath {
                do { try FileSystem.appendDurably(Array("\(scale)\t\(id)\t\(UTCTime.iso8601(Date()))\n".utf8), to: ledgerPath, mode: 0o644) } catch {
                    return .ledgerFailed("\(error)")
                }
            }
            s.tables[t].remove(at: k)
            return .deleted
        }
    }

    /// Replaces every table by `scales` (a study folder read again: a restarted database, a late commit, a
    /// scale whose deleteability changed). The id generator never goes back.
    public func replace(_ scales: [SimScale]) {
        state.withLock { s in
            s.tables = scales.map(Table.init)
            s.nextID = max(s.nextID, (scales.flatMap(\.entries).map(\.id).max() ?? 0) + 1)
        }
    }

    /// Hands out ids from the one generator shared by all scales.
    public func takeIDs(_ n: Int) -> Range<Int64> {
        state.withLock { s in
            let r = s.nextID..<(s.nextID + Int64(n))
            s.nextID += Int64(n)
            return r
        }
    }

    /// Adds new entries (arrivals) to existing scales; entries of unknown scales create them (deleteable).
    /// With quirks, some commit late, and after the configured batch the database restarts.
    public func add(_ entries: [(scale: String, entry: SimEntry)]) {
        let now = Date().timeIntervalSince1970
        state.withLock { s in
            s.uncommitted = s.uncommitted.filter { $0.value > now }
            for (scale, e) in entries {
                if quirks.lateRate > 0 && s.random.chance(quirks.lateRate) { s.uncommitted[e.id] = now + quirks.lateSeconds }
                if let t = s.tables.firstIndex(where: { $0.name == scale }) {
                    s.tables[t].append(e)
                } else {
                    s.tables.append(Table(SimScale(name: scale, deleteable: true, entries: [e])))
                }
                s.nextID = max(s.nextID, e.id + 1)
            }
            s.batches += 1
            for flip in quirks.flips where flip.after == s.batches {
                if let t = s.tables.firstIndex(where: { $0.name == flip.scale }) { s.tables[t].deleteable.toggle() }
            }
            if let n = quirks.restartAfter, s.batches == n {
                // A database rebuilt from nothing: its rows are gone and its id sequence starts over.
                for t in s.tables.indices {
                    s.tables[t].slots = []
                    s.tables[t].index = [:]
                    s.tables[t].live = 0
                }
                s.uncommitted = [:]
                s.nextID = firstID
            }
        }
    }

    public var entryCount: Int { state.withLock { $0.tables.reduce(0) { $0 + $1.live } } }
}
