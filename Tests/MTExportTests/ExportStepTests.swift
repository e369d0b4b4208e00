import Foundation
@testable import MTCore
@testable import MTExport
import MTTestSupport
import Testing

/// The export steps on their own: an in-process fake of `ExportTransport` and a fixed clock, no binary, no server.
private final class FakeServer: ExportTransport, @unchecked Sendable { // a lock guards every field
    private let lock = NSLock()
    private var answers: [String: HTTPResponse]
    private var deleteStatus: [Int64: Int]
    private(set) var deletes: [String] = []

    init(answers: [String: HTTPResponse] = [:], deleteStatus: [Int64: Int] = [:]) {
        self.answers = answers
        self.deleteStatus = deleteStatus
    }

    /// The body in pieces of 7 bytes, so that entries, strings and UTF-8 sequences straddle them.
    func stream(_ url: String, progress: ((Int, Int?) -> Void)?, head: (Int, [(String, String)]) throws -> Void,
                body: (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse {
        lock.lock()
        let answer = answers[url]
        lock.unlock()
        guard let r = answer else {
            throw HTTPTransportError(method: "GET", url: url, curlCode: 7, message: "connection refused")
        }
        try head(r.status, r.headers)
        for start in stride(from: 0, to: r.body.count, by: 7) {
            try r.body[start..<min(start + 7, r.body.count)].withUnsafeBytes { try body($0) }
            progress?(min(start + 7, r.body.count), r.body.count)
        }
        return HTTPResponse(status: r.status, headers: r.headers, body: [])
    }

    func delete(_ url: String) throws -> HTTPResponse {
        lock.lock(); defer { lock.unlock() }
        deletes.append(url)
        let id = Int64(url.split(separator: "/").last!)!
        return HTTPResponse(status: deleteStatus[id] ?? 200, headers: [], body: [])
    }

    var deletedIDs: [Int64] {
        lock.lock(); defer { lock.unlock() }
        return deletes.map { Int64($0.split(separator: "/").last!)! }.sorted()
    }
}

private func json(_ body: String, status: Int = 200, type: String = "application/json") -> HTTPResponse {
    HTTPResponse(status: status, headers: [("content-type", type)], body: Array(body.utf8))
}

/// An answer fetched through the steps from a fake server, spooled into `spool` when one is given.
private func fetch(_ response: HTTPResponse, scale: String = "OA", spool: ExportArchive.Spool? = nil) throws -> FetchedScale {
    let url = "http://127.0.0.1:1/api/export/" + scale
    return try FetchStep.scale(url, scale: scale, transport: FakeServer(answers: [url: response]), spool: spool)
}

private func entries(_ body: String, scale: String = "OA", spool: ExportArchive.Spool? = nil) throws -> FetchedScale {
    try fetch(json(body), scale: scale, spool: spool)
}

private func exitCode(_ body: () throws -> Void) -> ExitCode? {
    do { try body(); return nil } catch { return error.asMTError.exitCode }
}

/// 2026-11-29 03:40:12 UTC: the fixed clock of these tests.
private let now = Date(timeIntervalSince1970: 1_795_923_612)

@Suite struct FetchAndValidateStepTests {
    let url = "http://127.0.0.1:1/api/export/OA"

    @Test func anHTMLPageAnswered200IsRefusedAsTheServers() throws {
        #expect(exitCode { _ = try fetch(json("<html><body>Please log in</body></html>", type: "text/html")) } == .unavailable)
        // Without a content type saying so, the body's first byte still gives the page away.
        #expect(exitCode { _ = try entries("  <!DOCTYPE html><html></html>") } == .unavailable)
    }

    @Test(arguments: [#"[{"id": "7"}]"#, #"[{"id": 7.5}]"#, #"[{"id": null}]"#, #"[{"x": 1}]"#])
    func anIDThatIsNotAWholeNumberIsRefused(body: String) {
        #expect(exitCode { _ = try entries(body) } == .unavailable)
    }

    @Test func aTransportFailureAndAnUnsafeScaleNameAreTheServers() {
        #expect(exitCode { _ = try FetchStep.get(url, what: "scale OA", transport: FakeServer()) } == .unavailable)
        #expect(exitCode { _ = try FetchStep.scale(url, scale: "OA", transport: FakeServer(), spool: nil) } == .unavailable)
        // The name check throws a data error of its own; as a step of export it is the server's fault (69).
        #expect(exitCode { try ValidateStep.scaleName("../x", server: "s") } == .unavailable)
        #expect(exitCode { try ValidateStep.scaleName("OA", server: "s") } == nil)
    }

    /// The disk fills while the answer is being spooled: the machine's failure (74), not the server's (69), and
    /// no temporary file is left.
    @Test func aFullDiskWhileSpoolingIsTheMachines() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        let spool = try ExportArchive.Spool(scale: "OA", layout: layout)
        let full = open("/dev/full", O_WRONLY)
        #expect(full >= 0 && dup2(full, spool.fd) == spool.fd)
        close(full)
        let rows = (1...40_000).map { #"{"id": \#($0), "text": "\#(String(repeating: "x", count: 100))"}"# }
        let e = #expect(throws: (any Error).self) { try entries("[" + rows.joined(separator: ",") + "]", spool: spool) }
        #expect(e.map { ($0 as? ExportStepError)?.asMTError.exitCode } == .ioError, "\(String(describing: e))")
        spool.discard()
        #expect(try FileSystem.list(layout.raw).isEmpty)
    }

    @Test func diskFailuresAre74UnlessThePathHasTheWrongType() {
        #expect(ExportStepError.disk(MTError(.cantCreate, "x: no space left")).asMTError.exitCode == .ioError)
        #expect(ExportStepError.disk(MTError(.noPermission, "x")).asMTError.exitCode == .ioError)
        #expect(ExportStepError.disk(MTError(.dataError, "x: damaged")).asMTError.exitCode == .dataError)
        #expect(ExportStepError.disk(MTError(.cantCreate, "x is a folder; move it aside")).asMTError.exitCode == .cantCreate)
    }
}

@Suite struct AfterPlanTests {
    let demo = ScaleInfo(name: "Demographics", deleteable: false)

    func state(lastFetch: Double, lastFull: Double, dateBearing: Bool = true) -> ExportScaleState {
        var s = ExportScaleState()
        s.lastFetch = lastFetch
        s.lastFullFetch = lastFull
        s.dateBearing = dateBearing
        return s
    }

    @Test func aRecentFullFetchGivesAnAfterReachingBackOverEveryZone() throws {
        let t = now.timeIntervalSince1970
        let plan = FetchStep.plan(requested: nil, info: demo, state: state(lastFetch: t - 86_400, lastFull: t - 3 * 86_400),
                                  unsure: false, now: now)
        let after = try #require(plan.after)
        #expect(after == AfterStamp(date: Date(timeIntervalSince1970: t - 86_400 - FetchStep.afterOverlap)))
        #expect(!plan.full && plan.futureFetch == nil)
    }

    @Test func aLastFetchInTheFutureIsIgnored() {
        let t = now.timeIntervalSince1970
        let plan = FetchStep.plan(requested: nil, info: demo, state: state(lastFetch: t + 3600, lastFull: t - 86_400),
                                  unsure: false, now: now)
        #expect(plan.full && plan.futureFetch == Date(timeIntervalSince1970: t + 3600))
        // A minute of skew is tolerated.
        #expect(!FetchStep.plan(requested: nil, info: demo, state: state(lastFetch: t + 30, lastFull: t - 86_400),
                                unsure: false, now: now).full)
    }

    @Test func theScaleIsFetchedWholeOnceAWeek() {
        let t = now.timeIntervalSince1970
        let week = FetchStep.fullSnapshotInterval
        #expect(FetchStep.plan(requested: nil, info: demo, state: state(lastFetch: t - 600, lastFull: t - week),
                               unsure: false, now: now).full)
        #expect(!FetchStep.plan(requested: nil, info: demo, state: state(lastFetch: t - 600, lastFull: t - week + 60),
                                unsure: false, now: now).full)
    }

    @Test func partlyNullDatesMeanAFullFetch() throws {
        let t = now.timeIntervalSince1970
        #expect(FetchStep.plan(requested: nil, info: demo, state: state(lastFetch: t - 600, lastFull: t - 3600, dateBearing: false),
                               unsure: false, now: now).full)
        let rows = [#"{"id": 1, "date": "Sun, 29 Nov 2026"}"#, #"{"id": 2, "date": null}"#, #"{"id": 3}"#, #"{"id": 4, "date": ""}"#,
                    #"{"id": 5, "date": "", "date": "later fields of a name do not count"}"#]
        var out: [UInt8] = []
        #expect(try rows.map { r in try Array(r.utf8).withUnsafeBufferPointer { try JSONCompact.scan($0, into: &out).dated } }
                == [true, false, false, false, false])
        #expect(try entries(#"[{"id": 1, "date": "Sun, 29 Nov 2026"}, {"id": 2, "date": null}]"#).allDated == false)
        #expect(try entries(#"[{"id": 1, "date": "Sun, 29 Nov 2026"}, {"id": 2, "date": "x"}]"#).allDated == true)
    }

    @Test func deleteableScalesUntrustedStateAndNoHistoryFetchWhole() throws {
        let t = now.timeIntervalSince1970
        let s = state(lastFetch: t - 600, lastFull: t - 3600)
        #expect(FetchStep.plan(requested: nil, info: ScaleInfo(name: "OA", deleteable: true), state: s, unsure: false, now: now).full)
        #expect(FetchStep.plan(requested: nil, info: demo, state: s, unsure: true, now: now).full)
        #expect(FetchStep.plan(requested: nil, info: demo, state: ExportScaleState(), unsure: false, now: now).full)
        let asked = try #require(AfterStamp("2026-01-01-00-00-00"))
        #expect(FetchStep.plan(requested: asked, info: ScaleInfo(name: "OA", deleteable: true), state: s, unsure: true, now: now).after == asked)
    }
}

