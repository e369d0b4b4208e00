import Foundation
import MTCore

/// The chain of custody of a data directory: for every archived entry, its server date, the archive holding it
/// (and that archive's SHA-256), its CSV row, and when the server confirmed it deleted; per scale, how long
/// entries stayed on the server. Read-only: archives, SHA256SUMS, the deletion ledger, the CSVs and export state.
struct CustodyReport: Sendable {
    enum Deletion: Sendable, Equatable {
        /// The server answered 200 (deleted) or 404 (already gone) at that time.
        case confirmed(Date, status: Int)
        /// A ledger written before confirmations existed: the time the DELETE was recorded, before it was sent.
        case requested(Date)

        var time: Date {
            switch self {
            case .confirmed(let t, _), .requested(let t): t
            }
        }
    }

    struct Entry: Sendable {
        var scale: String
        var id: Int64
        /// Seconds since 1970 (UTC) of the entry's date as the server wrote it; nil when it has none.
        var serverDate: Int64?
        var archive: String
        var archiveSHA256: String?
        /// Relative to PATH (`active_data/OA_Dec_04_2026.csv`), with the 1-based line of its row.
        var csv: String?
        var line: Int?
        var deletion: Deletion?

        var dwell: Double? {
            guard let serverDate, let deletion else { return nil }
            return deletion.time.timeIntervalSince1970 - Double(serverDate)
        }
    }

    struct Scale: Sendable {
        var name: String
        /// nil when no export state or benchmark says.
        var deleteable: Bool?
        var entries: Int
        var deleted: Int
        /// Sorted; entries with a server date and a deletion only.
        var dwell: [Double]
        /// Entries with no deletion recorded (in a deleteable scale: still on the server, as far as mt knows).
        var stillOnServer: Int
        /// Of those, the ones whose server date is older than the threshold.
        var beyondThreshold: [Int64]

        /// Nearest rank: the smallest dwell with at least p of all dwells at or below it.
        func percentile(_ p: Double) -> Double? {
            guard !dwell.isEmpty else { return nil }
            let rank = Int((p * Double(dwell.count)).rounded(.up))
            return dwell[min(max(rank, 1), dwell.count) - 1]
        }
    }

    var server: ServerConfig
    var generated: Date
    var threshold: Double
    /// The ledger has request lines only (written by an mt before confirmations were recorded).
    var requestsOnly: Bool
    var scales: [Scale]
    var entries: [Entry]
    /// Every archive read, with its line in SHA256SUMS and the SHA-256 of the file as it is now.
    var archives: [(name: String, recorded: String?, actual: String?)]

