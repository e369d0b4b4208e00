import Foundation
import MTCore
import MTSim

let usage = "mt-sim (--generate | --data DIR) [options]"

let help = """
    mt-sim - a MindTrails-compatible study server for tests, demos and benchmarks

    USAGE
      \(usage)

    Serves GET {prefix}/export, GET {prefix}/export/{name}[?after=yyyy-MM-dd-HH-mm-ss (UTC)] and
    DELETE {prefix}/export/{name}/{id} with HTTP basic auth, like a MindTrails server. Prints its API base URL on
    stdout (other information on stderr) and runs until SIGINT or SIGTERM.

    STUDY
      --generate               build a study from the scale catalogue into --data DIR (must hold no *.json),
                               or a new temporary folder; writes <Scale>.json, deleteable.json, and, without
                               --public-key, a key pair: private.pem (0600, path printed) and public.pem
      --data DIR               serve the <Scale>.json arrays in DIR; deleteable.json ({"Scale": false}) marks
                               scales that must stay on the server
      --keep SCALE             also serve SCALE as non-deleteable (403 on DELETE); repeatable
      --participants N         participants to generate (default 20)
      --seed S                 seed of the study, the fault decisions and the arrivals (default 1)
      --first-id N             first entry id; ids come from one generator shared by all scales (default 1)
      --public-key PEM         encrypt participantRSA with this public key instead of generating a pair
      --catalogue FILE         the scale catalogue (default: $MT_CATALOGUE, then the shipped config/scales.yaml)
      --arrivals N             add N new entries, spread over the scales, every --arrival-interval seconds
      --arrival-interval SECS  default 60
      --ledger FILE            append "<scale><TAB><id>" per deleted entry, flushed before the 200 is sent
                               (default DIR/deletions.tsv)

    SERVER
      --host ADDR              address to bind (default 127.0.0.1)
      --port N                 port (default 0: any free port)
      --prefix PATH            API prefix (default /api), e.g. /study/api
      --url-file FILE          write the base URL (newline-terminated, atomically) to FILE once listening
      --tls                    serve HTTPS with a self-signed certificate made at start, written to
                               DIR/tls-cert.pem (path printed) for curl --cacert or CA_FILE
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
    if let m = try p.choice("--login-redirect", ["unauthenticated", "all"]) { o.service.loginMode = LoginMode(rawValue: m)! }
    for key in FaultSettings.keys {
        if let v = try p.value("--" + key) {
            do { try o.faults.set(key, v) } catch let e as MTError { throw MTError.usage("--\(e.message)", usage: usage) }
        }
    }
    _ = try p.positionals(max: 0)
    return o
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
