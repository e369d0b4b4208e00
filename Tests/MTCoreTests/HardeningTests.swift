import Foundation
import MTCore
import MTTestSupport
import Testing

/// A port nothing listens on: bound, then closed again, so the kernel refuses connections to it.
func closedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_addr.s_addr = inet_addr("127.0.0.1")
    a.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    close(fd)
    return Int(UInt16(bigEndian: a.sin_port))
}

@Suite struct CurlErrorBufferTests {
    @Test("libcurl's own message (written into the error buffer during the transfer) reaches the error")
    func httpErrorNamesThePort() throws {
        let port = closedPort()
        var o = HTTPOptions()
        o.connectTimeout = 5
        do {
            _ = try HTTPClient(options: o).get("http://127.0.0.1:\(port)/api/export")
            Issue.record("expected a refused connection")
        } catch let e as HTTPTransportError {
            // Only the error buffer names the port; curl_easy_strerror says just "Couldn't connect to server".
            #expect(e.message.contains("port \(port)"), "\(e.message)")
            #expect(e.message.contains("127.0.0.1"))
        }
    }

    @Test func mailErrorNamesThePort() throws {
        let port = closedPort()
        let mailer = AlertMailer(config: AlertConfig(to: ["lab@example.org"], from: "mt@example.org",
                                                     smtpURL: "smtp://127.0.0.1:\(port)"))
        do {
            try mailer.send(subject: "s", body: "b")
            Issue.record("expected a refused connection")
        } catch let e as MTError {
            #expect(e.message.contains("port \(port)"), "\(e.message)")
            #expect(e.exitCode == .unavailable)
        }
    }
}

@Suite struct LoopbackTests {
    @Test func addressesAreParsedNotPrefixMatched() {
        for host in ["127.0.0.1", "127.255.3.4", "::1", "[::1]", "0:0:0:0:0:0:0:1", "LOCALHOST"] {
            #expect(Loopback.check(host: host).isLoopback, "\(host)")
        }
        for host in ["127.example.org", "127.0.0.1.example.org", "localhost.example.org", "128.0.0.1", "10.0.0.1",
                     "::2", "::ffff:8.8.8.8", "example.org", "127.1", "0x7f.0.0.1", "1.127.0.0", ""] {
            #expect(!Loopback.check(host: host).isLoopback, "\(host)")
        }
        #expect(!HTTPClient.isLoopback(host: "127.example.org"))
    }

    @Test func theReasonIsSaid() {
        #expect(Loopback.check(host: "127.example.org").reason.contains("host name"))
        #expect(Loopback.check(host: "127.0.0.9").reason.contains("127.0.0.0/8"))
        #expect(Loopback.check(host: "10.1.2.3").reason.contains("outside"))
        let local = Loopback.check(host: "localhost")
        #expect(local.reason.contains("resolves only to loopback") && local.reason.contains("127.0.0.1"), "\(local.reason)")
    }

    @Test func plainHTTPToAHostNamedLikeLoopbackIsRefused() throws {
        let c = try HTTPClient(options: HTTPOptions())
        #expect(throws: MTError.self) { try c.checkURL("http://127.example.org/api/export") }
        try c.checkURL("http://127.0.0.1:8080/api/export")
        try c.checkURL("http://[::1]:8080/api/export")
    }

    @Test func configCheckSaysWhy() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = try dir.write("c.yaml", """
            remote:
              SERVER: http://127.example.org/api/
              USER: u
              PASS: p
              PATH: data
              ALERT_EMAIL: lab@example.org
              SMTP_SERVER: smtp://127.0.0.1:2525
            """)
        let config = try MTConfig.load(path: p, environment: [:], allowReadableSecrets: false)
        let report = ConfigCheck.run(config: config, servers: config.servers).servers[0]
        #expect(report.problems.contains { $0.contains("refusing plain http") })
        #expect(report.notes.contains { $0.contains("not loopback, because 127.example.org is a host name") }, "\(report.notes)")
        #expect(report.notes.contains { $0.contains("SMTP_SERVER is loopback (STARTTLS when offered), because 127.0.0.1 is a loopback address") },
                "\(report.notes)")
    }
}

@Suite struct StrictBase64Tests {
    @Test func canonicalStandardBase64Decodes() {
        #expect(Base64.decode("aGVsbG8=") == Array("hello".utf8))
        #expect(Base64.decode("aGVsbA==") == Array("hell".utf8))
        #expect(Base64.decode("aGVs") == Array("hel".utf8))
        #expect(Base64.decode("aGVs\nbG8=\r\n") == Array("hello".utf8), "line-wrapped values")
        #expect(Base64.decode("+/+/") == [0xFB, 0xFF, 0xBF])
        for n in 1..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
    }

    @Test("URL-safe alphabet, missing or misplaced padding and stray bits are not base64")
    func lenientFormsAreRefused() {
        for text in ["-_-_", "aGVsbG8", "aGVsbA", "aGVsbA=", "aGVsbG8==", "aGVs=bG8", "=aGVs", "====", "aGVsbG9=",
                     "aGVsbB==", "aGVsbA==aGVs", "", "   ", "a", "aGVsbG8=\u{0}", "aGVs bG8=é"] {
            #expect(Base64.decode(text) == nil, "\(text.debugDescription)")
        }
    }
}

