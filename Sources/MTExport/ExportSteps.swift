import Foundation
import MTCore

/// What `mt export` needs from HTTP: a streamed GET (with progress; the byte limit MAX_RESPONSE is the
/// transport's own setting) and a DELETE. It is the seam the unit tests of the steps replace with an in-process
/// fake, in the manner of swift-log's `LogHandler`; `HTTPClient` is the real one. One value serves one thread.
protocol ExportTransport {
    /// `head` gets the status and headers before any of the body; `body` each piece as it arrives (see `HTTPClient`).
    func stream(_ url: String, progress: ((_ received: Int, _ expected: Int?) -> Void)?,
                head: (_ status: Int, _ headers: [(String, String)]) throws -> Void,
                body: (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse
    func delete(_ url: String) throws -> HTTPResponse
}

extension ExportTransport {
    /// A small answer kept whole (the list of scales).
    func get(_ url: String, progress: ((_ received: Int, _ expected: Int?) -> Void)? = nil) throws -> HTTPResponse {
        var kept: [UInt8] = []
        var response = try stream(url, progress: progress, head: { _, _ in }, body: { kept.append(contentsOf: $0) })
        response.body = kept
        return response
    }
}

extension HTTPClient: ExportTransport {}

/// The outside world of one export run: how a transport is opened and what time it is. `live` is the real one.
struct ExportSeams: Sendable {
    /// Opens one connection-keeping transport: once for the fetches, once per delete worker thread.
    var connect: @Sendable (HTTPOptions) throws -> any ExportTransport
    /// The wall clock: archive names, `after=` stamps, the state's fetch times, the CSV's date.
    var now: @Sendable () -> Date

    init(connect: @escaping @Sendable (HTTPOptions) throws -> any ExportTransport, now: @escaping @Sendable () -> Date) {
        self.connect = connect
        self.now = now
    }

    static let live = ExportSeams(connect: { try HTTPClient(options: $0) }, now: { Date() })
}

/// Why a step failed. The exit code is decided here, where the failure arises, not patched afterwards.
enum ExportStepError: MTErrorConvertible {
    /// The server or its answer failed (unreachable, not 200, not the JSON promised, an unsafe scale name): 69.
    case server(MTError)
    /// Writing or reading under the data directory failed (full disk, read-only or unwritable folder): 74.
    /// A path of the wrong type (a folder where a file belongs) keeps its own code, with its own hint.
    case disk(MTError)
    /// Anything else keeps its own code (configuration, damaged data, a bug).
    case other(MTError)

    var asMTError: MTError {
        switch self {
        case .server(let e):
            return e.exitCode == .unavailable ? e : MTError(.unavailable, e.message, hint: e.hint)
        case .disk(let e):
            guard [.cantCreate, .noPermission, .noInput, .ioError].contains(e.exitCode), !FileSystem.isWrongType(e) else { return e }
            return MTError(.ioError, e.message, hint: e.hint ?? "free disk space or make the data directory writable; nothing more was deleted")
        case .other(let e):
            return e
        }
    }

    /// Runs local file work; its failures are `.disk`. A `RunStop` passes through: it already says what it is.
    static func onDisk<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as MTError { throw ExportStepError.disk(e) }
    }
}

/// Step 1, fetch: one GET. A transport failure is the server's.
enum FetchStep {
    static func get(_ url: String, what: String, transport: any ExportTransport, bar: FetchBar? = nil) throws -> HTTPResponse {
        defer { bar?.finish() }
        let update: ((Int, Int?) -> Void)? = bar.map { b in { b.update(received: $0, expected: $1) } }
        do { return try transport.get(url, progress: update) } catch let e as HTTPTransportError {
            throw unreachable(e, what: what)
        }
    }

    /// Steps 1 and 2 on the stream: a scale's answer flows from the transport through the validation (each entry
    /// parsed on its own, then dropped) and, unless `spool` is nil (a dry run), into the archive's temporary file.
    /// Nothing of the answer stays in memory but its ids and small facts per entry.
    static func scale(_ url: String, scale: String, transport: any ExportTransport, spool: ExportArchive.Spool?,
                      bar: FetchBar? = nil) throws -> FetchedScale {
        defer { bar?.finish() }
        let what = "scale \(scale)"
        let update: ((Int, Int?) -> Void)? = bar.map { b in { b.update(received: $0, expected: $1) } }
        // A failure to spool is this machine's (a full disk), not the server's.
        let keep: ((UnsafeRawBufferPointer) throws -> Void)? = spool.map { s in { piece in try ExportStepError.onDisk { try s.write(piece) } } }
        do {
            return try ExportValidation.scaleAnswer(scale: scale, also: keep) { head, body in
                _ = try transport.stream(url, progress: update, head: head, body: body)
            }
        } catch let e as HTTPTransportError {
            throw unreachable(e, what: what)
        } catch let e as MTError {
            throw ExportStepError.server(e)
        }
    }

