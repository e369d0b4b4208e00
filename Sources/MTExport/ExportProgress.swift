import Foundation
import MTCore

/// What a person at a terminal sees while `mt export` works: a line per scale naming server and scale, and a bar
/// for large fetches and for deletes. Nothing at all when stderr is not a terminal (cron) or with -q.
struct ExportProgress: Sendable {
    let output: Output?

    /// Answers at least this large get a bar while they arrive.
    static let largeFetch = 256 * 1024
    /// Delete runs of at least this many ids get a bar.
    static let manyDeletes = 20

    init(context: CommandContext) {
        output = context.stderrIsTerminal && context.global.verbosity != .quiet ? context.stderr : nil
    }

    func scale(server: String, scale: String, index: Int, count: Int) {
        output?.line("\(server) \(scale): exporting (\(index)/\(count))")
    }

    /// The callback of a fetch: a bar once the Content-Length says the answer is large.
    func fetch(label: String) -> FetchBar? {
        output.map { FetchBar(output: $0, label: label) }
    }

    func deletes(label: String, total: Int) -> SharedBar? {
        guard let output, total >= Self.manyDeletes else { return nil }
        return SharedBar(ProgressBar(output: output, label: label, total: total, unit: "deletes"))
    }
}

final class FetchBar {
    private let output: Output
    private let label: String
    private var bar: ProgressBar?
    private var shown = 0

    init(output: Output, label: String) {
        self.output = output
        self.label = label
    }

    func update(received: Int, expected: Int?) {
        if bar == nil, let expected, expected >= ExportProgress.largeFetch {
            bar = ProgressBar(output: output, label: label, total: expected, unit: "bytes")
        }
        bar?.advance(by: received - shown)
        shown = received
    }

    func finish() { bar?.finish() }
}

/// The delete workers answer on several threads; the bar is drawn by one at a time.
final class SharedBar: @unchecked Sendable { // safe: the bar is drawn under `lock` only
    private let bar: ProgressBar
    private let lock = NSLock()

    init(_ bar: ProgressBar) { self.bar = bar }

    func tick() { lock.withLock { bar.advance(by: 1) } }
    func finish() { lock.withLock { bar.finish() } }
}
