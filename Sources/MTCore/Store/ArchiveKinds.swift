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

public struct ArchiveKindLedger: Sendable {
    public let path: String
    public init(layout: DataLayout) { path = layout.archiveKinds }

    public func append(archive: String, kind: ArchiveKind) throws {
        try FileSystem.appendLinesDurably(Array("\(archive)\t\(kind)\n".utf8), to: path)
    }

    /// archive file name → kind. Lines that are not `<archive>\t<kind>` (a torn last line) are ignored.
    public func read() throws -> [String: ArchiveKind] {
        guard FileSystem.exists(path) else { return [:] }
        var out: [String: ArchiveKind] = [:]
        for line in try FileSystem.readString(path).split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 2, ArchiveName.parse(String(f[0])) != nil, let kind = ArchiveKind(String(f[1])) else { continue }
            out[String(f[0])] = kind
        }
        return out
    }
}
