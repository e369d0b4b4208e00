import Foundation
import MTCore
import MTTestSupport
import Testing

/// `--remote` against a real server on loopback (mt-sim): entries at or below the benchmark left on the server.
@Suite struct RemoteVerifyTests {
    /// The server still holds OA 4…7 (6 was never archived) and the non-deleteable Task 10…12.
    static func startSim() throws -> (SimServer, TempDir) {
        let data = try TempDir("mt-sim-data")
        let oa = (4...7).map { id in JSONValue.object([("id", .int(Int64(id))), ("answer", .string("réponse \(id)"))]) }
        let task = (10...12).map { id in JSONValue.object([("id", .int(Int64(id))), ("session", .string("PRE"))]) }
        try FileSystem.writeAtomically(JSONWriter.bytes(.array(oa)), to: data.file("OA.json"))
        try FileSystem.writeAtomically(JSONWriter.bytes(.array(task)), to: data.file("Task.json"))
        try FileSystem.writeAtomically(Array(#"{"Task": false}"#.utf8), to: data.file("deleteable.json"))
        return (try SimServer(["--data", data.path], password: "sim-pass"), data)
    }

    @Test func verifyRemoteListsWhatIsLeftOnTheServer() throws {
        let (sim, data) = try Self.startSim()
        defer { sim.stop(); data.remove() }
        let f = try LabFixture(serverURL: sim.url + "/", password: "sim-pass")
        defer { f.dir.remove() }
        try Benchmark(marks: ["OA": .init(current: 6, deleteable: true), "Task": .init(current: 12, deleteable: false)])
            .write(path: f.layout.benchmark)
        let local = try f.mt(["verify", "lab"])
        #expect(local.code == 0, "\(local.stdout)\(local.stderr)")

        let r = try f.mt(["verify", "lab", "--remote", "--json"])
        #expect(r.code == 1, "\(r.stderr)")
        let server = try #require(try JSONParser.parse(r.stdoutBytes)["servers"]?.arrayValues?.first)
        let findings = try #require(server["findings"]?.arrayValues)
        #expect(findings.map { $0["kind"] } == Array(repeating: .string("remote-remains"), count: 3))
        #expect(findings.map { $0["id"] } == [.number("4"), .number("5"), .number("6")])
        #expect(findings.allSatisfy { $0["scale"] == .string("OA") })
        #expect(findings[0]["hint"]?.stringValue?.contains("an archive holds it") == true)
        #expect(findings[2]["hint"]?.stringValue?.contains("no archive holds it: run mt export lab") == true)
        #expect(try sim.counter("deletes") == 0) // verify only reads

        let text = try f.mt(["verify", "lab", "--remote"])
        #expect(text.code == 1)
        #expect(text.stdout.contains("remote-remains: \(sim.url)/export/OA: OA id 6 is at or below the benchmark 6 but still on the server"))
    }

    @Test func verifyRemoteWithWrongPasswordExits69() throws {
        let (sim, data) = try Self.startSim()
        defer { sim.stop(); data.remove() }
        let f = try LabFixture(serverURL: sim.url + "/", password: "wrong-Pa55")
        defer { f.dir.remove() }
        let r = try f.mt(["verify", "lab", "--remote"])
        #expect(r.code == 69)
        #expect(r.stderr.contains("answered 401: the credentials were refused"))
        #expect(!r.stderr.contains("wrong-Pa55"))
        #expect(r.stdout.contains("lab: ok:")) // the local checks still ran and passed
    }
}

/// `--remote` reads a scale's entries with export's strict reader: an entry whose id is not a whole number is an
/// error that names the scale and the entry, never silently left out of the count.
@Suite struct RemoteVerifyStrictTests {
    @Test func anEntryWithoutAUsableIdIsReportedNotDropped() throws {
        let server = try PythonServer(script: "hostile_server.py")
        defer { server.stop() }
        let f = try LabFixture(serverURL: server.baseURL + "/api/", password: "secret")
        defer { f.dir.remove() }
        try Benchmark(marks: ["IDS": .init(current: 10, deleteable: true)]).write(path: f.layout.benchmark)
        let r = try f.mt(["verify", "lab", "--remote"])
        #expect(r.code != 0)
        let out = r.stdout + r.stderr
        #expect(out.contains("IDS") && out.contains("whole-number \"id\""), "\(out)")
    }
}
