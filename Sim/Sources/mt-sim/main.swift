import Foundation
import MTCore
import MTSim

let usage = "mt-sim (--generate | --data DIR) [options]"

let help = """
    mt-sim - a MindTrails-compatible study server for tests, demos and benchmarks

    USAGE
      \(usage)

    Serves GET {prefix}/export, GET {prefix}/export/{name}[?after=yyyy-MM-dd-HH-mm-ss] and
    DELETE {prefix}/export/{name}/{id} with HTTP basic auth, like a MindTrails server. Prints its API base URL on
    stdout (other information on stderr) and runs until SIGINT or SIGTERM.

    STUDY
      --generate               build a study from the scale catalogue into --data DIR (must hold no *.json),
                               or a new temporary folder; writes <Scale>.json, deleteable.json, and, without
                               --public-key, a key pair: private.pem (0600, path printed) and public.pem.
                               With the catalogue's `studies:` block it adds the participant table
                               (ParticipantExportDAO: two arms, admins, under-18s, booleans as \\001), TaskLog
                               rows, anonymous and repeated DASS21_AS screenings, and test_accounts.txt
      --data DIR               serve the <Scale>.json arrays in DIR; deleteable.json ({"Scale": false}) marks
                               scales that must stay on the server
      --keep SCALE             also serve SCALE as non-deleteable (403 on DELETE); repeatable
      --participants N         participants to generate (default 20)
      --seed S                 seed of the study, the fault decisions and the arrivals (default 1)
      --first-id N             first entry id; ids come from one generator shared by all scales (default 1)
      --public-key PEM         encrypt participantRSA with this public key instead of generating a pair
      --catalogue FILE         the scale catalogue (default: $MT_CATALOGUE, then the shipped config/scales.yaml)
      --study NAME             generate study NAME's tables (r34, r01, kaiser, templeton) with its catalogue
                               definitions: its scales only, its participant columns, sessionId and over18
                               where its classes have them, anonymous ELIGIBLE screenings (empty participant,
                               a sessionId). Without it, every catalogue scale with items, as the shared base
      --arrivals N             add N new entries, spread over the scales, every --arrival-interval seconds
      --arrival-interval SECS  default 60
      --ledger FILE            append "<scale><TAB><id><TAB><UTC time>" per deleted entry, flushed before the 200 is sent
                               (default DIR/deletions.tsv)

    AFTER= AND ZONES (as the real ExportController)
      --zone OFFSET            the JVM's default zone in which after= is read: UTC, UTC-5, UTC+9, UTC+05:30
                               (default UTC-5, a US study server). Entry dates are always written in EST (-0500).
                               after= returns rows whose date is strictly later (never a row whose date is null):
                               TaskLog by dateCompleted, ActionLog by date, other *Log tables by dateSent, trial
                               tables (*Trial*) ignore it, every other table (questionnaires) by date.

    DATABASE QUIRKS (arrivals only, as a real study server's database behaves)
      --late-commit SECS[@RATE]  with probability RATE (default 1) an arriving entry commits SECS seconds after
                               the others of its batch: a lower id appears after higher ones (a late commit)
      --restart-ids N          after N arrival batches the database is rebuilt: every table empty, ids start
                               again at --first-id, so new entries reuse ids with other content
      --flip-deleteable SCALE@N  after N arrival batches SCALE's deleteable flag flips; repeatable

    SERVER
      --host ADDR              address to bind (default 127.0.0.1)
      --port N                 port (default 0: any free port)
      --prefix PATH            API prefix (default /api), e.g. /study/api
      --url-file FILE          write the base URL (newline-terminated, atomically) to FILE once listening
      --tls                    serve HTTPS with a self-signed certificate made at start, written to
                               DIR/tls-cert.pem (path printed) for curl --cacert or CA_FILE. Needs an
                               mt-sim built with the package trait TLS (swift build --package-path Sim
                               --traits TLS; make sim and make test do, make demo does not); otherwise it
                               exits 64. This mt-sim was built \(Simulator.servesTLS ? "with" : "WITHOUT") TLS.
      --user NAME              basic-auth user (default admin)
      --pass-file FILE         basic-auth password from FILE (first line); else $MT_SIM_PASS; else "mt-sim"
      --login-redirect MODE    old deployments: answer with a 302 to /login (an HTML page answering 200)
                               MODE unauthenticated: only requests without valid credentials
                               MODE all: every API request

    FAULTS (also at run time: POST /__sim/faults?NAME=VALUE&..., see below)
      --latency-ms N           delay every API answer by N ms
      --fail-list STATUS[@RATE]    answer GET {prefix}/export with STATUS (always, or with probability RATE)
      --fail-fetch STATUS[@RATE]   same for GET {prefix}/export/{name}
      --fail-delete STATUS[@RATE]  same for DELETE (nothing is deleted)
      --truncate KINDS[@RATE]      announce the full Content-Length, send half the body, close
      --invalid-json KINDS[@RATE]  200 with a JSON content type and half the body (not valid JSON)
      --html KINDS[@RATE]          200 text/html: the login page
      --hang KINDS[@RATE]          never answer; the connection stays open
      --reset KINDS[@RATE]         close the connection with a TCP reset, no answer
      --slow-body KINDS[@RATE]     send the body slowly, --slow-rate bytes per second
      --slow-rate N            bytes per second of --slow-body (default 200)
      KINDS is all, or a comma list of list, fetch, delete; RATE is from 0 to 1 (default 1).

    ADMIN ENDPOINTS (same basic-auth credentials; never faulted or redirected)
      GET    /__sim/stats             counters: requests by kind, statuses by class, deletes, faults, entries
      GET    /__sim/faults            the current faults
      POST   /__sim/faults?K=V&...    replace all faults (keys are the fault flags without --); none clears
      DELETE /__sim/faults            clear all faults
      POST   /__sim/arrivals?count=N  add N entries now; answers {"added":N,"ids":[{"scale":..,"id":..}]}
      POST   /__sim/reload            read the study folder again and serve exactly what it holds now: a late
                                      commit (an entry with a lower id added), a database rebuilt with restarted
                                      ids, null dates, a scale whose deleteable.json flag flipped

    EXAMPLES
      mt-sim --generate --participants 50 --url-file /tmp/sim.url
      curl -u admin:mt-sim "$(cat /tmp/sim.url)/export"
      mt-sim --data study/ --fail-delete 500@0.2 --seed 7

    EXIT STATUS
    \(ExitCode.table)
    """

