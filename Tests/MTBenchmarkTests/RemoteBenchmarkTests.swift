import Foundation
import MTCore
import MTTestSupport
import Testing

/// `mt benchmark --remote` against mt-sim on loopback.
@Suite struct RemoteBenchmarkTests {
    @Test func remoteAddsServerSizeAndWhatRemainsAtOrBelowTheMark() throws {
        let data = try TempDir("mt-sim-data")
        defer { data.remove() }
        let oa = (4...7).map { id in JSONValue.object([("id", .int(Int64(id)))]) }
        let task = (10...12).map { id in JSONValue.object([("id", .int(Int64(id)))]) }
        try FileSystem.writeAtomically(JSONWriter.bytes(.array(oa)), to: data.file("OA.json"))
        try FileSystem.writeAtomically(JSONWriter.bytes(.array(task)), to: data.file("Task.json"))
        try FileSystem.writeAtomically(JSONWriter.bytes(.array([])), to: data.file("Fresh.json"))
        try FileSystem.writeAtomically(Array(#"{"Task": false}"#.utf8), to: data.file("deleteable.json"))
        let sim = try SimServer(["--data", data.path], password: "sim-pass")
        defer { sim.stop() }
        let f = try BenchmarkFixture(serverURL: sim.url + "/", password: "sim-pass")
        defer { f.dir.remove() }

        let r = try f.mt(["benchmark", "lab", "--remote", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let scales = try #require(try JSONParser.parse(r.stdoutBytes)["servers"]?.arrayValues?.first?["scales"]?.arrayValues)
        func row(_ name: String) throws -> JSONValue { try #require(scales.first { $0["scale"] == .string(name) }) }
        #expect(try row("OA")["serverSize"] == .number("4"))
        #expect(try row("OA")["remainingAtOrBelowBenchmark"] == .number("2")) // 4 and 5 ≤ 5
        #expect(try row("Task")["serverSize"] == .number("3"))
        #expect(try row("Task")["remainingAtOrBelowBenchmark"] == .number("3"))
        #expect(try row("Fresh")["onServer"] == .bool(true))
        #expect(try row("Fresh")["benchmark"] == .null)
        #expect(try row("Fresh")["remainingAtOrBelowBenchmark"] == .null)
        #expect(try sim.counter("deletes") == 0)

        let text = try f.mt(["benchmark", "lab", "--remote"])
        #expect(text.code == 0)
        #expect(text.stdout.contains("SERVER SIZE  AT/BELOW MARK"))
    }
}
