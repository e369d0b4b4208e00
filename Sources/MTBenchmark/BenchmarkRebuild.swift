import Foundation
import MTCore

/// `benchMark.json` derived from what the data directory proves: the archives (every id ever fetched and
/// archived), export's state (`csvHigh`, `deleteMark`) and the deletion ledger. The way out when the file is
/// corrupt, and `mt benchmark rebuild`.
enum BenchmarkRebuild {
    struct Result: Sendable {
        var benchmark: Benchmark
        /// Archives or state files that could not be read: their ids are not counted.
        var warnings: [String]
    }

    /// Per scale: the highest id of its archives, state and ledger. Deleteable unless the scale was never sent
    /// a DELETE and its archives repeat ids (snapshots); the next export takes the flag from the server anyway.
    static func derive(layout: DataLayout) throws -> Result {
        var high: [String: Int64] = [:]
        var repeats: Set<String> = []
        var deleted: Set<String> = []
        var warnings: [String] = []
        func raise(_ scale: String, _ id: Int64?) {
            guard let id else { return }
            high[scale] = max(high[scale] ?? id, id)
        }
        var seen: [String: Set<Int64>] = [:]
        for a in ArchiveScan.summarize(try layout.archives(), layout: layout) {
            if let problem = a.problem {
                warnings.append("\(a.path) could not be read (\(problem)); its ids are not counted")
                continue
            }
            let scale = a.name.scale
            for id in a.ids {
                raise(scale, id)
                if !seen[scale, default: []].insert(id).inserted { repeats.insert(scale) }
            }
        }
        var listed: [String: Bool] = [:]
        for scale in try layout.exportStateScales() {
            do {
                // Every CSV row came from an archive, so the archives above already cover the CSVs' ids.
                let s = try ExportScaleState.load(scale: scale, layout: layout)
                raise(scale, s.deleteMark)
                if s.deleteMark != nil { deleted.insert(scale) }
                if let d = s.deleteable { listed[scale] = d }
            } catch {
                warnings.append("\(error.asMTError.message); its marks are not counted")
            }
        }
        do {
            for e in try DeletionLedger(layout: layout).read() where SafeName.isValidScale(e.scale) {
                raise(e.scale, e.id)
                deleted.insert(e.scale)
            }
        } catch {
            warnings.append("\(error.asMTError.message); the deletion ledger is not counted")
        }
        var b = Benchmark()
        for (scale, id) in high {
            // What the server last said wins; otherwise deletes, or ids never fetched twice, say deleteable.
            let deleteable = listed[scale] ?? (deleted.contains(scale) || !repeats.contains(scale))
            b.marks[scale] = Benchmark.Mark(current: id, deleteable: deleteable)
        }
        return Result(benchmark: b, warnings: warnings)
    }

    /// Keeps the bytes of a benchmark file that is about to be replaced, next to it, as
    /// `benchMark.json.<label>-<UTC stamp>` (durable, 0600). Returns the copy's path.
    static func keepCopy(of path: String, label: String, now: Date = Date()) throws -> String {
        let bytes = try FileSystem.read(path)
        var t = time_t(now.timeIntervalSince1970)
        var tm = tm()
        gmtime_r(&t, &tm)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                           tm.tm_hour, tm.tm_min, tm.tm_sec)
        var copy = "\(path).\(label)-\(stamp)"
        var n = 1
        while FileSystem.exists(copy) { copy = "\(path).\(label)-\(stamp).\(n)"; n += 1 }
        try FileSystem.writeAtomically(bytes, to: copy, mode: 0o600)
        return copy
    }
}
