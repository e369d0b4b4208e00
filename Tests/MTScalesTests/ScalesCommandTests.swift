import Foundation
import MTCore
import MTTestSupport
import Testing

/// A study server's list endpoint on loopback, in the shapes real deployments answer: the list, an HTML login
/// page with status 200 (old deployments after a wrong password), and 401.
final class ListServer: @unchecked Sendable {
    let process: ChildProcess
    let port: Int
    let dir: TempDir

    static let script = #"""
        import base64, http.server, os, sys
        LIST = b'[{"name":"OA","size":12,"deleteable":true},{"name":"Demographic","size":3,"deleteable":false},{"name":"NewThing","size":0,"deleteable":true},{"name":"../x\\u001b[31m","size":1}]'
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def do_GET(self):
                ok = self.headers.get("Authorization") == "Basic " + base64.b64encode(b"admin:pw").decode()
                if self.path == "/good/api/export" and ok: self.send(200, LIST, "application/json")
                elif self.path == "/login/api/export": self.send(200, b"<html><body>Please log in</body></html>", "text/html")
                elif self.path == "/object/api/export" and ok: self.send(200, b'{"name":"OA"}', "application/json")
                else: self.send(401, b"no", "text/plain")
            def send(self, status, body, ctype):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        open(sys.argv[1] + ".tmp", "w").write("%d\n" % srv.server_address[1])
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        srv.serve_forever()
        """#

    init() throws {
        dir = try TempDir("mt-list")
        let script = try dir.write("list_server.py", Self.script)
        process = try ChildProcess("/usr/bin/env", ["python3", script, dir.file("port")])
        port = Int(try waitForFile(dir.file("port")))!
    }

    func stop() {
        _ = process.stop()
        dir.remove()
    }
}

@Suite struct ScalesCommandTests {
    func config(_ dir: TempDir, port: Int, paths: [String]) throws -> String {
        _ = try dir.write("pw", "pw\n")
        var text = ""
        for p in paths {
            text += """
                \(p):
                  SERVER: http://127.0.0.1:\(port)/\(p)/api/
                  USER: admin
                  PASS_FILE: pw
                  PATH: data/\(p)

