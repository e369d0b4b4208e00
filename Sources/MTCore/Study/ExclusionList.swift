import Foundation

/// Participant ids to exclude, each with its reason: `--exclude FILE` or a server's `EXCLUDE_IDS`.
///
/// Lines hold ids and ranges (`1020-1026`) separated by commas or spaces; `spam: 20-420` gives the reason of
/// the ids on its line (default "test account"); `#` starts a comment.
public struct ExclusionList: Sendable, Equatable {
    public var ranges: [(lower: Int64, upper: Int64, reason: String)] = []
    public var ids: [String: String] = [:]

    public init() {}

    public static func == (a: ExclusionList, b: ExclusionList) -> Bool {
        a.ids == b.ids && a.ranges.map { "\($0.lower)-\($0.upper):\($0.reason)" } == b.ranges.map { "\($0.lower)-\($0.upper):\($0.reason)" }
    }

    public static func parse(_ text: String, origin: String) throws -> ExclusionList {
        var list = ExclusionList()
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            var reason = "test account"
            if let colon = line.firstIndex(of: ":") {
                reason = line[..<colon].trimmingCharacters(in: .whitespaces)
                line = line[line.index(after: colon)...]
                guard !reason.isEmpty else { throw MTError(.dataError, "\(origin):\(n + 1): an empty reason before ':'") }
            }
            for token in line.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\r" }) {
                let parts = token.split(separator: "-", omittingEmptySubsequences: false)
                if parts.count == 2, let lo = Int64(parts[0]), let hi = Int64(parts[1]), lo <= hi {
                    list.ranges.append((lo, hi, reason))
                } else if !token.contains("-") || Int64(token) != nil {
                    list.ids[String(token)] = list.ids[String(token)] ?? reason
                } else {
                    throw MTError(.dataError, "\(origin):\(n + 1): '\(token)' is neither an id nor a range LOW-HIGH",
                                  hint: "write ids and ranges like: 1, 2, 1020-1026   or   spam: 20-420")
                }
            }
        }
        return list
    }

    /// Why `id` is excluded, or nil.
    public func reason(for id: String) -> String? {
        if let r = ids[id] { return r }
        if let n = Int64(id), let r = ranges.first(where: { n >= $0.lower && n <= $0.upper }) { return r.reason }
        return nil
    }

    public mutating func add(_ other: ExclusionList) {
        for (k, v) in other.ids where ids[k] == nil { ids[k] = v }
        ranges += other.ranges
    }
}