@Suite struct UntrustedTextTests {
    @Test func controlAndFormatCharactersAreShownNotObeyed() {
        let hostile = "OA\u{1b}[31mred\u{1b}]0;title\u{07}\u{9b}2J\u{202e}evil\u{7f}\r\nnext"
        let shown = Untrusted.text(hostile)
        #expect(!shown.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format })
        #expect(shown == "OA\\u{1b}[31mred\\u{1b}]0;title\\u{7}\\u{9b}2J\\u{202e}evil\\u{7f}\\u{d}\\u{a}next")
        #expect(Untrusted.text("café 中文 🙂 a\\b") == "café 中文 🙂 a\\b", "printable text, UTF-8 and backslashes stay as they are")
        #expect(Untrusted.message("line one \u{1b}[2J\n  hint: two") == "line one \\u{1b}[2J\n  hint: two")
        #expect(Untrusted.line("a\nb\u{1b}") == "a\\u{a}b\\u{1b}")
    }

    @Test("verify findings quote file names and messages escaped, on their two lines")
    func verifyFindingsAreEscaped() {
        let f = VerifyFinding(.csvColumns, path: "/data/active_data/OA\u{1b}[2J_Nov_29_2026.csv", line: 3, scale: "OA",
                              message: "column \u{9b}31m\nforged", hint: "run \u{1b}]0;x\u{7}")
        #expect(f.text == "csv-columns: /data/active_data/OA\\u{1b}[2J_Nov_29_2026.csv:3: column \\u{9b}31m\\u{a}forged\n  fix: run \\u{1b}]0;x\\u{7}")
    }

    @Test func lengthIsBounded() {
        let long = String(repeating: "x", count: 10_000)
        let shown = Untrusted.text(long)
        #expect(shown.hasPrefix(String(repeating: "x", count: Untrusted.limit)))
        #expect(shown.hasSuffix("…(\(10_000 - Untrusted.limit) more)"))
        #expect(shown.count < 300)
    }

    @Test("--json escapes DEL and C1 controls too, and reads back the same value")
    func jsonEscapesEveryControl() throws {
        let value = "a\u{1b}[1m\u{7f}\u{9b}\u{85}é\u{a0}中"
        let text = JSONWriter.string(.string(value))
        #expect(text == "\"a\\u001b[1m\\u007f\\u009b\\u0085é\u{a0}中\"")
        #expect(try JSONParser.parse(Array(text.utf8)) == .string(value))
    }
}

@Suite(.serialized) struct MaxResponseTests {
    @Test("an answer above the limit fails with a clear message, whether its length is announced or not")
    func largerAnswersStop() throws {
        let server = try PythonServer(script: "http_test_server.py")
        defer { server.stop() }
        var o = HTTPOptions()
        o.maxResponseBytes = 100_000
        let c = try HTTPClient(options: o)
        #expect(try c.get(server.baseURL + "/big/100000").body.count == 100_000)
        #expect(try c.get(server.baseURL + "/chunked/100000").body.count == 100_000)
        for path in ["/big/100001", "/chunked/5000000"] {
            do {
                _ = try c.get(server.baseURL + path)
                Issue.record("expected \(path) to be refused")
            } catch let e as MTError {
                #expect(e.message.contains("larger than MAX_RESPONSE (97.6 KiB)"), "\(e.message)")
                #expect(e.hint?.contains("nothing was deleted") == true)
                #expect(e.exitCode == .unavailable)
            }
        }
        // The client still works after an aborted transfer.
        #expect(try c.get(server.baseURL + "/status/200").status == 200)
    }

    @Test func configKeyAndDefault() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = try dir.write("c.yaml", """
            a:
              SERVER: https://h/api/
              PATH: a
              MAX_RESPONSE: 500M
            b:
              SERVER: https://h/api/
              PATH: b
            """)
        let config = try MTConfig.load(path: p, environment: [:], allowReadableSecrets: false)
        #expect(config.warnings.isEmpty, "\(config.warnings)")
        #expect(try config.server(named: "a").maxResponse == 500 << 20)
        #expect(try config.server(named: "b").maxResponse == 4 << 30)
        var a = try config.server(named: "a")
        a.password = Secret("x")
        #expect(try HTTPOptions(server: a).maxResponseBytes == 500 << 20)
        #expect(ByteSize.parse("4GiB") == 4 << 30 && ByteSize.parse("1048576") == 1 << 20 && ByteSize.parse("12k") == 12 << 10)
        for bad in ["lots", "-1", "4X", "", "99999999999T"] { #expect(ByteSize.parse(bad) == nil, "\(bad)") }
        let q = try dir.write("d.yaml", """
            a:
              SERVER: https://h/api/
              PATH: a
              MAX_RESPONSE: lots
            """)
        #expect(throws: MTError.self) { _ = try MTConfig.load(path: q, environment: [:], allowReadableSecrets: false) }
    }
}
