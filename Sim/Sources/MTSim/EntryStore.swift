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
    }

    private let state: Locked<State>
    public let ledgerPath: String?

    public init(scales: [SimScale], ledgerPath: String?, firstID: Int64 = 1) {
        let maxID = scales.flatMap(\.entries).map(\.id).max() ?? (firstID - 1)
        state = Locked(State(tables: scales.map(Table.init), nextID: max(firstID, maxID + 1)))
        self.ledgerPath = ledgerPath
    }

    /// `(name, size, deleteable)` per scale, in a stable order.
    public func list() -> [(name: String, size: Int, deleteable: Bool)] {
        state.withLock { s in s.tables.map { ($0.name, $0.live, $0.deleteable) } }
    }

    /// The JSON array of a scale's entries newer than `after` (all when nil); nil for an unknown scale.
    /// Entries without a readable date are always included: a filter must never hide data.
    public func body(of scale: String, after: Int64?) -> [UInt8]? {
        let picked: [SimEntry]? = state.withLock { s in
            guard let t = s.tables.first(where: { $0.name == scale }) else { return nil }
            return t.slots.compactMap { e in
                guard let e else { return nil }
                if let after, let time = e.time, time <= after { return nil }
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
            guard let k = s.tables[t].index[id] else { return .unknownEntry }
            guard s.tables[t].deleteable else { return .notDeleteable }
            if let ledgerPath {
                do { try FileSystem.appendDurably(Array("\(scale)\t\(id)\n".utf8), to: ledgerPath, mode: 0o644) } catch {
                    return .ledgerFailed("\(error)")
                }
            }
            s.tables[t].remove(at: k)
            return .deleted
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
    public func add(_ entries: [(scale: String, entry: SimEntry)]) {
        state.withLock { s in
            for (scale, e) in entries {
                if let t = s.tables.firstIndex(where: { $0.name == scale }) {
                    s.tables[t].append(e)
                } else {
                    s.tables.append(Table(SimScale(name: scale, deleteable: true, entries: [e])))
                }
                s.nextID = max(s.nextID, e.id + 1)
            }
        }
    }

    public var entryCount: Int { state.withLock { $0.tables.reduce(0) { $0 + $1.live } } }
}
