import Foundation

/// `ledger/withdrawals.tsv`: what `mt withdraw` removed, append-only and fsynced (see ARCHITECTURE.md,
/// "Withdrawals"). Two kinds of line:
/// - an entry, `<UTC time>\tentry\t<participant HMAC or ->\t<scale>\t<id>\t<content hash>\t<archive>`, written
///   before anything is removed, so that export and recover leave the entry out from then on;
/// - an archive, `<UTC time>\tarchive\t<archive>\t<old SHA-256>\t<new SHA-256>`, once the archive rewritten
///   without the participant's entries has replaced the old file.
public struct WithdrawalLedger: Sendable {
    public struct Entry: Sendable, Equatable, Hashable {
        public var participant: String
        public var scale: String
        public var id: Int64
        public var hash: UInt64
        public var archive: String

        public init(participant: String, scale: String, id: Int64, hash: UInt64, archive: String) {
            self.participant = participant
            self.scale = scale
            self.id = id
            self.hash = hash
            self.archive = archive
        }
    }

    public struct Replacement: Sendable, Equatable {
        public var archive: String
        public var oldSHA256: String
        public var newSHA256: String
        public var line: Int
    }

    public let path: String
    public init(layout: DataLayout) { path = layout.withdrawals }

    /// What the deletion ledger names as the "archive" of a withdrawn entry export deletes: no archive holds it.
    public static let deletionArchive = "withdrawn"

    static func hex(_ h: UInt64) -> String { let s = String(h, radix: 16); return String(repeating: "0", count: 16 - s.count) + s }

    public func record(_ entries: [Entry], now: Date = Date()) throws {
        guard !entries.isEmpty else { return }
        let stamp = UTCTime.iso8601(now)
        var text = ""
        for e in entries { text += "\(stamp)\tentry\t\(e.participant)\t\(e.scale)\t\(e.id)\t\(Self.hex(e.hash))\t\(e.archive)\n" }
        try FileSystem.makeDirectories((path as NSString).deletingLastPathComponent)
        try FileSystem.appendLinesDurably(Array(text.utf8), to: path)
    }

    public func recordReplacement(archive: String, old: String, new: String, now: Date = Date()) throws {
        try FileSystem.makeDirectories((path as NSString).deletingLastPathComponent)
        try FileSystem.appendLinesDurably(Array("\(UTCTime.iso8601(now))\tarchive\t\(archive)\t\(old)\t\(new)\n".utf8), to: path)
    }

    /// Every line; a torn last line (a kill mid-append) is skipped.
    public func read() throws -> (entries: [Entry], replacements: [Replacement]) {
        guard FileSystem.exists(path) else { return ([], []) }
        var entries: [Entry] = []
        var replacements: [Replacement] = []
        for (n, line) in try FileSystem.readString(path).split(separator: "\n").enumerated() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if f.count == 7, f[1] == "entry", let id = Int64(f[4]), f[5].count == 16, let h = UInt64(f[5], radix: 16) {
                entries.append(Entry(participant: f[2], scale: f[3], id: id, hash: h, archive: f[6]))
            } else if f.count == 5, f[1] == "archive", f[3].count == 64, f[4].count == 64 {
                replacements.append(Replacement(archive: f[2], oldSHA256: f[3], newSHA256: f[4], line: n + 1))
            }
        }
        return (entries, replacements)
    }

    /// scale → withdrawn ids: what export drops from answers and recover never writes.
    public func withdrawnIDs() throws -> [String: Set<Int64>] {
        var out: [String: Set<Int64>] = [:]
        for e in try read().entries { out[e.scale, default: []].insert(e.id) }
        return out
    }
}

/// HMAC-SHA-256 (RFC 2104): how a withdrawn participant is named in the ledger, never by the id itself.
public enum HMACSHA256 {
    public static func hex(key: [UInt8], message: [UInt8]) -> String {
        var k = key.count > 64 ? SHA256.digest(key) : key
        k += [UInt8](repeating: 0, count: 64 - k.count)
        let inner = SHA256.digest(k.map { $0 ^ 0x36 } + message)
        return SHA256.hex(k.map { $0 ^ 0x5C } + inner)
    }
}
