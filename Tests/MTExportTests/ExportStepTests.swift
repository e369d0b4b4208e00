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

    func get(_ url: String, progress: ((Int, Int?) -> Void)?) throws -> HTTPResponse {
        lock.lock(); defer { lock.unlock() }
        guard let r = answers[url] else {
            throw HTTPTransportError(method: "GET", url: url, curlCode: 7, message: "connection refused")
        }
        progress?(r.body.count, r.body.count)
        return r
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

private func entries(_ body: String, scale: String = "OA") throws -> ExportValidation.Entries {
    try ValidateStep.entries(json(body), scale: scale)
}

private func exitCode(_ body: () throws -> Void) -> ExitCode? {
    do { try body(); return nil } catch { return error.asMTError.exitCode }
}

/// 2026-11-29 03:40:12 UTC: the fixed clock of these tests.
private let now = Date(timeIntervalSince1970: 1_795_923_612)

@Suite struct FetchAndValidateStepTests {
    let url = "http://127.0.0.1:1/api/export/OA"

    @Test func anHTMLPageAnswered200IsRefusedAsTheServers() throws {
        let fake = FakeServer(answers: [url: json("<html><body>Please log in</body></html>", type: "text/html")])
        let response = try FetchStep.get(url, what: "scale OA", transport: fake)
        #expect(exitCode { _ = try ValidateStep.entries(response, scale: "OA") } == .unavailable)
        // Without a content type saying so, the body's first byte still gives the page away.
        #expect(exitCode { _ = try entries("  <!DOCTYPE html><html></html>") } == .unavailable)
    }

    @Test(arguments: [#"[{"id": "7"}]"#, #"[{"id": 7.5}]"#, #"[{"id": null}]"#, #"[{"x": 1}]"#])
    func anIDThatIsNotAWholeNumberIsRefused(body: String) {
        #expect(exitCode { _ = try entries(body) } == .unavailable)
    }

    @Test func aTransportFailureAndAnUnsafeScaleNameAreTheServers() {
        #expect(exitCode { _ = try FetchStep.get(url, what: "scale OA", transport: FakeServer()) } == .unavailable)
        // The name check throws a data error of its own; as a step of export it is the server's fault (69).
        #expect(exitCode { try ValidateStep.scaleName("../x", server: "s") } == .unavailable)
        #expect(exitCode { try ValidateStep.scaleName("OA", server: "s") } == nil)
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
        let rows = try entries(#"[{"id": 1, "date": "Sun, 29 Nov 2026"}, {"id": 2, "date": null}, {"id": 3}, {"id": 4, "date": ""}]"#)
        #expect(rows.entries.map(ValidateStep.hasDate) == [true, false, false, false])
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

    fileprivate func run(_ fake: FakeServer, fetched: ExportValidation.Entries, ready: [Int64], heldBack: Set<Int64> = [], mark: Int64? = nil,
             layout: DataLayout) throws -> DeleteStep.Outcome {
        try DeleteStep.run(fetched, ready: ready, heldBack: heldBack, mark: mark, deleter: deleter(fake), scale: "OA",
                           archive: "2026-11-29T03-40-12.000001Z_OA.json.gz", ledger: DeletionLedger(layout: layout),
                           log: Logger(label: "test"))
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
        #expect(triage.known == [1] && triage.conflicts == [2] && triage.fresh.count == 1)

        // Id 1 is written with this content; 2 has other content (held back); 3 is not written yet.
        let ready = DeleteStep.ready(fetched, triage: triage, written: written, heldBack: Set(triage.conflicts))
        #expect(ready == [1])
        // Even a held-back id whose content matches stays.
        #expect(DeleteStep.ready(fetched, triage: triage, written: written, heldBack: [1, 2]).isEmpty)

        let fake = FakeServer()
        let done = try run(fake, fetched: fetched, ready: ready, heldBack: [2], layout: layout)
        #expect(fake.deletedIDs == [1])
        #expect(done.result.deleted == 1 && done.mark == 2)
        // The ledger holds what was sent, before it was sent.
        #expect(try FileSystem.readString(layout.deletions).contains("OA"))
    }
}

@Suite struct ArchiveStepTests {
    @Test func anIdenticalAnswerReusesTheArchiveOnceItReadsBack() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        let fetched = try entries(#"[{"id": 1, "v": "é"}, {"id": 2}]"#)
        let triage = Triage(fetched, written: WrittenSet())
        let first = try ArchiveStep.run(fetched, triage: triage, canDelete: true, state: ExportScaleState(), kind: .batch, time: now, layout: layout)
        #expect(first.writtenNow && first.name != nil && first.sha256 == SHA256.hex(fetched.body))

        var state = ExportScaleState()
        state.lastBodySHA256 = first.sha256
        state.lastArchive = first.name
        let again = try ArchiveStep.run(fetched, triage: triage, canDelete: true, state: state, kind: .batch,
                                        time: now.addingTimeInterval(300), layout: layout)
        #expect(again == ArchiveStep.Result(name: first.name, writtenNow: false, sha256: first.sha256))
        #expect(try layout.archives(scale: "OA").count == 1)

        // An archive that no longer reads back is not relied on: a new one is written.
        let path = layout.archivePath(try #require(ArchiveName.parse(first.name!)))
        try FileSystem.writeAtomically(Array("damaged".utf8), to: path)
        let third = try ArchiveStep.run(fetched, triage: triage, canDelete: true, state: state, kind: .batch,
                                        time: now.addingTimeInterval(600), layout: layout)
        #expect(third.writtenNow && third.name != first.name)
    }

    @Test func anAnswerAddingNothingIsNotArchived() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        let fetched = try entries(#"[{"id": 1}]"#)
        var written = WrittenSet()
        written.insert(1, hash: WrittenSet.hash(fetched.entries[0]))
        let r = try ArchiveStep.run(fetched, triage: Triage(fetched, written: written), canDelete: false, state: ExportScaleState(),
                                    kind: .after("2026-11-28-00-00-00"), time: now, layout: layout)
        #expect(r.name == nil && !r.writtenNow)
        #expect(try layout.archives(scale: "OA").isEmpty)
    }
}
