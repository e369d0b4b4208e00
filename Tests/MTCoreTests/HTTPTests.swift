import Foundation
import MTCore
import MTTestSupport
import Testing

@Suite(.serialized) struct HTTPTests {
    @Test func statusHeadersBodyAndMethod() throws {
        let server = try PythonServer(script: "http_test_server.py")
        defer { server.stop() }
        let c = try HTTPClient(options: HTTPOptions())
        let r = try c.get(server.baseURL + "/status/503")
        #expect(r.status == 503)
        #expect(String(decoding: r.body, as: UTF8.self) == "status 503")
        #expect(r.header("X-Method") == "GET")
        let d = try c.delete(server.baseURL + "/status/200")
        #expect(d.header("x-method") == "DELETE")
        let u = try c.get(server.baseURL + "/utf8")
        #expect(String(decoding: u.body, as: UTF8.self).contains("中文 🙂"))
        #expect(u.contentType == "application/json")
    }

    /// A streamed GET hands over the status first, then the body in pieces as they arrive, and keeps none of it.
    @Test func streamedBodiesArriveInPiecesAfterTheStatus() throws {
        let server = try PythonServer(script: "http_test_server.py")
        defer { server.stop() }
        let c = try HTTPClient(options: HTTPOptions())
        var events: [String] = []
        var total = 0
        var pieces = 0
        let r = try c.stream(server.baseURL + "/chunked/1000000", head: { status, _ in events.append("head \(status)") },
                             body: { events.append("body"); total += $0.count; pieces += 1 })
        #expect(events.first == "head 200" && events.dropFirst().allSatisfy { $0 == "body" })
        #expect(total == 1_000_000 && pieces > 1 && r.body.isEmpty && r.status == 200)
        // No body at all: the status still comes, once.
        var heads = 0
        _ = try c.stream(server.baseURL + "/big/0", head: { _, _ in heads += 1 }, body: { _ in Issue.record("no body expected") })
        #expect(heads == 1)
    }

    /// An error thrown while the body streams ends the transfer at once and comes back as itself; the handle
    /// stays usable.
    @Test func anErrorThrownByTheReceiverEndsTheTransfer() throws {
        struct Enough: Error {}
        let server = try PythonServer(script: "http_test_server.py")
        defer { server.stop() }
        let c = try HTTPClient(options: HTTPOptions())
        var seen = 0
        #expect(throws: Enough.self) {
            _ = try c.stream(server.baseURL + "/chunked/50000000", head: { _, _ in }, body: { seen += $0.count; if seen > 100_000 { throw Enough() } })
        }
        #expect(seen < 5_000_000, "the transfer stopped soon after the error, not at the end of 50 MB")
        #expect(throws: Enough.self) { _ = try c.stream(server.baseURL + "/status/200", head: { _, _ in throw Enough() }, body: { _ in }) }
        #expect(try c.get(server.baseURL + "/status/200").status == 200)
    }

    @Test func basicAuth() throws {
        let server = try PythonServer(script: "http_test_server.py")
        defer { server.stop() }
        #expect(try HTTPClient(options: HTTPOptions(user: "user", password: Secret("secret"))).get(server.baseURL + "/auth").status == 200)
        let denied = try HTTPClient(options: HTTPOptions(user: "user", password: Secret("wrong"))).get(server.baseURL + "/auth")
        #expect(denied.status == 401)
        #expect(denied.header("www-authenticate")?.contains("Basic") == true)
    }

    @Test func connectionsAreKeptAlive() throws {
        let server = try PythonServer(script: "http_test_server.py")
        defer { server.stop() }
        let c = try HTTPClient(options: HTTPOptions())
        for _ in 0..<20 { _ = try c.get(server.baseURL + "/status/200") }
        let count = Int(String(decoding: try c.get(server.baseURL + "/connections").body, as: UTF8.self))
        #expect(count == 1)
    }

    @Test func timeoutsEndHungTransfers() throws {
        let server = try PythonServer(script: "http_test_server.py")
        defer { server.stop() }
        var o = HTTPOptions()
        o.timeout = 1
        do {
            _ = try HTTPClient(options: o).get(server.baseURL + "/slow/5")
            Issue.record("expected a timeout")
        } catch let e as HTTPTransportError {
            #expect(e.isTimeout)
            #expect(e.asMTError.exitCode == .unavailable)
        }
        var slow = HTTPOptions()
        slow.lowSpeedTime = 1
        #expect(throws: HTTPTransportError.self) { _ = try HTTPClient(options: slow).get(server.baseURL + "/trickle") }
    }

    @Test func refusedConnectionIsATransportError() throws {
        var o = HTTPOptions()
        o.connectTimeout = 2
        #expect(throws: HTTPTransportError.self) { _ = try HTTPClient(options: o).get("http://127.0.0.1:9/") }
    }

    @Test func plainHTTPBeyondLoopbackIsRefusedUnlessAllowed() throws {
        let c = try HTTPClient(options: HTTPOptions())
        do {
            _ = try c.get("http://example.org/api/export")
            Issue.record("expected a refusal")
        } catch let e as MTError {
            #expect(e.exitCode == .config)
            #expect(e.hint?.contains("ALLOW_HTTP") == true)
        }
        #expect(throws: MTError.self) { _ = try c.get("ftp://127.0.0.1/x") }
        var allowed = HTTPOptions()
        allowed.allowInsecureHTTP = true
        try HTTPClient(options: allowed).checkURL("http://example.org/api/export")
    }

    @Test func tlsIsVerified() throws {
        // A self-signed certificate served by openssl s_server must be refused when no CA is given.
        let dir = try TempDir()
        defer { dir.remove() }
        try TestKeys.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.file("k.pem"), "-out", dir.file("c.pem"),
                              "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        let port = Int.random(in: 20_000...40_000)
        let p = try ChildProcess("/usr/bin/openssl", ["s_server", "-quiet", "-accept", "127.0.0.1:\(port)",
                                                      "-cert", dir.file("c.pem"), "-key", dir.file("k.pem"), "-www"])
        defer { p.stop() }
        var o = HTTPOptions()
        o.connectTimeout = 5
        o.timeout = 10
        var lastError: Error?
        for _ in 0..<300 { // wait for s_server to listen (up to 30 s: a loaded CI machine starts it slowly)
            do { _ = try HTTPClient(options: o).get("https://127.0.0.1:\(port)/"); lastError = nil; break } catch {
                lastError = error
                if let t = error as? HTTPTransportError, t.isTLS { break }
                usleep(100_000)
            }
        }
        let refused = try #require(lastError as? HTTPTransportError)
        #expect(refused.isTLS)
        o.caFile = dir.file("c.pem")
        #expect(try HTTPClient(options: o).get("https://127.0.0.1:\(port)/").status == 200)
    }
}

@Suite struct ServerHTTPOptionsTests {
    @Test func talkingToAServerNeedsItsPassword() throws {
        let none = ServerConfig(name: "lab", apiBase: "https://h/api", user: "u", path: "/tmp/x")
        do {
            _ = try HTTPOptions(server: none)
            Issue.record("expected a config error")
        } catch let e as MTError {
            #expect(e.exitCode == .config)
            #expect(e.message.contains("MT_PASS_LAB"))
        }
        var withPassword = none
        withPassword.password = Secret("pw")
        #expect(try HTTPOptions(server: withPassword).password?.reveal == "pw")
    }
}
