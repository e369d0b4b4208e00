import Foundation

/// A one-line progress bar with rate and ETA, redrawn at most a few times a second. The caller creates one only
/// when stderr is a terminal, so cron runs stay silent.
public final class ProgressBar {
    private let output: Output
    private let label: String
    private let total: Int
    private let unit: String
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var done = 0

    public init(output: Output, label: String, total: Int, unit: String) {
        self.output = output
        self.label = label
        self.total = max(total, 0)
        self.unit = unit
    }

    public func advance(by n: Int) {
        done += n
        let now = Date()
        if now.timeIntervalSince(lastDraw) >= 0.2 || done >= total { draw(now) }
    }

    /// Clears the line so that the next message starts clean.
    public func finish() {
        output.write("\r\u{1B}[K")
        output.flush()
    }

    private func draw(_ now: Date) {
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(start), 0.001)
        let rate = Double(done) / elapsed
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let eta = rate > 0 ? Int(Double(max(total - done, 0)) / rate) : 0
        let line = String(format: "\r%@ [%@] %3d%% %d/%d %@ %.0f/s ETA %d:%02d\u{1B}[K",
                          label, bar, Int(fraction * 100), done, total, unit, rate, eta / 60, eta % 60)
        output.write(line)
        output.flush()
    }
}
