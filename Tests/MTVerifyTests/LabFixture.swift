import Foundation
import MTCore
import MTTestSupport

/// A data directory as `mt export` leaves it, built with the same MTCore helpers: a legacy raw file, gzip
/// archives with their SHA256SUMS lines, a deletion ledger, decrypted active CSVs and the benchmark file.
///
///     OA    deleteable      legacy file ids 1, 2 (two arrays); archives ids 3 4 | 5; CSV rows 1…5
///     Task  not deleteable  two snapshots ids 10 11 | 10 11 12; CSV rows 10…12
struct LabFixture {
    let dir: TempDir
    let config: String
    let layout: DataLayout
    let oaArchives: [ArchiveName]
    let taskArchives: [ArchiveName]
    let csv: String

    static let entries: [Int64: String] = [
        1: "Ça va très bien", 2: "molto bene, grazie", 3: "很好 \"quoted\"", 4: "line\nbreak 🎉", 5: "plain",
    ]

    static func oa(_ id: Int64, cipher: String? = nil) -> JSONValue {
        .object([("id", .int(id)), ("date", .string("Sun, 29 Nov 2026 03:40:1\(id % 10) +0000")),
                 ("participantRSA", .string(cipher ?? "participant-\(id)")), ("answer", .string(entries[id] ?? "x")),
                 ("tag", .null)])
    }

    static func task(_ id: Int64) -> JSONValue {
        .object([("id", .int(id)), ("session", .string("firstSession")), ("steps", .array([.int(1), .int(2)]))])
    }

    /// `privateKey: false` makes an archive-only set-up (no PRIVATE_FILE).
    init(privateKey: Bool = true, serverURL: String = "http://127.0.0.1:9/api/", password: String = "secret") throws {
        let dir = try TempDir("mt-verify")
        // The path as mt prints it (the config's PATH is resolved and standardised).
        let layout = DataLayout(root: (dir.path as NSString).standardizingPath + "/data")
        try layout.create()
        var t = Date(timeIntervalSince1970: 1_795_000_000)
        func archive(_ scale: String, _ items: [JSONValue]) throws -> ArchiveName {
            t += 3600
            let name = ArchiveName.new(scale: scale, time: t)
            let bytes = try Gzip.compress(JSONWriter.bytes(.array(items)))
            try FileSystem.writeAtomically(bytes, to: layout.archivePath(name), mode: 0o600)
            try ChecksumLedger(layout: layout).append(archive: name.fileName, sha256: SHA256.hex(bytes))
            return name
        }
        // The original tool's raw file: local-time stamp in the name, arrays appended one after another.
        let legacy = JSONWriter.bytes(.array([Self.oa(1)])) + [0x0A] + JSONWriter.bytes(.array([Self.oa(2)]))
        try FileSystem.writeAtomically(legacy, to: layout.raw + "/OA_Apr_03_2018_14_05_09.json", mode: 0o600)
        let a1 = try archive("OA", [Self.oa(3), Self.oa(4)])
        try DeletionLedger(layout: layout).record(scale: "OA", ids: [3, 4], archive: a1.fileName)
        let a2 = try archive("OA", [Self.oa(5)])
        try DeletionLedger(layout: layout).record(scale: "OA", ids: [5], archive: a2.fileName)
        let t1 = try archive("Task", [Self.task(10), Self.task(11)])
        let t2 = try archive("Task", [Self.task(10), Self.task(11), Self.task(12)])
        let csv = layout.active + "/OA_Nov_29_2026.csv"
        try FileSystem.writeAtomically(EntryCSV.document((1...5).map { Self.oa($0) }), to: csv, mode: 0o600)
        try FileSystem.writeAtomically(EntryCSV.document((10...12).map(Self.task)), to: layout.active + "/Task_Nov_29_2026.csv", mode: 0o600)
        try Benchmark(marks: ["OA": .init(current: 5, deleteable: true), "Task": .init(current: 12, deleteable: false)])
            .write(path: layout.benchmark)

        var yaml = """
            lab:
              SERVER: \(serverURL)
              USER: admin
              PASS_FILE: pass.txt
              PATH: data
            """
        if privateKey {
            let keys = try TestKeys.generate(in: dir.path)
            yaml += "\n  PRIVATE_FILE: \(keys.privateKey)"
        }
        _ = try dir.write("pass.txt", password + "\n")
        config = try dir.write("mt.yaml", yaml + "\n")
        self.dir = dir
        self.layout = layout
        self.csv = csv
        oaArchives = [a1, a2]
        taskArchives = [t1, t2]
    }

    func mt(_ args: [String], stdin: [UInt8]? = nil) throws -> RunResult {
        try Run.mt(["--config", config] + args, stdin: stdin)
    }

    /// Rewrites the OA CSV with these rows (header as export writes it).
    func writeCSV(_ rows: [JSONValue]) throws {
        try FileSystem.writeAtomically(EntryCSV.document(rows, header: EntryCSV.header(for: [Self.oa(1)])), to: csv, mode: 0o600)
    }
}
