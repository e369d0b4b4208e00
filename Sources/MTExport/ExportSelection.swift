import Foundation
import MTCore

/// What `mt export` was asked to do, after the command parsed its arguments.
struct ExportOptions: Sendable, Equatable {
    /// `nil` or `.` = every READY server; otherwise one server name.
    var server: String?
    var scales: ScaleSelector
    var dryRun = false
    var noDelete = false
    /// Overrides the servers' CONCURRENCY.
    var concurrency: Int?
    /// `--after STAMP` for every selected scale (overrides the automatic one).
    var after: AfterStamp?

    init(server: String? = nil, scales: ScaleSelector = .deleteable) {
        self.server = server
        self.scales = scales
    }
}

/// The second positional argument of `mt export`.
enum ScaleSelector: Sendable, Equatable, CustomStringConvertible {
    /// `.` (default): deleteable scales only, the 5-minute run.
    case deleteable
    /// `static`: non-deleteable scales only, the daily run.
    case nonDeleteable
    /// `all`: both.
    case all
    /// Exactly this scale.
    case named(String)

    init(argument: String?) {
        switch argument {
        case nil, "."?: self = .deleteable
        case "static"?: self = .nonDeleteable
        case "all"?: self = .all
        case let name?: self = .named(name)
        }
    }

    func includes(_ scale: ScaleInfo) -> Bool {
        switch self {
        case .deleteable: scale.deleteable
        case .nonDeleteable: !scale.deleteable
        case .all: true
        case .named(let n): scale.name == n
        }
    }

    var description: String {
        switch self {
        case .deleteable: "."
        case .nonDeleteable: "static"
        case .all: "all"
        case .named(let n): n
        }
    }
}
