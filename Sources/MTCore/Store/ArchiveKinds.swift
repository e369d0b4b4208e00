import Foundation

/// What an archive holds, recorded when it is made (`raw_data/ARCHIVES.tsv`, append-only, fsynced):
/// `<archive>\t<kind>\n`, kind `full` (a whole non-deleteable scale), `after=<stamp>` (a non-deleteable scale
/// asked with after=: only rows dated later, in the server's zone), or `batch` (a deleteable scale: the rows on
/// the server at that moment; the earlier ones were deleted). The original tool's archives have no record.
public enum ArchiveKind: Sendable, Equatable, CustomStringConvertible {
    case full
    case after(String)
    case batch

    public var description: String {
        switch self {
        case .full: "full"
        case .after(let stamp): "after=" + stamp
        case .batch: "batch"
        }
    }

    public init?(_ text: String) {
        switch text {
        case "full": self = .full
        case "batch": self = .batch
        default:
            guard text.hasPrefix("after="), AfterStamp(String(text.dropFirst(6))) != nil else { return nil }
            self = .after(String(text.dropFirst(6)))
        }
    }
}

/// `raw_data/ARCHIVES.tsv`: `<archive>\t<kind>\t<sequence>\n` per archive, appended and fsynced when the archive is
/// kept. The sequence only grows: it is the order archives were made in, which every "oldest", "newest" and
/// "earlier" of the data directory follows (`DataLayout.archives()`), because the time in a name is the wall
/// clock's, and wall clocks step backwards. Lines of older versions have no sequence (see `order`).
public struct ArchiveKindLedger: Sendable {
    public struct Record: Sendable, Equatable {
        public var kind: ArchiveKind
        public var sequence: Int64?
    }

    public let path: String
    public init(layout: DataLayout) { path = layout.archiveKinds }

    /// Records a new archive with the next sequence number (one past the highest recorded); returns it.
    @discardableResult
    public func append(archive: String, kind: ArchiveKind) throws -> Int64 {
        let next = (try records().values.compactMap(\.sequence).max() ?? 0) + 1
        try FileSystem.appendLinesDurably(Array("\(archive)\t\(kind)\t\(next)\n".utf8), to: path)
        return next
    }

    /// archive file name → kind.
    public func read() throws -> [String: ArchiveKind] { try records().mapValues(\.kind) }

    /// archive file name → kind and sequence. Lines that are not `<archive>\t<kind>[\t<sequence>]` (a torn last
    /// line) are ignored.
    public func records() throws -> [String: Record] {
        guard FileSystem.exists(path) else { return [:] }
        var out: [String: Record] = [:]
        for line in try FileSystem.readString(path).split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 2 || f.count == 3, ArchiveName.parse(String(f[0])) != nil, let kind = ArchiveKind(String(f[1])) else { continue }
            var sequence: Int64?
            if f.count == 3 {
                guard let n = Int64(f[2]), n > 0 else { continue }
                sequence = n
            }
            out[String(f[0])] = Record(kind: kind, sequence: sequence)
        }
        return out
    }

    /// The archives in the order they were made: those with a sequence by it, after every archive without one
    /// (the original tool's, and those of versions before the sequence), which are ordered by the time in their
    /// names, the best that is known of them.
    public func order(_ archives: [ArchiveName]) throws -> [ArchiveName] {
        let records = try records()
        return archives.map { ($0, records[$0.fileName]?.sequence) }.sorted { a, b in
            switch (a.1, b.1) {
            case let (x?, y?): x != y ? x < y : a.0.fileName < b.0.fileName
            case (nil, _?): true
            case (_?, nil): false
            case (nil, nil): a.0 < b.0
            }
        }.map(\.0)
    }
}
