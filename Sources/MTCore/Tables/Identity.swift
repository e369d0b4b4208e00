/// The identity of an answer (mt-stats(1), "duplicates"; the original's rule): participant + `session` + `tag` (+ `sessionId`
/// when present); else participant + `session` + `trial_index` when present; else participant + `session`;
/// with no `session`, participant alone. "Present" means the table has the column. dedupe, score, wide, the
/// summary's duplicate count and the dataset all use this one rule; the study design's TaskLog has its own.
public struct IdentityRule: Sendable {
    /// Table columns of the key besides the participant, in order.
    public let columns: [Int]
    public let names: [String]
    /// The participant column(s) as found, for messages.
    public let participant: String

    /// `design`: the study's own tables keep the identity the design gives them (TaskLog: session + task).
    public init(table: StatsTable, design: StudyDesign? = nil) {
        participant = table.participantNames.isEmpty ? "participant" : table.participantNames.joined(separator: "/")
        func col(_ n: String) -> Int? { table.column(n) }
        var names: [String]
        if let own = design?.identityColumns(scale: table.scale, columns: table.columns) {
            names = own
        } else if col("session") == nil {
            names = []
        } else if col("tag") != nil {
            names = ["session", "tag"]
            if col("sessionId") != nil { names.append("sessionId") }
        } else if col("trial_index") != nil {
            names = ["session", "trial_index"]
        } else {
            names = ["session"]
        }
        self.names = names
        columns = names.map { col($0)! }
    }

    /// "participant + session + tag", as help and warnings print it.
    public var description: String { ([participant] + names).joined(separator: " + ") }

    /// The key of `row`, built in `scratch` (fields joined by the unit separator, which CSV text never needs).
    public func key(_ row: TableRow, scratch: inout [UInt8]) -> String {
        fill(row, into: &scratch)
        return String(decoding: scratch, as: UTF8.self)
    }

    /// The key's bytes, in `scratch`; returns the participant's length (the key's prefix).
    @inline(__always)
    @discardableResult
    public func fill(_ row: TableRow, into scratch: inout [UInt8]) -> Int {
        scratch.removeAll(keepingCapacity: true)
        if row.participantField >= 0 && row.participantField < row.raw.count {
            row.raw.withField(row.participantField) { scratch.append(contentsOf: $0) }
        }
        let participantLength = scratch.count
        for c in columns {
            scratch.append(0x1F)
            row.withBytes(c) { scratch.append(contentsOf: $0) }
        }
        return participantLength
    }
}