    static func unreachable(_ e: HTTPTransportError, what: String) -> ExportStepError {
        .server(MTError(.unavailable, "\(what): \(e.message)", hint: "the server is unreachable or too slow; the next run will try again"))
    }

    /// How far back an automatic `after=` reaches before the last fetch. The server reads the stamp in its JVM's
    /// zone, which may be anywhere from UTC−12 to UTC+14 and shift an hour for daylight saving: 26 hours cover
    /// any of them, 5 minutes more cover clock skew. Rows fetched twice are dropped by id (the written set).
    static let afterOverlap: Double = 26 * 3600 + 300
    /// A non-deleteable scale is fetched whole at least this often, so that rows `after=` cannot return (a null
    /// date, a date the server wrote in the past) still reach the CSVs.
    static let fullSnapshotInterval: Double = 7 * 86_400

    /// What to ask for: `after` nil is the whole scale.
    struct Plan: Equatable {
        var after: AfterStamp?
        /// The recorded last fetch lies in the future of this machine's clock, so it was ignored.
        var futureFetch: Date?
        var full: Bool { after == nil }
    }

    /// The automatic `after=` of a non-deleteable scale: only when every row of the last full fetch had a date
    /// (the server's `date > ?` never returns a null date), the state is trusted, the last full fetch is less
    /// than a week old and no recorded time lies in the future. `--after` always wins.
    static func plan(requested: AfterStamp?, info: ScaleInfo, state: ExportScaleState, unsure: Bool, now: Date) -> Plan {
        if let requested { return Plan(after: requested) }
        let nowSeconds = now.timeIntervalSince1970
        guard !info.deleteable, state.dateBearing, !unsure, let last = state.lastFetch, let lastFull = state.lastFullFetch else {
            return Plan(after: nil)
        }
        if last > nowSeconds + 60 || lastFull > nowSeconds + 60 {
            return Plan(after: nil, futureFetch: Date(timeIntervalSince1970: max(last, lastFull)))
        }
        guard nowSeconds - lastFull < fullSnapshotInterval else { return Plan(after: nil) }
        return Plan(after: AfterStamp(date: Date(timeIntervalSince1970: last - afterOverlap)))
    }
}

/// Step 2, validate: the scale's name (the entries are checked as they stream in: `ExportValidation.scaleAnswer`).
/// Every failure is the server's.
enum ValidateStep {
    static func scaleName(_ scale: String, server: String) throws {
        do { try SafeName.checkScale(scale, server: server) } catch let e as MTError { throw ExportStepError.server(e) }
    }
}

/// The fetched entries sorted against the written set, by position: new, already written with this content, or
/// an id already written with other content (held back: never written, never deleted). One byte an entry.
struct Triage {
    enum Verdict: UInt8 { case fresh, known, conflict }
    private(set) var verdicts: [Verdict] = []
    private(set) var freshCount = 0
    private let ids: [Int64]

    init(_ fetched: FetchedScale, written: WrittenSet) {
        ids = fetched.ids
        verdicts.reserveCapacity(fetched.count)
        for (id, h) in zip(fetched.ids, fetched.hashes) {
            switch written.verdict(id: id, hash: h) {
            case .new: verdicts.append(.fresh); freshCount += 1
            case .same: verdicts.append(.known)
            case .different, .unknown: verdicts.append(.conflict)
            }
        }
    }

    /// The ids with this verdict, in the server's order.
    func ids(_ verdict: Verdict) -> [Int64] { ids.indices.filter { verdicts[$0] == verdict }.map { ids[$0] } }

    var fresh: [Int64] { ids(.fresh) }
    var known: [Int64] { ids(.known) }
    var conflicts: [Int64] { ids(.conflict) }

    /// The held-back list after this fetch: every id held back before stays held, whatever kind of fetch this
    /// was, until it is resolved: a whole-scale fetch no longer holds it (the server dropped that entry), or it
    /// came back new (the CSVs and written set were moved aside: it is written now). An id whose content now
    /// matches the written set stays held: a set rebuilt after a clock step may vouch for the wrong content, so
    /// only `mt benchmark release` lets go of it. The conflicts of this fetch join the list.
    func heldBack(before: [Int64], fullFetch: Bool) -> (held: [Int64], nowMatching: [Int64]) {
        let old = Set(before)
        var seen: [Int64: Verdict] = [:]
        if !old.isEmpty { for i in ids.indices where old.contains(ids[i]) { seen[ids[i]] = verdicts[i] } }
        let kept = old.filter { id in
            switch seen[id] {
            case .conflict?, .known?: true
            case .fresh?: false
            case nil: !fullFetch
            }
        }
        let matching = old.filter { seen[$0] == .known }.sorted()
        return (kept.union(conflicts).sorted(), matching)
    }
}

/// Step 3, archive: the server's bytes, durable and read back, before anything relies on them.
enum ArchiveStep {
    struct Result: Equatable {
        /// The archive the CSV rows and the DELETEs of this run rely on; nil when nothing needed one.
        var name: String?
        /// Written by this run (false: the last archive, byte-identical, was reused).
        var writtenNow = false
        var sha256: String
    }

