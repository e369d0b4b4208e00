import MTCore

/// The `date` field as the study server's Java code writes it: `EEE, dd MMM yyyy HH:mm:ss Z` in English,
/// e.g. `Tue, 03 Apr 2018 14:05:09 -0400`, and the `after=yyyy-MM-dd-HH-mm-ss` query parameter.
///
/// Hand-written instead of DateFormatter: no locale or time-zone database can change the bytes.
public enum JavaDate {
    static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats seconds since the epoch (UTC) at a fixed offset from UTC in minutes (-240 for -0400).
    public static func format(_ epoch: Int64, offsetMinutes: Int) -> String {
        let local = epoch + Int64(offsetMinutes) * 60
        let dayNumber = floorDiv(local, 86_400)
        let secs = local - dayNumber * 86_400
        let (y, m, d) = civil(fromDays: dayNumber)
        let weekday = days[Int(((dayNumber % 7) + 7) % 7)]
        let sign = offsetMinutes < 0 ? "-" : "+"
        let off = abs(offsetMinutes)
        return "\(weekday), \(pad(d)) \(months[m - 1]) \(y) \(pad(Int(secs / 3600))):\(pad(Int(secs / 60 % 60))):\(pad(Int(secs % 60))) \(sign)\(pad(off / 60))\(pad(off % 60))"
    }

    /// Seconds since the epoch (UTC) of a Java date string, or nil when it is not in that shape.
    public static func parse(_ s: String) -> Int64? {
        let parts = s.split(separator: " ")
        guard parts.count == 6, parts[0].hasSuffix(","),
              let d = Int(parts[1]), let mi = months.firstIndex(of: String(parts[2])), let y = Int(parts[3]) else { return nil }
        let hms = parts[4].split(separator: ":")
        guard hms.count == 3, let h = Int(hms[0]), let mm = Int(hms[1]), let ss = Int(hms[2]) else { return nil }
        let z = Array(parts[5].utf8)
        guard z.count == 5, z[0] == UInt8(ascii: "+") || z[0] == UInt8(ascii: "-"),
              let zh = Int(String(decoding: z[1...2], as: UTF8.self)),
              let zm = Int(String(decoding: z[3...4], as: UTF8.self)) else { return nil }
        let offset = (zh * 60 + zm) * (z[0] == UInt8(ascii: "-") ? -1 : 1)
        guard (1...31).contains(d), (0...23).contains(h), (0...59).contains(mm), (0...60).contains(ss) else { return nil }
        let local = days(fromCivil: y, mi + 1, d) * 86_400 + Int64(h * 3600 + mm * 60 + ss)
        return local - Int64(offset) * 60
    }

    /// The `after=` parameter, `yyyy-MM-dd-HH-mm-ss`, read as UTC.
    public static func parseAfter(_ s: String) -> Int64? {
        let p = s.split(separator: "-", omittingEmptySubsequences: false)
        guard p.count == 6, p.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let y = Int(p[0]), let mo = Int(p[1]), let d = Int(p[2]), let h = Int(p[3]), let mi = Int(p[4]), let s = Int(p[5]),
              (1...12).contains(mo), (1...31).contains(d), (0...23).contains(h), (0...59).contains(mi), (0...60).contains(s)
        else { return nil }
        return days(fromCivil: y, mo, d) * 86_400 + Int64(h * 3600 + mi * 60 + s)
    }

    /// `after=` text for an instant (UTC).
    public static func afterText(_ epoch: Int64) -> String {
        let dayNumber = floorDiv(epoch, 86_400)
        let secs = epoch - dayNumber * 86_400
        let (y, m, d) = civil(fromDays: dayNumber)
        return "\(y)-\(pad(m))-\(pad(d))-\(pad(Int(secs / 3600)))-\(pad(Int(secs / 60 % 60)))-\(pad(Int(secs % 60)))"
    }

    private static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    static func days(fromCivil y: Int, _ m: Int, _ d: Int) -> Int64 { Int64(CivilDate.days(year: y, month: m, day: d)) }

    static func civil(fromDays z: Int64) -> (Int, Int, Int) {
        let c = CivilDate.date(days: Int(z))
        return (c.year, c.month, c.day)
    }
}
