import Foundation

/// What `mt export` was asked to do, after the command parsed its arguments.
public struct ExportOptions: Sendable, Equatable {
    /// `nil` or `.` = every READY server; otherwise one server name.
    public var server: String?
    public var scales: ScaleSelector
    public var dryRun = false
    public var noDelete = false
    /// Overrides the servers' CONCURRENCY.
    public var concurrency: Int?
    /// `--after STAMP` for every selected scale (overrides the automatic one).
    public var after: AfterStamp?

    public init(server: String? = nil, scales: ScaleSelector = .deleteable) {
        self.server = server
        self.scales = scales
    }
}

/// The second positional argument of `mt export`.
public enum ScaleSelector: Sendable, Equatable, CustomStringConvertible {
    /// `.` (default): deleteable scales only, the 5-minute run.
    case deleteable
    /// `static`: non-deleteable scales only, the daily run.
    case nonDeleteable
    /// `all`: both.
    case all
    /// Exactly this scale.
    case named(String)

    public init(argument: String?) {
        switch argument {
        case nil, "."?: self = .deleteable
        case "static"?: self = .nonDeleteable
        case "all"?: self = .all
        case let name?: self = .named(name)
        }
    }

    public func includes(_ scale: ScaleInfo) -> Bool {
        switch self {
        case .deleteable: scale.deleteable
        case .nonDeleteable: !scale.deleteable
        case .all: true
        case .named(let n): scale.name == n
        }
    }

    public var description: String {
        switch self {
        case .deleteable: "."
        case .nonDeleteable: "static"
        case .all: "all"
        case .named(let n): n
        }
    }
}

/// One row of `GET {api}/export`.
public struct ScaleInfo: Sendable, Equatable {
    public var name: String
    public var size: Int?
    public var deleteable: Bool

    public init(name: String, size: Int? = nil, deleteable: Bool) {
        self.name = name
        self.size = size
        self.deleteable = deleteable
    }
}

/// The server's `after=` parameter: `yyyy-MM-dd-HH-mm-ss`. The real server reads it in its JVM's default zone;
/// mt builds it in UTC and reaches back far enough to cover any zone (documented in mt-export(1)).
public struct AfterStamp: Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let date: Date

    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 6, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              parts[0].count == 4, parts.dropFirst().allSatisfy({ $0.count == 2 }) else { return nil }
        let p = parts.map { Int($0)! }
        guard (1...12).contains(p[1]), (1...31).contains(p[2]), (0...23).contains(p[3]), (0...59).contains(p[4]),
              (0...60).contains(p[5]) else { return nil }
        var tm = tm()
        tm.tm_year = Int32(p[0] - 1900); tm.tm_mon = Int32(p[1] - 1); tm.tm_mday = Int32(p[2])
        tm.tm_hour = Int32(p[3]); tm.tm_min = Int32(p[4]); tm.tm_sec = Int32(p[5])
        self.text = text
        date = Date(timeIntervalSince1970: Double(timegm(&tm)))
    }

    public init(date: Date) {
        var t = time_t(date.timeIntervalSince1970)
        var tm = tm()
        gmtime_r(&t, &tm)
        text = String(format: "%04d-%02d-%02d-%02d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                      tm.tm_hour, tm.tm_min, tm.tm_sec)
        self.date = Date(timeIntervalSince1970: Double(t))
    }

    public var description: String { text }
}
