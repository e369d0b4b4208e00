import Foundation

/// Sizes in configuration and messages: binary units, as `ls -h` and `df -h` show them.
public enum ByteSize {
    /// Far above any real study's scale, low enough that a runaway answer stops before it fills a disk.
    public static let defaultMaxResponse: Int64 = 4 << 30

    /// `1048576`, `512K`, `500M`, `4G`, `1T`, also with `B` or `iB` after the unit (`4GiB`); nil otherwise.
    public static func parse(_ text: String) -> Int64? {
        var s = text.trimmingCharacters(in: .whitespaces).uppercased()
        if s.hasSuffix("IB") { s.removeLast(2) } else if s.hasSuffix("B") { s.removeLast() }
        var shift: Int64 = 0
        switch s.last {
        case "K": shift = 10
        case "M": shift = 20
        case "G": shift = 30
        case "T": shift = 40
        default: break
        }
        if shift > 0 { s.removeLast() }
        guard !s.isEmpty, s.allSatisfy(\.isASCII), let n = Int64(s), n >= 0, n <= (Int64.max >> shift) else { return nil }
        return n << shift
    }

    /// `4 GiB`, `1.5 MiB`, `300 bytes`.
    public static func text(_ n: Int64) -> String {
        let units = [(Int64(1) << 40, "TiB"), (Int64(1) << 30, "GiB"), (Int64(1) << 20, "MiB"), (Int64(1) << 10, "KiB")]
        for (size, unit) in units where n >= size {
            let whole = n / size, tenth = (n % size) * 10 / size
            return tenth == 0 ? "\(whole) \(unit)" : "\(whole).\(tenth) \(unit)"
        }
        return "\(n) bytes"
    }
}
