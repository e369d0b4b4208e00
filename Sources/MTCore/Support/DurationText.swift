import Foundation

/// Durations as `mt status --max-age`, `mt custody --threshold` and ALERT_REPEAT take them: `90s`, `30m`, `2h`, `1d`,
/// `1h30m`; a bare number is seconds.
public enum DurationText {
    public static func parse(_ text: String) -> Double? {
        if let n = Double(text), n >= 0, n.isFinite { return n }
        var total = 0.0, digits = ""
        for c in text {
            if c.isASCII && c.isNumber { digits.append(c); continue }
            let unit: Double
            switch c {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            case "w": unit = 7 * 86_400
            default: return nil
            }
            guard let n = Double(digits) else { return nil }
            total += n * unit
            digits = ""
        }
        return digits.isEmpty && !text.isEmpty ? total : nil
    }

    /// `45s`, `3m05s`, `2h10m`, `3d04h`: for "how long ago".
    public static func format(_ seconds: Double) -> String {
        let s = Int(max(seconds, 0))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        if s < 86_400 { return String(format: "%dh%02dm", s / 3600, s % 3600 / 60) }
        return String(format: "%dd%02dh", s / 86_400, s % 86_400 / 3600)
    }
}
