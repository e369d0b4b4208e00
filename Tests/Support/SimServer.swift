import Foundation
import MTCore

/// A running `mt-sim` child process for tests: started with given flags on loopback port 0, its files in a fresh
/// temporary folder, its password passed through the environment (never argv).
///
/// ```swift
/// let sim = try SimServer(["--generate", "--participants", "5"])
/// let client = try HTTPClient(options: sim.httpOptions)
/// let list = try client.get(sim.url + "/export")
/// ```
public final class SimServer: @unchecked Sendable {
    /// The API base, e.g. `http://127.0.0.1:40123/api` (what a config's SERVER holds).
    public let url: String
    /// Scheme, host and port only: where `/__sim/…` lives.
    public let root: String
    public let dataDir: String
    public let ledgerPath: String
    public let user: String
    public let password: String
    /// stdout and stderr of the server.
    public let logPath: String
    public let temp: TempDir
    private let process: ChildProcess

    /// The private key the simulator wrote (generated studies without `--public-key`).
    public var privateKeyPath: String { dataDir + "/private.pem" }
    public var publicKeyPath: String { dataDir + "/public.pem" }
    /// With `--tls`: the server's self-signed certificate, to trust as a CA file.
    public var caFile: String? { url.hasPrefix("https:") ? dataDir + "/tls-cert.pem" : nil }

    /// Credentials for the project's HTTP client.
    public var httpOptions: HTTPOptions {
        var o = HTTPOptions(user: user, password: Secret(password))
        o.timeout = 30
        o.caFile = caFile
        return o
    }

    /// Starts `mt-sim` with `arguments`. Unless given, adds `--data` (a folder in the temp dir), `--ledger`
    /// and `--url-file`; waits until the server listens.
    public init(_ arguments: [String] = ["--generate"], user: String = "admin", password: String = "sim-test-pass",
                timeout: Double = 60) throws {
        temp = try TempDir("mt-sim")
        var args = arguments
        if !args.contains("--data") { args += ["--data", temp.file("data")] }
        if !args.contains("--ledger") { args += ["--ledger", temp.file("ledger.tsv")] }
        if !args.contains("--user") { args += ["--user", user] }
        let urlFile = temp.file("url")
        args += ["--url-file", urlFile]
        dataDir = args[args.firstIndex(of: "--data")! + 1]
        ledgerPath = args[args.firstIndex(of: "--ledger")! + 1]
        self.user = args[args.firstIndex(of: "--user")! + 1]
        self.password = password
        logPath = temp.file("sim.log")

        var env: [String: String] = ["MT_SIM_PASS": password]
        env["MT_CATALOGUE"] = ProcessInfo.processInfo.environment["MT_CATALOGUE"] ?? Products.packageRoot + "/config/scales.yaml"
        guard FileManager.default.isExecutableFile(atPath: Products.mtSim) else {
            temp.remove()
            throw MTError(.software, "mt-sim is not built at \(Products.mtSim)",
                          hint: "build it with `swift build --package-path Sim --traits TLS` (make test does), or set MT_SIM_BIN")
        }
        let p = try ChildProcess(Products.mtSim, args, environment: env, output: logPath)
        process = p

        let deadline = Date().addingTimeInterval(timeout)
        var found: String?
        while found == nil {
            if let s = try? String(contentsOfFile: urlFile, encoding: .utf8), s.hasSuffix("\n") {
                found = s.trimmingCharacters(in: .whitespacesAndNewlines)
            } else if !p.isRunning || Date() > deadline {
                let status = p.stop()
                let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                temp.remove()
                throw MTError(.software, "mt-sim \(arguments.joined(separator: " ")) did not start (exit \(status)): \(output)")
            } else {
                usleep(20_000)
            }
        }
        url = found!
        let c = URLComponents(string: url)!
        root = "\(c.scheme!)://\(c.host!.contains(":") ? "[\(c.host!)]" : c.host!):\(c.port!)"
    }

    deinit {
        stop()
        temp.remove()
    }

    public var isRunning: Bool { process.isRunning }

    /// SIGTERM (or `signal`), then waits for the exit (SIGKILL after 10 s); returns the exit code
    /// (128+N when killed by signal N).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 { process.stop(signal: signal) }