@Suite(.serialized) struct DeleteStepTests {
    fileprivate func deleter(_ fake: FakeServer) -> ExportDeleter {
        var d = ExportDeleter(options: HTTPOptions(), deleteURL: { "http://127.0.0.1:1/api/export/OA/\($0)" }, concurrency: 2, retries: 0)
        d.connect = { fake }
        d.backoff = 0
        return d
    }

    fileprivate func run(_ fake: FakeServer, fetched: FetchedScale, ready: [Int64], heldBack: Set<Int64> = [], mark: Int64? = nil,
             layout: DataLayout) throws -> DeleteStep.Outcome {
        let running = DeleteStep.Running(deleter: deleter(fake), scale: "OA", archive: "2026-11-29T03-40-12.000001Z_OA.json.gz",
                                         ledger: DeletionLedger(layout: layout), log: Logger(label: "test"), expected: ready.count,
                                         progress: nil)
        running.add(ready)
        return try running.finish(fetched, heldBack: heldBack, mark: mark)
    }

    @Test func theMarkMovesOnlyOverIdsConfirmedGone() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        try layout.create()
        let fetched = try entries(#"[{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}]"#)

        // 200 and 404 both confirm: the mark moves over everything.
        let gone = try run(FakeServer(deleteStatus: [3: 404]), fetched: fetched, ready: [1, 2, 3, 4], mark: nil, layout: layout)
        #expect(gone.result.deleted == 3 && gone.result.gone == 1 && gone.mark == 4)

        // One 500 (no retries): the mark stays where it was, below every id sent.
        let failed = try run(FakeServer(deleteStatus: [3: 500]), fetched: fetched, ready: [1, 2, 3, 4], mark: 0, layout: layout)
        #expect(failed.result.failed == 1 && failed.mark == 0)

        // An id not ready (not yet written) is unconfirmed: the mark stops below it.
        let waiting = try run(FakeServer(), fetched: fetched, ready: [1, 2, 4], mark: nil, layout: layout)
        #expect(waiting.result.deleted == 3 && waiting.mark == 2)
        #expect(DeleteStep.mark(7, fetched: [1, 2], unconfirmed: []) == 7, "the mark never goes back")
    }

