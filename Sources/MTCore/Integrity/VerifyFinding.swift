/// One thing `mt verify` found wrong: what, where (file, line, id), and what to run about it.
public struct VerifyFinding: Sendable, Equatable {
    /// Stable words scripts can match on (`--json` prints them).
    public enum Kind: String, Sendable {
        case archiveUnreadable = "archive-unreadable"
        case archiveCorrupt = "archive-corrupt"
        case archiveNotJSON = "archive-json"
        case archiveEntries = "archive-entries"
        case checksumMismatch = "checksum-mismatch"
        case checksumMissing = "checksum-missing"
        case archiveMissing = "archive-missing"
        case ledgerUnreadable = "ledger-unreadable"
        case deletionUnarchived = "deletion-unarchived"
        case csvMissing = "csv-missing"
        case csvDuplicate = "csv-duplicate"
        case contentDiffers = "content-differs"
        case csvUnreadable = "csv-parse"
        case csvColumns = "csv-columns"
        case csvOriginal = "csv-original"
        case csvControl = "csv-control"
        case shelveArchive = "archive-shelve"
        case ciphertextLeft = "ciphertext-left"
        case benchmarkUnreadable = "benchmark-unreadable"
        case benchmarkMissing = "benchmark-missing"
        case benchmarkBehind = "benchmark-behind"
        case permissions = "permissions"
        case remoteRemains = "remote-remains"
        case contentsLost = "contents-lost"
        case withdrawnPresent = "withdrawn-present"
        case withdrawalUnfinished = "withdrawal-unfinished"
        case scaleVanished = "scale-vanished"
    }

    public var kind: Kind
    /// The file (or folder) concerned, absolute.
    public var path: String
    /// 1-based line in `path`, when the finding is about one line.
    public var line: Int?
    public var scale: String?
    public var id: Int64?
    public var message: String
    /// What to run or do about it.
    public var hint: String
    /// An export held the lock while this was checked, and this kind of finding is what a run leaves for a
    /// moment (an archive before its ledger line, rows not yet appended, a mark not yet moved).
    public var mayBeInProgress = false

    public init(_ kind: Kind, path: String, line: Int? = nil, scale: String? = nil, id: Int64? = nil,
                message: String, hint: String) {
        self.kind = kind
        self.path = path
        self.line = line
        self.scale = scale
        self.id = id
        self.message = message
        self.hint = hint
    }

    /// `path[:line]: message` then the hint, as the console shows it.
    public var text: String {
        let wip = mayBeInProgress ? " (may be work in progress: an export is running)" : ""
        return Untrusted.message("\(kind.rawValue)\(wip): \(path)\(line.map { ":\($0)" } ?? ""): \(Untrusted.line(message))\n  fix: \(Untrusted.line(hint))")
    }

    /// Kinds a running export produces for a moment, and so may be its work in progress.
    public static let transientKinds: Set<Kind> = [
        .checksumMissing, .csvMissing, .csvUnreadable, .benchmarkBehind, .benchmarkMissing, .remoteRemains,
    ]

    public var json: JSONValue {
        .object([
            ("kind", .string(kind.rawValue)),
            ("path", .string(path)),
            ("line", line.map { .int($0) } ?? .null),
            ("scale", .optionalString(scale)),
            ("id", id.map { .int($0) } ?? .null),
            ("message", .string(message)),
            ("hint", .string(hint)),
            ("mayBeInProgress", .bool(mayBeInProgress)),
        ])
    }
}
