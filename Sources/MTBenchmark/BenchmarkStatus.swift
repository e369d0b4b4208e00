import Foundation
import MTCore

/// `mt benchmark`: per scale the high-water mark next to what the data directory (and optionally the server)
/// holds, so an admin sees at a glance whether the mark, the archives and the CSVs agree.
struct BenchmarkStatus: Sendable {
    struct Row: Sendable, Equatable {
        var scale: String
        var benchmark: Int64?
        var deleteable: Bool?
        /// Time of the newest archive of the scale.
        var lastExport: Date?
        var archives = 0
        /// Distinct ids across the scale's archives (snapshots of non-deleteable scales repeat them).
        var entriesArchived = 0
        /// Data rows of the scale's `active_data` CSVs.
        var csvRows = 0
        /// Entries export holds back (`heldBack` of its state): released with `mt benchmark release`.
        var heldBack = 0
        /// With `--remote`: the size the server reports, and how many of its entries are at or below the mark.
        var serverSize: Int?
        var remainingAtOrBelow: Int?
        var onServer: Bool?

        init(scale: String) { self.scale = scale }
    }

    var server: String
    var root: String
    var benchmarkFile: String
    var rows: [Row]
    var remote: Bool
    /// Archives that could not be read (their entries are not counted); `mt verify` says more.
    var unreadableArchives: [String]
    var refusedScaleNames: [String]
    /// Marks read leniently (`50.0`, `"50"`).
    var benchmarkWarnings: [String] = []

    static func collect(server: ServerConfig, remote: Bool, progressOutput: Output? = nil) throws -> BenchmarkStatus {
        let layout = DataLayout(server: server)
        let benchmark = try Benchmark.read(path: layout.benchmark) ?? Benchmark()
        let names = try layout.archives()
        let bar = progressOutput.map { CheckProgress(output: $0, label: "benchmark \(server.name): archives", total: names.count, unit: "archives") }
        let archives = ArchiveScan.summarize(names, layout: layout, progress: bar)
        bar?.finish()
        let files = try CSVScan.files(layout: layout).filter { !$0.recovered && $0.scale != nil }
        let csvs = CSVScan.summarize(files, inspect: false)

        var rows: [String: Row] = [:]
        func touch(_ scale: String, _ change: (inout Row) -> Void) {
            var r = rows[scale] ?? Row(scale: scale)
            change(&r)
            rows[scale] = r
        }
        for (scale, mark) in benchmark.marks {
            touch(scale) { $0.benchmark = mark.current; $0.deleteable = mark.deleteable }
        }
        var ids: [String: Set<Int64>] = [:]
        for a in archives {
            touch(a.name.scale) { r in
                r.archives += 1
                if r.lastExport.map({ $0 < a.name.time }) ?? true { r.lastExport = a.name.time }
            }
            ids[a.name.scale, default: []].formUnion(a.ids)
        }
        for (scale, set) in ids { touch(scale) { $0.entriesArchived = set.count } }
        for c in csvs { touch(c.scale!) { $0.csvRows += c.rows } }
        for scale in Array(rows.keys) where SafeName.isValidScale(scale) {
            if let state = try? ExportScaleState.load(scale: scale, layout: layout), !state.heldBack.isEmpty {
                touch(scale) { $0.heldBack = state.heldBack.count }
            }
        }

        var refused: [String] = []
        if remote {
            let inventory = try ServerInventory(server: server)
            let listing = try inventory.scales()
            refused = listing.refused
            for s in listing.scales {
                touch(s.name) { $0.serverSize = s.size; $0.onServer = true; if $0.deleteable == nil { $0.deleteable = s.deleteable } }
                if let mark = benchmark.marks[s.name] {
                    let remaining = try inventory.entryIDs(scale: s.name).filter { $0 <= mark.current }.count
                    touch(s.name) { $0.remainingAtOrBelow = remaining }
                }
            }
            for k in rows.keys where rows[k]!.onServer == nil { rows[k]!.onServer = false }
        }
        var status = BenchmarkStatus(server: server.name, root: layout.root, benchmarkFile: layout.benchmark,
                                     rows: rows.keys.sorted().map { rows[$0]! }, remote: remote,
                                     unreadableArchives: archives.filter { $0.problem != nil }.map(\.path),
                                     refusedScaleNames: refused)
        status.benchmarkWarnings = benchmark.warnings
        return status
    }

    var json: JSONValue {
        .object([
            ("server", .string(server)),
            ("path", .string(root)),
            ("benchmarkFile", .string(benchmarkFile)),
            ("scales", .array(rows.map { r in
                var fields: [(String, JSONValue)] = [
                    ("scale", .string(r.scale)),
                    ("benchmark", r.benchmark.map { .int($0) } ?? .null),
                    ("deleteable", r.deleteable.map(JSONValue.bool) ?? .null),
                    ("lastExport", r.lastExport.map { .string(LocalTime.stamp($0)) } ?? .null),
                    ("archives", .int(r.archives)),
                    ("entriesArchived", .int(r.entriesArchived)),
                    ("csvRows", .int(r.csvRows)),
                    ("heldBack", .int(r.heldBack)),
                ]
                if remote {
                    fields.append(("onServer", r.onServer.map(JSONValue.bool) ?? .null))
                    fields.append(("serverSize", r.serverSize.map { .int($0) } ?? .null))
                    fields.append(("remainingAtOrBelowBenchmark", r.remainingAtOrBelow.map { .int($0) } ?? .null))
                }
                return .object(fields)
            })),
            ("unreadableArchives", .array(unreadableArchives.map(JSONValue.string))),
        ])
    }
}