    @Test func heldBackEntriesAreNeverDeleted() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        try layout.create()
        var written = WrittenSet()
        written.insert(1, hash: WrittenSet.hash(.object([("id", .int(1)), ("v", .string("a"))])))
        written.insert(2, hash: WrittenSet.hash(.object([("id", .int(2)), ("v", .string("old"))])))
        let fetched = try entries(#"[{"id": 1, "v": "a"}, {"id": 2, "v": "new"}, {"id": 3, "v": "c"}]"#)
        let triage = Triage(fetched, written: written)
        #expect(triage.known == [1] && triage.conflicts == [2] && triage.fresh == [3])
        #expect(triage.verdicts == [.known, .conflict, .fresh])

        // Id 1 is written with this content; 2 has other content (held back); 3 is not written yet.
        let ready = DeleteStep.ready(fetched, written: written, heldBack: Set(triage.conflicts))
        #expect(ready == [1])
        // Even a held-back id whose content matches stays.
        #expect(DeleteStep.ready(fetched, written: written, heldBack: [1, 2]).isEmpty)

        let fake = FakeServer()
        let done = try run(fake, fetched: fetched, ready: ready, heldBack: [2], layout: layout)
        #expect(fake.deletedIDs == [1])
        #expect(done.result.deleted == 1 && done.mark == 2)
        // The ledger holds what was sent, before it was sent.
        #expect(try FileSystem.readString(layout.deletions).contains("OA"))
    }
}

