/// Entry dates as the server writes them, "EEE, dd MMM yyyy HH:mm:ss Z" (`Tue, 03 Apr 2018 14:05:09 -0400`),
/// parsed by hand from bytes (a summary reads a million of them); ISO 8601 (`2018-04-03T14:05:09Z`,
/// `2018-04-03 14:05:09`) is accepted too. Results are seconds since 1970, UTC.
public enum EntryDate {
    private static let months: [(UInt8, UInt8, UInt8)] = [
        (74, 97, 110), (70, 101, 98), (77, 97, 114), (65, 112, 114), (77, 97, 121), (74, 117, 110),
        (74, 117, 108), (65, 117, 103), (83, 101, 112), (79, 99, 116), (78, 111, 118), (68, 101, 99),
    ]

    public static func parse(_ s: String) -> Int64? {
        var copy = Array(s.utf8)
        return copy.withUnsafeMutableBufferPointer { parse(UnsafeBufferPointer($0)) }
    }

    public static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        let n = b.count
        func skipSpaces() { while i < n, b[i] == 32 { i += 1 } }
        func number(_ maxDigits: Int) -> Int? {
            var v = 0, d = 0
            while i < n, d < maxDigits, b[i] >= 48, b[i] <= 57 { v = v * 10 + Int(b[i] - 48); i += 1; d += 1 }
            return d == 0 ? nil : v
        }
        func expect(_ c: UInt8) -> Bool { if i < n, b[i] == c { i += 1; return true }; return false }
        skipSpaces()
        var year = 0, month = 0, day = 0
        if i + 4 < n, b[i] >= 48, b[i] <= 57, b[i + 4] == 45 {
            // ISO 8601: yyyy-MM-dd[T ]HH:mm:ss
            guard let y = number(4), expect(45), let m = number(2), expect(45), let d = number(2) else { return nil }
            year = y; month = m; day = d
            guard i < n, b[i] == 84 || b[i] == 32 else { return time(year, month, day, 0, 0, 0, 0) }
            i += 1
        } else {
            // RFC 822 style: optional "EEE, ", then dd MMM yyyy
            while i < n, b[i] != 44, !(b[i] >= 48 && b[i] <= 57) { i += 1 }
            _ = expect(44)
            skipSpaces()
            guard let d = number(2) else { return nil }
            skipSpaces()
            guard i + 3 <= n, let m = months.firstIndex(where: { $0 == (b[i], b[i + 1], b[i + 2]) }) else { return nil }
            i += 3
            skipSpaces()
            guard let y = number(4) else { return nil }
            year = y; month = m + 1; day = d
            skipSpaces()
        }
        guard let hh = number(2), expect(58), let mm = number(2), expect(58), let ss = number(2) else { return nil }
        if expect(46) { _ = number(9) } // fractions of a second
        skipSpaces()
        var offset = 0
        if i < n, b[i] == 43 || b[i] == 45 {
            let sign = b[i] == 45 ? -1 : 1
            i += 1
            guard let h = number(2) else { return nil }
            _ = expect(58)
            let m = number(2) ?? 0
            offset = sign * (h * 3600 + m * 60)
        }
        guard (1...12).contains(month), (1...31).contains(day), hh < 24, mm < 60, ss <= 60 else { return nil }
        return time(year, month, day, hh, mm, ss, offset)
    }

    private static func time(_ y: Int, _ m: Int, _ d: Int, _ hh: Int, _ mm: Int, _ ss: Int, _ offset: Int) -> Int64 {
        Int64(daysFromCivil(y, m, d)) * 86400 + Int64(hh * 3600 + mm * 60 + ss - offset)
    }

    public static func daysFromCivil(_ y: Int, _ m: Int, _ d: Int) -> Int { CivilDate.days(year: y, month: m, day: d) }

    public static func civil(fromDays z: Int) -> (Int, Int, Int) {
        let c = CivilDate.date(days: z)
        return (c.year, c.month, c.day)
    }

    /// `2018-04-03T18:05:09Z`.
    public static func iso(_ t: Int64) -> String {
        let days = Int((t >= 0 ? t : t - 86399) / 86400)
        let secs = Int(t - Int64(days) * 86400)
        let (y, m, d) = civil(fromDays: days)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secs / 3600, 2)):\(pad(secs / 60 % 60, 2)):\(pad(secs % 60, 2))Z"
    }

    /// `2018-04-03` of a day number.
    public static func isoDay(_ days: Int) -> String {
        let (y, m, d) = civil(fromDays: days)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    private static func pad(_ v: Int, _ w: Int) -> String {
        let s = String(v)
        return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
    }
}