                """
        }
        return try dir.write("mt.yaml", text)
    }

    @Test func listsTheServersScalesAsTableAndJSON() throws {
        let server = try ListServer()
        defer { server.stop() }
        let dir = try TempDir()
        defer { dir.remove() }
        let c = try config(dir, port: server.port, paths: ["good"])
        let t = try Run.mt(["--config", c, "scales", "good"])
        #expect(t.code == 0, "\(t.stderr)")
        #expect(t.stdout.contains("good: 4 scales"))
        #expect(t.stdout.contains("../x\\u{1b}[31m") && t.stdout.contains("unsafe name"))
        #expect(!t.stdout.contains("\u{1B}"))
        #expect(t.stdout.range(of: #"OA\s+12\s+yes\s+yes"#, options: .regularExpression) != nil)
        #expect(t.stdout.range(of: #"Demographic\s+3\s+no\s+yes"#, options: .regularExpression) != nil)
        #expect(t.stdout.range(of: #"NewThing\s+0\s+yes\s+unknown"#, options: .regularExpression) != nil)
        let j = try Run.mt(["--config", c, "scales", "--json"])
        #expect(j.code == 0)
        let v = try JSONParser.parse(Array(j.stdout.utf8))
        let oa = v.arrayValues?.first?["scales"]?.arrayValues?.first
        #expect(oa == .object([("name", .string("OA")), ("size", .number("12")), ("deleteable", .bool(true)), ("inCatalogue", .bool(true))]))
    }

    @Test func aLoginPageOrWrongCredentialsAreNeverTakenForTheList() throws {
        let server = try ListServer()
        defer { server.stop() }
        let dir = try TempDir()
        defer { dir.remove() }
        let c = try config(dir, port: server.port, paths: ["login", "object", "denied"])
        let login = try Run.mt(["--config", c, "scales", "login"])
        #expect(login.code == 69)
        #expect(login.stderr.contains("answered 200 with a body that is not JSON (text/html)"))
        let object = try Run.mt(["--config", c, "scales", "object"])
        #expect(object.code == 69)
        #expect(object.stderr.contains("JSON that is not an array"))
        let denied = try Run.mt(["--config", c, "scales", "denied"])
        #expect(denied.code == 69)
        #expect(denied.stderr.contains("401") && denied.stderr.contains("credentials"))
        #expect(!denied.stderr.contains("pw\n"))
    }

    @Test func showPrintsItemsValidValuesAndTheScore() throws {
        let r = try Run.mt(["scales", "show", "OA"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("anxious_freq, anxious_sev, avoid, interfere, interfere_social"))
        #expect(r.stdout.contains("all items: 0–4, or 555"))
        #expect(r.stdout.contains("SUM: mean of the answered items × number of items (5)"))
        #expect(r.stdout.contains("no answer      555 ("))
        #expect(r.stdout.contains("source         MindTrails r01 persistence/OA.java"))
        #expect(r.stdout.contains("identity       participant + session + tag"))
        let j = try Run.mt(["scales", "show", "DD", "--json"])
        let v = try JSONParser.parse(Array(j.stdout.utf8))
        #expect(v["valid"]?.arrayValues?.first == .object([("items", .array([.string("q1_noAns"), .string("q2_noAns")])),
                                                             ("values", .array([.string("true"), .string("false")]))]))
        let bad = try Run.mt(["scales", "show", "OAS"])
        #expect(bad.code == 64)
        #expect(bad.stderr.contains("did you mean 'OA'"))
    }

    @Test func localListsTheCatalogue() throws {
        let r = try Run.mt(["scales", "--local", "--json"])
        #expect(r.code == 0)
        let names = try JSONParser.parse(Array(r.stdout.utf8)).arrayValues?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names.contains("OA") && names.contains("BBSIQ") && names.contains("ExpectancyBias"))
        let t = try Run.mt(["scales", "--local"])
        #expect(t.stdout.range(of: #"RR\s+36\s+Score,Negative_Ave,Positive_Ave"#, options: .regularExpression) != nil)
    }

    @Test func checkReportsUnknownAndMissingColumns() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let clean = try dir.write("OA_Nov_29_2026.csv", "anxious_freq,anxious_sev,avoid,date,id,interfere,interfere_social,participantRSA,session,tag,timeOnPage\r\n")
        let ok = try Run.mt(["scales", "check", clean])
        #expect(ok.code == 0, "\(ok.stdout)\(ok.stderr)")
        let odd = try dir.write("OA_Nov_30_2026.csv", "anxious_freq,avoid,bogus,participantDAO,session\r\n1,2,3,4,PRE\r\n")
        let r = try Run.mt(["scales", "check", odd])
        #expect(r.code == 1)
        #expect(r.stdout.contains("missing from the file (3): anxious_sev, interfere, interfere_social"))
        #expect(r.stdout.contains("unknown to the catalogue (1): bogus"))
        let j = try Run.mt(["scales", "check", "--json", "--scale", "OA", odd])
        #expect(try JSONParser.parse(Array(j.stdout.utf8)).arrayValues?.first?["unknown"] == .array([.string("bogus")]))
        let nameless = try dir.write("export.csv", "a\r\n")
        #expect(try Run.mt(["scales", "check", nameless]).code == 64)
    }
}

/// `mt scales SERVER` against mt-sim, the project's MindTrails-compatible server.
@Suite struct ScalesAgainstSimTests {
    func config(_ dir: TempDir, _ sim: SimServer) throws -> String {
        try dir.write("mt.yaml", """
            sim:
              SERVER: \(sim.url)/
              USER: \(sim.user)
              PATH: data/
            """)
    }

    @Test func theListIsTheServersOwn() throws {
        let sim = try SimServer(["--generate", "--participants", "4"])
        defer { sim.stop() }
        let dir = try TempDir()
        defer { dir.remove() }
        let c = try config(dir, sim)
        let r = try Run.mt(["--config", c, "scales", "sim", "--json"], environment: ["MT_PASS_SIM": sim.password])
        #expect(r.code == 0, "\(r.stderr)\n\(sim.log())")
        let ours = try JSONParser.parse(Array(r.stdout.utf8)).arrayValues?.first?["scales"]?.arrayValues ?? []
        let direct = try JSONParser.parse(try HTTPClient(options: sim.httpOptions).get(sim.url + "/export").body).arrayValues ?? []
        #expect(!ours.isEmpty && ours.count == direct.count)
        for (a, b) in zip(ours, direct) {
            #expect(a["name"] == b["name"] && a["size"] == b["size"] && a["deleteable"] == b["deleteable"])
            // The study's participant table and TaskLog are not questionnaires.
            let studyTable = ["ParticipantExportDAO", "TaskLog"].contains(a["name"]?.stringValue ?? "")
            #expect(a["inCatalogue"] == .bool(!studyTable), "\(a["name"] ?? .null)")
        }
        let t = try Run.mt(["--config", c, "scales"], environment: ["MT_PASS_SIM": sim.password])
        #expect(t.stdout.contains("sim: \(direct.count) scales"))
    }

    @Test func aLoginRedirectIsNotTheList() throws {
        let sim = try SimServer(["--generate", "--participants", "2", "--login-redirect", "unauthenticated"])
        defer { sim.stop() }
        let dir = try TempDir()
        defer { dir.remove() }
        let r = try Run.mt(["--config", try config(dir, sim), "scales", "sim"], environment: ["MT_PASS_SIM": "wrong-pass"])
        #expect(r.code == 69)
        #expect(r.stderr.contains("302") && r.stderr.contains("login"))
        #expect(!r.stderr.contains("wrong-pass"))
    }
}