    private func admin(_ method: String, _ path: String) throws -> JSONValue {
        let client = try HTTPClient(options: httpOptions)
        let r = try client.request(method, root + path)
        guard r.status == 200 else {
            throw MTError(.software, "mt-sim \(method) \(path) answered \(r.status): \(String(decoding: r.body, as: UTF8.self))")
        }
        return try JSONParser.parse(r.body)
    }

    /// `GET /__sim/stats`: `requests.{list,fetch,delete,admin,other}`, `statuses.{2xx,…}`, `deletes`, `faults`, `entries`.
    public func stats() throws -> JSONValue { try admin("GET", "/__sim/stats") }

    /// One counter, e.g. `counter("requests", "delete")`, `counter("deletes")`, `counter("statuses", "5xx")`.
    public func counter(_ path: String...) throws -> Int {
        var v: JSONValue? = try stats()
        for k in path { v = v?[k] }
        return v.flatMap { $0.int64Value }.map(Int.init) ?? 0
    }

    /// Replaces all faults: `setFaults("fail-delete=500@0.2&latency-ms=10")`; "" clears them.
    @discardableResult
    public func setFaults(_ query: String) throws -> JSONValue {
        try admin("POST", "/__sim/faults" + (query.isEmpty ? "" : "?" + query))
    }

    public func clearFaults() throws { _ = try admin("DELETE", "/__sim/faults") }

    /// Adds `count` new entries now; returns where they went.
    @discardableResult
    public func addArrivals(_ count: Int) throws -> [(scale: String, id: Int64)] {
        let v = try admin("POST", "/__sim/arrivals?count=\(count)")
        return (v["ids"]?.arrayValues ?? []).compactMap { e in
            guard let s = e["scale"]?.stringValue, let id = e["id"]?.int64Value else { return nil }
            return (s, id)
        }
    }

    /// `POST /__sim/reload`: serve exactly what the study folder holds now (late commits, restarted ids,
    /// flipped deleteable flags, null dates written there by the test).
    public func reload() throws { _ = try admin("POST", "/__sim/reload") }

    /// The deletion ledger: every id the server deleted, in order.
    public func ledger() throws -> [(scale: String, id: Int64)] {
        try timedLedger().map { ($0.scale, $0.id) }
    }

    /// The deletion ledger with the time of each delete, as the server recorded it.
    public func timedLedger() throws -> [(scale: String, id: Int64, time: Date)] {
        guard FileSystem.exists(ledgerPath) else { return [] }
        return try FileSystem.readString(ledgerPath).split(separator: "\n").map { line in
            let parts = line.split(separator: "\t")
            guard parts.count == 3, let id = Int64(parts[1]), let time = UTCTime.parse(String(parts[2])) else {
                throw MTError(.dataError, "\(ledgerPath): bad ledger line '\(line)'")
            }
            return (String(parts[0]), id, time)
        }
    }

    /// Writes an `mt` config file (0600) with one READY block for this simulator: SERVER, USER, a PASS_FILE
    /// (0600) beside the config, PATH `dataPath`, PRIVATE_FILE when the simulator made the key, CA_FILE with
    /// `--tls`, and `extra` lines (e.g. `DELETE_MODE: true`). Returns the config's path.
    public func writeConfig(in dir: String, name: String = "sim", dataPath: String, extra: [String] = []) throws -> String {
        let passFile = dir + "/\(name).pass"
        try FileSystem.writeAtomically(Array((password + "\n").utf8), to: passFile, mode: 0o600)
        func q(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var lines = ["\(name):", "  READY: true", "  SERVER: \(q(url))", "  USER: \(q(user))", "  PASS_FILE: \(q(passFile))",
                     "  PATH: \(q(dataPath))"]
        if FileSystem.exists(privateKeyPath) { lines.append("  PRIVATE_FILE: \(q(privateKeyPath))") }
        if let caFile { lines.append("  CA_FILE: \(q(caFile))") }
        lines += extra.map { "  " + $0 }
        let path = dir + "/\(name).yaml"
        try FileSystem.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: path, mode: 0o600)
        return path
    }

    /// The server's output so far (for failure messages).
    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}
