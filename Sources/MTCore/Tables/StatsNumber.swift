/// Numbers as mt prints them.
public enum StatsNumber {
    /// Shortest text that reads back as the same number (`2.5`, `10`, `0.3333333333333333`).
    public static func text(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