    /// Reads the data directory of `server`; `scale` limits it to one scale.
    static func read(server: ServerConfig, scale only: String?, threshold: Double, now: Date = Date()) throws -> CustodyReport {
        let layout = DataLayout(server: server)
        guard FileSystem.isDirectory(layout.root) else {
            throw MTError(.noInput, "server \(server.name): the data directory \(layout.root) does not exist",
                          hint: "check PATH in the config, or run mt export first")
        }
        if let w = FileSystem.wrongType(layout.raw, folder: true), FileSystem.exists(layout.raw) { throw w }
        var names = try layout.archives()
        if let only {
            names = names.filter { $0.scale == only }
            guard !names.isEmpty else {
                let known = Set(try layout.archives().map(\.scale)).sorted()
                throw MTError(.usage, "server \(server.name): no archive of scale '\(only)' in \(layout.raw)",
                              hint: known.isEmpty ? "no scale has been archived yet" : "archived scales: \(known.joined(separator: ", "))")
            }
        }
        let sums = try ChecksumLedger(layout: layout).read()
        let ledger = try DeletionLedger(layout: layout).readAll()
        let requestsOnly = ledger.confirmations.isEmpty && !ledger.requests.isEmpty

        // The archive each deleted id was matched with when its DELETE was sent, and its deletion.
        var requestedFrom: [String: String] = [:]
        var deletion: [String: Deletion] = [:]
        for r in ledger.requests {
            let key = "\(r.scale)/\(r.id)"
            requestedFrom[key] = requestedFrom[key] ?? r.archive
            if requestsOnly, deletion[key] == nil, let t = UTCTime.parse(r.time) { deletion[key] = .requested(t) }
        }
        for c in ledger.confirmations where deletion["\(c.scale)/\(c.id)"] == nil {
            deletion["\(c.scale)/\(c.id)"] = .confirmed(c.time, status: c.status)
        }

        // Oldest archive first: an entry's archive is the one its DELETE named, else the first that holds it.
        names.sort { $0.fileName < $1.fileName }
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        var archives: [(name: String, recorded: String?, actual: String?)] = []
        for name in names {
            let path = layout.archivePath(name)
            let actual = try? fileSHA256(path)
            archives.append((name.fileName, sums[name.fileName], actual))
            try ArchiveReader.forEachEntry(layout: layout, archive: name) { e in
                guard let id = e["id"]?.int64Value else { return }
                let key = "\(name.scale)/\(id)"
                if let i = index[key] {
                    if requestedFrom[key] == name.fileName, entries[i].archive != name.fileName {
                        entries[i].archive = name.fileName
                        entries[i].archiveSHA256 = sums[name.fileName]
                    }
                    return
                }
                let date = (e["date"] ?? e["dateCompleted"] ?? e["dateSent"])?.stringValue.flatMap(EntryDate.parse)
                index[key] = entries.count
                entries.append(Entry(scale: name.scale, id: id, serverDate: date, archive: name.fileName,
                                     archiveSHA256: sums[name.fileName], deletion: deletion[key]))
            }
        }

        for file in try CSVScan.files(layout: layout) where file.scale != nil && (only == nil || file.scale == only) {
            let summary = CSVScan.summarize(path: file.path, scale: file.scale, recovered: file.recovered, inspect: false)
            let relative = (file.recovered ? "recovered_data/" : "active_data/") + (file.path as NSString).lastPathComponent
            for o in summary.ids {
                guard let i = index["\(file.scale!)/\(o.id)"] else { continue }
                // An active CSV row wins over a recovered one; the first row wins within a kind.
                if entries[i].csv == nil || (entries[i].csv!.hasPrefix("recovered_data/") && !file.recovered) {
                    entries[i].csv = relative
                    entries[i].line = o.line
                }
            }
        }

        let benchmark = try? Benchmark.read(path: layout.benchmark)
        var scales: [Scale] = []
        for scale in Set(entries.map(\.scale)).sorted() {
            let mine = entries.filter { $0.scale == scale }
            let deleteable = (try? ExportScaleState.load(scale: scale, layout: layout))?.deleteable
                ?? benchmark?.marks[scale]?.deleteable
            let kept = mine.filter { $0.deletion == nil }
            let old = kept.filter { e in
                deleteable != false && e.serverDate.map { now.timeIntervalSince1970 - Double($0) > threshold } == true
            }
            scales.append(Scale(name: scale, deleteable: deleteable, entries: mine.count,
                                deleted: mine.count - kept.count, dwell: mine.compactMap(\.dwell).sorted(),
                                stillOnServer: kept.count, beyondThreshold: old.map(\.id)))
        }
        return CustodyReport(server: server, generated: now, threshold: threshold, requestsOnly: requestsOnly,
                             scales: scales, entries: entries, archives: archives)
    }

    /// SHA-256 of the archive file, as SHA256SUMS records it.
    static func fileSHA256(_ path: String) throws -> String {
        let stream = try SHA256.Stream()
        try FileSystem.readChunks(path) { stream.update($0) }
        return stream.finish()
    }

    /// Entries of deleteable scales still on the server beyond the threshold.
    var overdue: Int { scales.reduce(0) { $0 + $1.beyondThreshold.count } }
}
