import Foundation
import MTCore

/// What `mt status` knows about one server, read from its data directory only (run record, export state,
/// archive names, free space, lock): no file is written and no server contacted.
///
/// Everything except the free space, the lock and the archive names comes from `state/`, so a second machine
/// that mounts or copies only `PATH/state` can run the dead man's switch.
struct ServerStatus: Sendable {
    struct ScaleStatus: Sendable, Equatable {
        var name: String
        var deleteable: Bool?
        /// Start of the last fetch the scale's export handled completely (export state).
        var lastFetch: Double?
        var lastSuccess: Double?
        var lastArchive: Double?
        var lastDelete: Double?
        var archived24h = 0
        var archived7d = 0
        var leftovers: Int?
        var heldBack = 0
        var pendingJournal = false
        /// Time of the newest archive of the scale (raw_data, or the run record when raw_data is not here).
        var newestArchive: Double?
        var lastExit: ExitCode?
        var lastStatus: String?
        /// Why the scale's export state could not be read, if it could not.
        var problem: String?

        init(name: String) { self.name = name }
    }

    var server: ServerConfig
    var now: Date
    var record: ExportRunRecord?
    var problems: [String] = []
    var scales: [ScaleStatus] = []
    var freeBytes: Int64?
    var lock: DirectoryLock.Holder?
    /// With --remote: the server's list of scales (name → entries waiting), or why it could not be read.
    var remote: [ScaleInfo]?
    var remoteError: String?

    static func read(_ server: ServerConfig, now: Date = Date()) -> ServerStatus {
        var s = ServerStatus(server: server, now: now)
        let layout = DataLayout(server: server)
        do { s.record = try ExportRunRecord.load(layout: layout) } catch { s.problems.append(error.asMTError.message) }
        s.lock = DirectoryLock.holder(of: server.path)
        var fs = statvfs()
        if statvfs(server.path, &fs) == 0 { s.freeBytes = Int64(fs.f_bavail) * Int64(fs.f_frsize) }

        var newest: [String: Double] = [:]
        for a in (try? layout.archives()) ?? [] { newest[a.scale] = max(newest[a.scale] ?? 0, a.time.timeIntervalSince1970) }
        var names = Set(s.record?.scales.map(\.name) ?? [])
        names.formUnion((try? layout.exportStateScales()) ?? [])
        let t = now.timeIntervalSince1970
        for name in names.sorted() {
            var c = ScaleStatus(name: name)
            if let r = s.record?.scales.first(where: { $0.name == name }) {
                c.deleteable = r.deleteable
                c.lastSuccess = r.lastSuccess
                c.lastArchive = r.lastArchive
                c.lastDelete = r.lastDelete
                c.archived24h = r.archived(since: t - 86_400)
                c.archived7d = r.archived(since: t - 7 * 86_400)
                c.leftovers = r.leftovers
                c.lastExit = r.exit
                c.lastStatus = r.status
            }
            do {
                let state = try ExportScaleState.load(scale: name, layout: layout)
                c.lastFetch = state.lastFetch
                c.heldBack = state.heldBack.count
                c.pendingJournal = state.pending != nil
            } catch {
                c.problem = error.asMTError.message
            }
            let times = [newest[name], c.lastArchive].compactMap { $0 }
            c.newestArchive = times.max()
            s.scales.append(c)
        }
        return s
    }

    /// Asks the server for its list of scales (the one request of --remote).
    mutating func readRemote() {
        do {
            let client = try HTTPClient(options: HTTPOptions(server: server))
            try client.checkURL(server.exportURL)
            let r: HTTPResponse
            do { r = try client.get(server.exportURL) } catch let e as HTTPTransportError {
                throw MTError(.unavailable, "list of scales: \(e.message)")
            }
            remote = try ExportValidation.scaleList(r, server: server.name)
        } catch {
            remoteError = error.asMTError.message
        }
    }

    /// Scales exported before that the server no longer lists: as the last export run found them, and with
    /// --remote as the server's list says now (`DataLayout.vanishedScales`, the one owner of that question).
    var vanished: [String] {
        var names = Set(record?.scales.filter(\.vanished).map(\.name) ?? [])
        if let remote { names.formUnion((try? DataLayout(server: server).vanishedScales(listed: remote.map(\.name))) ?? []) }
        return names.sorted()
    }

    /// The last successful export is older than `maxAge` (or there never was one).
    func isStale(maxAge: Double) -> Bool {
        guard let last = record?.lastSuccess else { return true }
        return now.timeIntervalSince1970 - last > maxAge
    }

    /// One word for the screen and the JSON: healthy, attention (exit 1, held back, journal), failing (the last
    /// run failed), never (no run recorded), stale (with --max-age, older than that).
    func health(maxAge: Double?) -> String {
        if let maxAge, server.ready, isStale(maxAge: maxAge) { return record == nil ? "never exported" : "stale" }
        guard let record else { return "never exported" }
        if record.exit > .problems { return "failing" }
        if record.exit == .problems || !problems.isEmpty || !vanished.isEmpty
            || scales.contains(where: { $0.heldBack > 0 || $0.pendingJournal || $0.problem != nil }) { return "needs attention" }
        return "healthy"
    }
}