func parse(_ arguments: [String]) throws -> SimOptions? {
    var p = ArgumentParser(arguments, command: "mt-sim", usage: usage)
    if p.wantsHelp() { return nil }
    var o = SimOptions()
    o.generate = p.flag("--generate")
    o.dataDir = try p.value("--data")
    o.keep = Set(try p.values("--keep"))
    if let n = try p.int("--participants", range: 0...1_000_000) { o.participants = n }
    if let s = try p.value("--seed") {
        guard let n = UInt64(s) else { throw MTError.usage("--seed expects a whole number, got '\(s)'", usage: usage) }
        o.service.seed = n
    }
    if let s = try p.value("--first-id") {
        guard let n = Int64(s), n >= 1 else { throw MTError.usage("--first-id expects a positive whole number, got '\(s)'", usage: usage) }
        o.firstID = n
    }
    o.publicKeyPath = try p.value("--public-key")
    o.cataloguePath = try p.value("--catalogue")
    o.study = try p.value("--study")
    if let n = try p.int("--arrivals", range: 0...1_000_000) { o.arrivals = n }
    if let s = try p.value("--arrival-interval") {
        guard let d = Double(s), d >= 0.01 else { throw MTError.usage("--arrival-interval expects seconds (at least 0.01), got '\(s)'", usage: usage) }
        o.arrivalInterval = d
    }
    o.ledgerPath = try p.value("--ledger")
    if let h = try p.value("--host") { o.host = h }
    if let n = try p.int("--port", range: 0...65535) { o.port = n }
    if let prefix = try p.value("--prefix") {
        let trimmed = "/" + prefix.split(separator: "/").joined(separator: "/")
        o.service.prefix = trimmed == "/" ? "" : trimmed
    }
    o.urlFile = try p.value("--url-file")
    o.tls = p.flag("--tls")
    if let u = try p.value("--user") { o.service.user = u }
    if let f = try p.value("--pass-file") {
        let text = try FileSystem.readString(f)
        o.service.password = Secret(String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""))
    } else if let env = ProcessInfo.processInfo.environment["MT_SIM_PASS"], !env.isEmpty {
        o.service.password = Secret(env)
    }
    if let v = try p.value("--late-commit") {
        let parts = v.split(separator: "@", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let secs = Double(parts[0]), secs > 0,
              let rate = parts.count == 2 ? Double(parts[1]) : 1, (0...1).contains(rate) else {
            throw MTError.usage("--late-commit expects SECONDS[@RATE], e.g. 5@0.2, got '\(v)'", usage: usage)
        }
        o.quirks.lateSeconds = secs
        o.quirks.lateRate = rate
    }
    if let n = try p.int("--restart-ids", range: 1...1_000_000) { o.quirks.restartAfter = n }
    for v in try p.values("--flip-deleteable") {
        let parts = v.split(separator: "@")
        guard parts.count == 2, SafeName.isValidScale(String(parts[0])), let n = Int(parts[1]), n >= 1 else {
            throw MTError.usage("--flip-deleteable expects SCALE@N (after N arrival batches), got '\(v)'", usage: usage)
        }
        o.quirks.flips.append((String(parts[0]), n))
    }
    if let z = try p.value("--zone") {
        guard let minutes = parseZone(z) else {
            throw MTError.usage("--zone expects UTC, UTC-5, UTC+9 or UTC+05:30 (from UTC-12 to UTC+14), got '\(z)'", usage: usage)
        }
        o.service.zoneMinutes = minutes
    }
    if let m = try p.choice("--login-redirect", ["unauthenticated", "all"]) { o.service.loginMode = LoginMode(rawValue: m)! }
    for key in FaultSettings.keys {
        if let v = try p.value("--" + key) {
            do { try o.faults.set(key, v) } catch let e as MTError { throw MTError.usage("--\(e.message)", usage: usage) }
        }
    }
    _ = try p.positionals(max: 0)
    return o
}