    /// An answer holding nothing new, nothing held back and nothing to delete (the overlap of an `after=` fetch)
    /// adds nothing that the archives do not hold already. An answer byte-identical to the last archive relies on
    /// it once that archive reads back intact. Otherwise the spooled answer becomes the new archive. The spool is
    /// used up either way.
    static func run(_ fetched: FetchedScale, spool: ExportArchive.Spool, triage: Triage, canDelete: Bool,
                    state: ExportScaleState, kind: ArchiveKind, time: Date, layout: DataLayout) throws -> Result {
        guard !fetched.isEmpty, triage.freshCount > 0 || triage.verdicts.contains(.conflict) || canDelete else {
            spool.discard()
            return Result(name: nil, sha256: fetched.sha256)
        }
        if fetched.sha256 == state.lastBodySHA256, let last = state.lastArchive, reusable(last, fetched, layout: layout) {
            spool.discard()
            return Result(name: last, writtenNow: false, sha256: fetched.sha256)
        }
        let name = try ExportStepError.onDisk {
            try ExportArchive.keep(spool, sha256: fetched.sha256, scale: fetched.scaleName, time: time, kind: kind, layout: layout)
        }
        return Result(name: name.fileName, writtenNow: true, sha256: fetched.sha256)
    }

    /// The same bytes (SHA-256 of the whole answer), read back from the old archive now.
    static func reusable(_ name: String, _ fetched: FetchedScale, layout: DataLayout) -> Bool {
        guard let archive = ArchiveName.parse(name), archive.scale == fetched.scaleName, archive.kind == .gzip else { return false }
        return (try? ExportArchive.verify(path: layout.archivePath(archive), sha256: fetched.sha256)) != nil
    }
}

/// Step 5, delete: only entries in the written set with this content and not held back are sent; the mark moves
/// only over ids the server confirmed gone. The DELETEs start as soon as the archive is kept, with the entries the
/// CSVs already held; each batch the CSV step commits joins them while they run (see ARCHITECTURE.md).
enum DeleteStep {
    /// The rule of what may be deleted: written with the content the server sent, and not held back.
    static func isReady(_ id: Int64, hash: UInt64, written: WrittenSet, heldBack: Set<Int64>) -> Bool {
        written.verdict(id: id, hash: hash) == .same && !heldBack.contains(id)
    }

    /// The fetched ids that may be deleted now.
    static func ready(_ fetched: FetchedScale, written: WrittenSet, heldBack: Set<Int64>) -> [Int64] {
        zip(fetched.ids, fetched.hashes).filter { isReady($0, hash: $1, written: written, heldBack: heldBack) }.map(\.0)
    }

    /// The delete mark after a run: it moves over fetched ids below every unconfirmed one (an entry whose DELETE
    /// failed, or that was not sent, is retried by the next run as ordinary work, not reported as a leftover).
    static func mark(_ old: Int64?, fetched: [Int64], unconfirmed: Set<Int64>) -> Int64? {
        let limit = unconfirmed.min() ?? Int64.max
        guard let top = fetched.filter({ $0 < limit }).max() else { return old }
        return max(old ?? top, top)
    }

    struct Outcome {
        var result: ExportDeleter.Result
        var mark: Int64?
        /// Every id handed to the deleter.
        var sent: [Int64]
    }

    /// DELETEs under way while the CSV step writes: `add` hands over ids that became ready, `finish` waits for
    /// the last answer and gives the counts and the new mark.
    final class Running {
        private let run: ExportDeleter.Run
        private let finished: () -> Void
        private(set) var sent: [Int64] = []

        init(deleter: ExportDeleter, scale: String, archive: String, ledger: DeletionLedger, log: Logger,
             expected: Int, progress: (@Sendable () -> Void)?, finished: @escaping () -> Void = {}) {
            run = deleter.start(scale: scale, archive: archive, ledger: ledger, logger: log, expected: expected, progress: progress)
            self.finished = finished
        }

        func add(_ ids: [Int64]) {
            guard !ids.isEmpty else { return }
            sent += ids
            run.add(ids)
        }

        /// Ids fetched but never handed over, and not held back, count as unconfirmed. Errors of the deletion
        /// ledger are thrown here, after the last DELETE already sent has been answered.
        func finish(_ fetched: FetchedScale, heldBack: Set<Int64>, mark: Int64?) throws -> Outcome {
            defer { finished() }
            let r = try ExportStepError.onDisk { try run.finish() }
            let readySet = Set(sent)
            let waiting = Set(fetched.ids).subtracting(readySet).subtracting(heldBack)
            // The deleter counts, it does not say which ids failed: any failure keeps the mark below every id sent.
            let unconfirmed = r.failed + r.skipped > 0 ? waiting.union(readySet) : waiting
            return Outcome(result: r, mark: DeleteStep.mark(mark, fetched: fetched.ids, unconfirmed: unconfirmed), sent: sent)
        }
    }
}
