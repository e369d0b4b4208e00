import Foundation
import MTCore
import MTTestSupport

/// A data directory as `mt export` leaves it: OA (deleteable) with a legacy raw file (ids 1, 2) and two
/// archives (3 4 | 5); Task (not deleteable) with two snapshots (10 11 | 10 11 12); active CSVs and marks.
struct BenchmarkFixture {
    let dir: TempDir
    let config: String
    let layout: DataLayout
    let newestOA: ArchiveName

    init(serverURL: String = "http://127.0.0.1:9/api/", password: String = "secret") throws {
        let dir = try TempDir("mt-benchmark")
        let layout = DataLayout(root: (dir.path as NSString).standardizingPath + "/data")
        try layout.create()
        func entry(_ id: Int64) -> JSONValue { .object([("id", .int(id)), ("answer", .string("réponse \(id), 好"))]) }
        var t = Date(timeIntervalSince1970: 1_795_000_000)
        func archive(_ scale: String, _ ids: [Int64]) throws -> ArchiveName {
            t += 3600
            let name = ArchiveName.new(scale: scale, time: t)
            let bytes = try Gzip.compress(JSONWriter.bytes(.array(ids.map(entry))))
            try FileSystem.writeAtomically(bytes, to: layout.archivePath(name), mode: 0o600)
            try ChecksumLedger(layout: layout).append(archive: name.fileName, sha256: SHA256.hex(bytes))
            return name
        }
        let legacy = JSONWriter.bytes(.array([entry(1)])) + JSONWriter.bytes(.array([entry(2)]))
        try FileSystem.writeAtomically(legacy, to: layout.raw + "/OA_Apr_03_2018_14_05_09.json", mode: 0o600)
        _ = try archive("OA", [3, 4])
        newestOA = try archive("OA", [5])
        _ = try archive("Task", [10, 11])
        _ = try archive("Task", [10, 11, 12])
        try FileSystem.writeAtomically(EntryCSV.document((1...5).map(entry)), to: layout.active + "/OA_Nov_29_2026.csv")
        try FileSystem.writeAtomically(EntryCSV.document((10...12).map(entry)), to: layout.active + "/Task_Nov_29_2026.csv")
        try Benchmark(marks: ["OA": .init(current: 5, deleteable: true), "Task": .init(current: 12, deleteable: false)])
            .write(path: layout.benchmark)
        _ = try dir.write("pass.txt", password + "\n")
        config = try dir.write("mt.yaml", """
            lab:
              SERVER: \(serverURL)
              USER: admin
              PASS_FILE: pass.txt
              PATH: data

            """)
        self.dir = dir
        self.layout = layout
    }

    func mt(_ args: [String]) throws -> RunResult { try Run.mt(["--config", config] + args) }

    func marks() throws -> [String: Benchmark.Mark] { try Benchmark.read(path: layout.benchmark)?.marks ?? [:] }
}
