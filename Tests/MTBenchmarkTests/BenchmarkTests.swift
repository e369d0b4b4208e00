import Foundation
import MTCore
import MTTestSupport
import Testing

@Suite struct BenchmarkTableTests {
    @Test func tableShowsEachScale() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        let r = try f.mt(["benchmark", "lab"])
        #expect(r.code == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        let last = LocalTime.strftime("%Y-%m-%d %H:%M", f.newestOA.time).split(separator: " ").map(String.init)
        #expect(lines.contains(["OA", "5", "yes"] + last + ["3", "5", "5", "0"]))
        #expect(lines.contains { $0.first == "Task" && $0[1] == "12" && $0[2] == "no" && Array($0.suffix(4)) == ["2", "3", "3", "0"] })
    }

    @Test func jsonShape() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        let r = try f.mt(["benchmark", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let json = try JSONParser.parse(r.stdoutBytes)
        let server = try #require(json["servers"]?.arrayValues?.first)
        #expect(server["server"] == .string("lab"))
        #expect(server["benchmarkFile"] == .string(f.layout.benchmark))
        let oa = try #require(server["scales"]?.arrayValues?.first { $0["scale"] == .string("OA") })
        #expect(oa["benchmark"] == .number("5"))
        #expect(oa["deleteable"] == .bool(true))
        #expect(oa["archives"] == .number("3"))
        #expect(oa["entriesArchived"] == .number("5"))
        #expect(oa["csvRows"] == .number("5"))
        #expect(oa["heldBack"] == .number("0"))
        #expect(oa["lastExport"]?.stringValue == LocalTime.stamp(f.newestOA.time))
        #expect(oa["serverSize"] == nil) // only with --remote
    }
}

@Suite struct BenchmarkEditTests {
    @Test func importsThePlainNumberShape() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        let original = try f.dir.write("benchMark.json", #"{"OA": 812, "Demographics": 40}"#)
        let r = try f.mt(["benchmark", "import", original])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("lab: OA: 5 -> 812"))
        #expect(r.stdout.contains("lab: Demographics: none -> 40"))
        let marks = try f.marks()
        #expect(marks["OA"] == .init(current: 812, deleteable: true))
        #expect(marks["Demographics"] == .init(current: 40, deleteable: true))
        #expect(marks["Task"] == .init(current: 12, deleteable: false)) // not named: kept
        // Written in the shape the original tool reads, private.
        let text = try FileSystem.readString(f.layout.benchmark)
        #expect(text.contains(#""current": 812"#))
        #expect(FileSystem.mode(of: f.layout.benchmark) == 0o600)
    }

    @Test func importsTheObjectShape() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        let original = try f.dir.write("benchMark.json",
            #"{"OA": {"current": 900, "deleteable": true}, "Task": {"current": 50, "deleteable": false}}"#)
        let r = try f.mt(["benchmark", "lab", "import", original])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try f.marks() == ["OA": .init(current: 900, deleteable: true), "Task": .init(current: 50, deleteable: false)])
    }

    @Test func importRefusesAnUnsafeScaleName() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        let original = try f.dir.write("benchMark.json", #"{"../OA": 3}"#)
        let r = try f.mt(["benchmark", "import", original])
        #expect(r.code == 65)
        #expect(r.stderr.contains("'../OA' is not a valid scale name"))
        #expect(try f.marks()["OA"]?.current == 5)
    }

    @Test func setWithYes() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        let r = try f.mt(["benchmark", "set", "OA", "812", "--yes"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout == "lab: OA: 5 -> 812\n")
        #expect(try f.marks()["OA"] == .init(current: 812, deleteable: true))
        let d = try f.mt(["benchmark", "lab", "set", "Task", "13", "-y", "--deleteable", "false"])
        #expect(d.code == 0)
        #expect(try f.marks()["Task"] == .init(current: 13, deleteable: false))
        // Recorded in the server's log for the audit trail.
        let log = try FileSystem.readString(f.layout.logs + "/Daily.log")
        #expect(log.contains("benchmark changed by hand: OA: 5 -> 812"))
    }

    @Test func setRefusedWithoutYesOffATerminal() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        let before = try FileSystem.read(f.layout.benchmark)
        let r = try f.mt(["benchmark", "set", "OA", "812"])
        #expect(r.code == 64)
        #expect(r.stderr.contains("refusing to change the benchmark without confirmation"))
        #expect(r.stderr.contains("--yes"))
        #expect(try FileSystem.read(f.layout.benchmark) == before)
    }

    @Test func resetRemovesTheMark() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        let r = try f.mt(["benchmark", "reset", "OA"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout == "lab: OA: 5 -> none\n")
        #expect(try f.marks() == ["Task": .init(current: 12, deleteable: false)])
        let again = try f.mt(["benchmark", "reset", "OA"])
        #expect(again.code == 66)
        #expect(again.stderr.contains("has no benchmark for scale OA"))
    }

    @Test func waitsForNoOneWhileAnExportHoldsTheLock() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        let lock = try DirectoryLock(directory: f.layout.root)
        defer { lock.release() }
        let r = try f.mt(["benchmark", "set", "OA", "9", "--yes"])
        #expect(r.code == 75)
        #expect(try f.marks()["OA"]?.current == 5)
    }

    @Test func badArguments() throws {
        let f = try BenchmarkFixture()
        defer { f.dir.remove() }
        #expect(try f.mt(["benchmark", "set", "OA", "-3", "--yes"]).code == 64)
        #expect(try f.mt(["benchmark", "set", "OA"]).code == 64)
        #expect(try f.mt(["benchmark", "lab", "frobnicate"]).code == 64)
        #expect(try f.mt(["benchmark", "--remote", "reset", "OA"]).code == 64)
        #expect(try f.mt(["benchmark", "nosuch"]).code == 78)
    }
}