/// `UTC`, `UTC-5`, `UTC+9`, `UTC+05:30` → minutes from UTC (UTC−12 to UTC+14).
func parseZone(_ s: String) -> Int? {
    guard s.hasPrefix("UTC") else { return nil }
    let rest = s.dropFirst(3)
    if rest.isEmpty { return 0 }
    guard let sign = rest.first, sign == "+" || sign == "-" else { return nil }
    let parts = rest.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count), let h = Int(parts[0]), parts[0].count <= 2,
          let m = parts.count == 2 ? Int(parts[1]) : 0, parts.count == 1 || parts[1].count == 2, (0...59).contains(m) else { return nil }
    let total = (h * 60 + m) * (sign == "-" ? -1 : 1)
    return (-720...840).contains(total) ? total : nil
}

do {
    guard let options = try parse(Array(CommandLine.arguments.dropFirst())) else {
        print(help)
        exit(0)
    }
    let sim = try Simulator.start(options) { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    // Unbuffered: a script reading the first line must not wait for the server to exit.
    FileHandle.standardOutput.write(Data((sim.url + "\n").utf8))
    sim.runUntilSignal()
    exit(0)
} catch {
    let e = error.asMTError
    // MTCore's ArgumentParser names the command as `mt <command>:`; this program is not a subcommand of mt.
    let text = e.description.hasPrefix("mt mt-sim: ") ? String(e.description.dropFirst(3)) : "mt-sim: " + e.description
    FileHandle.standardError.write(Data((text + "\n").utf8))
    exit(e.exitCode.rawValue)
}