@Suite struct ArchiveStepTests {
    /// The answer fetched again, spooled into `layout`'s raw_data, and taken by the archive step.
    func archive(_ body: String, written: WrittenSet = WrittenSet(), canDelete: Bool = true, state: ExportScaleState = ExportScaleState(),
                 kind: ArchiveKind = .batch, time: Date = now, layout: DataLayout) throws -> (ArchiveStep.Result, FetchedScale) {
        let spool = try ExportArchive.Spool(scale: "OA", layout: layout)
        let fetched = try entries(body, spool: spool)
        let r = try ArchiveStep.run(fetched, spool: spool, triage: Triage(fetched, written: written), canDelete: canDelete,
                                    state: state, kind: kind, time: time, layout: layout)
        #expect(try FileSystem.list(layout.raw).allSatisfy { !$0.contains(".tmp-") }, "the spool is used up")
        return (r, fetched)
    }

    @Test func anIdenticalAnswerReusesTheArchiveOnceItReadsBack() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        let body = #"[{"id": 1, "v": "é"}, {"id": 2}]"#
        let (first, fetched) = try archive(body, layout: layout)
        #expect(first.writtenNow && first.name != nil && first.sha256 == SHA256.hex(Array(body.utf8)))
        #expect(fetched.sha256 == first.sha256 && fetched.bytes == Int64(body.utf8.count))
        let path = layout.archivePath(try #require(ArchiveName.parse(first.name!)))
        #expect(try Gzip.decompress(FileSystem.read(path)) == Array(body.utf8), "the archive holds the server's bytes")

        var state = ExportScaleState()
        state.lastBodySHA256 = first.sha256
        state.lastArchive = first.name
        let (again, _) = try archive(body, state: state, time: now.addingTimeInterval(300), layout: layout)
        #expect(again == ArchiveStep.Result(name: first.name, writtenNow: false, sha256: first.sha256))
        #expect(try layout.archives(scale: "OA").count == 1)

        // An archive that no longer reads back is not relied on: a new one is written.
        try FileSystem.writeAtomically(Array("damaged".utf8), to: path)
        let (third, _) = try archive(body, state: state, time: now.addingTimeInterval(600), layout: layout)
        #expect(third.writtenNow && third.name != first.name)
    }

    @Test func anAnswerAddingNothingIsNotArchived() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        var written = WrittenSet()
        written.insert(1, hash: WrittenSet.hash(.object([("id", .number("1"))])))
        let (r, _) = try archive(#"[{"id": 1}]"#, written: written, canDelete: false, kind: .after("2026-11-28-00-00-00"), layout: layout)
        #expect(r.name == nil && !r.writtenNow)
        #expect(try layout.archives(scale: "OA").isEmpty)
    }
}
