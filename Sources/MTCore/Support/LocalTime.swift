import Foundation

/// Local wall-clock time, as the lab reads its logs and names its daily files.
public enum LocalTime {
    /// `2026-11-29T03:40:12.123+0100`
    public static func stamp(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var tm = tm()
        localtime_r(&t, &tm)
        let ms = Int((date.timeIntervalSince1970 - Double(t)) * 1000)
        let off = tm.tm_gmtoff
        let sign = off < 0 ? "-" : "+"
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03d%@%02d%02d",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms,
                      sign, abs(off) / 3600, abs(off) % 3600 / 60)
    }

    /// `2026-11-29`, the local day a log file belongs to.
    public static func day(_ date: Date) -> String {
        strftime("%Y-%m-%d", date)
    }

    /// C strftime in local time (DATE_FORMAT and TIME_FORMAT of the config use this syntax).
    public static func strftime(_ format: String, _ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var tm = tm()
        localtime_r(&t, &tm)
        var buf = [CChar](repeating: 0, count: 256)
        let n = Foundation.strftime(&buf, buf.count, format, &tm)
        return n > 0 ? String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    }
}
