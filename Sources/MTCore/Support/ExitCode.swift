/// The one exit-code table of every `mt` command (sysexits-style), printed by `mt help` and in mt(1).
public enum ExitCode: Int32, Sendable, CaseIterable, Comparable {
    case ok = 0
    case problems = 1
    case usage = 64
    case dataError = 65
    case noInput = 66
    case unavailable = 69
    case software = 70
    case cantCreate = 73
    case ioError = 74
    case tempFail = 75
    case noPermission = 77
    case config = 78

    public var meaning: String {
        switch self {
        case .ok: "success"
        case .problems: "problems found, or partial success (details were printed)"
        case .usage: "usage error: unknown command or option, bad or missing value"
        case .dataError: "bad input data (not JSON, wrong key, corrupt archive)"
        case .noInput: "an input file or folder does not exist or cannot be read"
        case .unavailable: "a server was unavailable or answered unexpectedly"
        case .software: "internal error (a bug: please report it)"
        case .cantCreate: "an output file or folder cannot be created"
        case .ioError: "input/output error (disk full, read-only file system)"
        case .tempFail: "another run holds the data directory lock; try later"
        case .noPermission: "permission problem (secret readable by others, access denied)"
        case .config: "configuration error"
        }
    }

    /// How bad an outcome is, for runs that report their worst one. Numeric order would put "try later" (75)
    /// above a full disk (74) and a bug (70); this ranks by what the reader must do: nothing, look, wait,
    /// fix the input or the set-up, rescue the data, report a bug.
    public var severity: Int {
        switch self {
        case .ok: 0
        case .problems: 1
        case .tempFail: 2
        case .unavailable: 3
        case .usage: 4
        case .noInput: 5
        case .config: 6
        case .noPermission: 7
        case .cantCreate: 8
        case .dataError: 9
        case .ioError: 10
        case .software: 11
        }
    }

    /// Worse means more severe (see `severity`), not a larger number.
    public static func < (lhs: ExitCode, rhs: ExitCode) -> Bool { lhs.severity < rhs.severity }

    public static func worst(_ codes: [ExitCode]) -> ExitCode { codes.max() ?? .ok }

    /// The table as `mt help` and every command's `--help` print it.
    public static var table: String {
        allCases.map { "  \(String($0.rawValue).padding(toLength: 4, withPad: " ", startingAt: 0))\($0.meaning)" }
            .joined(separator: "\n")
    }
}
