import Foundation
@testable import MTCore
@testable import MTExport
import MTTestSupport
import Testing

/// An in-process server for one whole export through `ExportSeams`. At every DELETE it reads what the written set
/// holds on disk at that moment: the DELETEs must overlap the CSV step, and never run ahead of it.
private final class WatchingServer: ExportTransport, @unchecked Sendable { // a lock guards every mutable field
    private let lock = NSLock()
    private let answers: [String: [UInt8]]
    private let writtenSet: String
    private var seen: [(id: Int64, written: Set<Int64>)] = []
    private var all: [Int64] = []
    private var count = 0

    init(answers: [String: [UInt8]], writtenSet: String) {
        self.answers = answers
        self.writtenSet = writtenSet
    }

    func stream(_ url: String, progress: ((Int, Int?) -> Void)?, head: (Int, [(String, String)]) throws -> Void,
                body: (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse {
        guard let bytes = answers[url] else { throw HTTPTransportError(method: "GET", url: url, curlCode: 7, message: "refused") }
        try head(200, [("content-type", "application/json")])
        for start in stride(from: 0, to: bytes.count, by: 65_536) {
            try bytes[start..<min(start + 65_536, bytes.count)].withUnsafeBytes { try body($0) }
        }
        return HTTPResponse(status: 200, headers: [], body: [])
    }

    func delete(_ url: String) throws -> HTTPResponse {
        let id = Int64(url.split(separator: "/").last!)!
        lock.lock()
        let look = count % 20 == 0
        count += 1
        lock.unlock()
        // One DELETE in 20 looks (reading the set at every one would be most of the test's time). Only whole
        // lines count: a line is written only once its CSV rows are on disk.
        var ids: Set<Int64>?
        if look, let set = (try? WrittenSet.load(path: writtenSet)) ?? nil { ids = Set((1...5000).map(Int64.init).filter(set.contains)) }
        lock.lock(); defer { lock.unlock() }
        all.append(id)
        if let ids { seen.append((id, ids)) }
        return HTTPResponse(status: 200, headers: [], body: [])
    }

    var deleted: [Int64] {
        lock.lock(); defer { lock.unlock() }
        return all
    }

    var looked: [(id: Int64, written: Set<Int64>)] {
        lock.lock(); defer { lock.unlock() }
        return seen
    }
}

@Suite(.serialized) struct ExportOverlapTests {
    @Test func deletesOverlapTheCSVStepAndNeverRunAheadOfIt() throws {
        let dir = try TempDir("mt-overlap")
        defer { dir.remove() }
        let key = try TestKeys.generate(in: dir.path, bits: 1024)
        let publicKey = try RSAPublicKey.parse(pem: FileSystem.read(key.publicKey), source: key.publicKey)
        // 5,000 new entries: three CSV batches; every fifth carries an encrypted field, so each batch takes a while.
        var rows: [String] = []
        for id in 1...5000 {
            var row = #"{"id":\#(id),"date":"Sun, 29 Nov 2026 03:40:12 -0500","sessionId":"S\#(id % 7)","drinks":\#(id % 5)"#
            if id % 5 == 0 { row += #","nameRSA":"\#(try publicKey.encryptField("participant \(id) é"))""# }
            rows.append(row + "}")
        }
        let api = "http://127.0.0.1:1/api"
        let server = WatchingServer(answers: [
            api + "/export": Array(#"[{"name": "DD", "size": 5000, "deleteable": true}]"#.utf8),
            api + "/export/DD": Array(("[" + rows.joined(separator: ",") + "]").utf8),
        ], writtenSet: dir.file("data/state/written_DD.tsv"))
        _ = try dir.write("data/active_data/benchMark.json", "{}")
        let config = try dir.write("server.yaml", """
            lab:
              READY: true
              SERVER: "\(api)"
              USER: admin
              PASS: not-a-real-password
              PATH: "\(dir.file("data"))"
              DELETE_MODE: true
              PRIVATE_FILE: "\(key.privateKey)"
            """)
        chmod(config, 0o600)
        let devNull = open("/dev/null", O_WRONLY)
        defer { close(devNull) }
        let context = CommandContext(global: GlobalOptions(configPath: config), environment: [:],
                                     stdout: Output(fd: devNull), stderr: Output(fd: devNull), commandName: "export")
        let report = try ExportEngine.run(options: ExportOptions(), context: context,
                                          seams: ExportSeams(connect: { _ in server }, now: { Date() }))
        let scale = try #require(report.servers.first?.scales.first)
        #expect(scale.written == 5000 && scale.deleted == 5000 && scale.exit == .ok, "\(scale)")

        #expect(server.deleted.sorted() == Array(1...5000))
        let looked = server.looked
        #expect(looked.count == 250)
        // Never ahead: each id deleted was already recorded as written (its CSV rows durable) when its DELETE came.
        #expect(looked.allSatisfy { $0.written.contains($0.id) })
        // Overlapped: DELETEs reached the server while later batches were still being written.
        #expect(looked.first.map { $0.written.count < 5000 } == true, "no DELETE came before the last CSV batch")
        let csvName = try #require(try FileSystem.list(dir.file("data/active_data")).first { $0.hasSuffix(".csv") })
        let csv = try FileSystem.readString(dir.file("data/active_data/" + csvName))
        #expect(csv.utf8.filter { $0 == 0x0A }.count == 5001, "a header and 5,000 rows")
        #expect(csv.contains("participant 5000 é"))
    }
}
