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

/// UTC times as ISO 8601 with milliseconds, `2026-11-29T02:40:12.123Z`: what a record read on another machine or
/// handed to an IRB carries, free of the export host's zone.
public enum UTCTime {
    public static func iso8601(_ date: Date) -> String {
        let whole = floor(date.timeIntervalSince1970)
        let ms = min(999, Int(((date.timeIntervalSince1970 - whole) * 1000).rounded()))
        let (y, m, d) = CivilDate.date(days: Int(floor(whole / 86400)))
        let s = Int(whole) - Int(floor(whole / 86400)) * 86400
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, s / 3600, s % 3600 / 60, s % 60, ms)
    }

    /// Reads `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HHMM|±HH:MM)`: this form, and `LocalTime.stamp`'s (older ledgers).
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var n = 0
            for c in b[from..<from + count] { guard (48...57).contains(c) else { return nil }; n = n * 10 + Int(c - 48) }
            return n
        }
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58,
              let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2),
              let s = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == 46 {
            var scale = 0.1
            i += 1
            while i < b.count, (48...57).contains(b[i]) { fraction += Double(b[i] - 48) * scale; scale /= 10; i += 1 }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 90 { guard i + 1 == b.count else { return nil } } else {
            guard b[i] == 43 || b[i] == 45 else { return nil }
            let rest = b.count - i - 1
            let colon = rest == 5 && b[i + 3] == 58
            guard rest == 4 || colon, let oh = num(i + 1, 2), let om = num(colon ? i + 4 : i + 3, 2) else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
        }
        let days = CivilDate.days(year: y, month: mo, day: d)
        return Date(timeIntervalSince1970: Double(days * 86400 + h * 3600 + mi * 60 + s - offset) + fraction)
    }
}
