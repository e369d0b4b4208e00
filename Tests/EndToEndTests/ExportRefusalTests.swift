import Foundation
import MTCore
import MTTestSupport
import Testing

/// Failures that must never pass in silence under cron: a wrong key on a run too small for the key probe, and a
/// scale that the server stops listing.
@Suite(.serialized) struct ExportRefusalTests {
    /// RSA PKCS#1 v1.5 ciphertext of `text` made by the openssl command line with `publicKey`, base64.
    static func encrypt(_ text: String, publicKey: String, in dir: String) throws -> String {
        let plain = dir + "/plain.txt"
        try FileSystem.writeAtomically(Array(text.utf8), to: plain)
        let r = try TestKeys.openssl(["pkeyutl", "-encrypt", "-pubin", "-inkey", publicKey, "-pkeyopt", "rsa_padding_mode:pkcs1", "-in", plain])
        #expect(r.code == 0, "\(r.stderr)")
        return Data(r.stdoutBytes).base64EncodedString()
    }

    /// Three encrypted values, fewer than the key probe's ten, and a PRIVATE_FILE that is not the study's key:
    /// the scale stops before its first row is appended, so no ciphertext lands in a CSV and nothing is deleted.
    @Test func aWrongKeyOnASmallRunWritesNoRowAndDeletesNothing() throws {
        let study = try Study()
        let publicKey = study.path + "/private.pub.pem"
        let pub = try TestKeys.openssl(["rsa", "-in", study.path + "/private.pem", "-pubout", "-out", publicKey])
        #expect(pub.code == 0, "\(pub.stderr)")
        let date = Date().addingTimeInterval(-3600)
        try study.write("OA", try (1...3).map { id in
            .object([("id", .int(Int64(id))), ("date", .string(Study.est(date))),
                     ("participantRSA", .string(try Self.encrypt("participant \(id)", publicKey: publicKey, in: study.path)))])
        })
        let f = try ExportFixture(study: study)
        let other = try TestKeys.generate(in: f.dir.path, name: "other")
        let text = try FileSystem.readString(f.config)
        let lines = text.split(separator: "\n").map { $0.hasPrefix("  PRIVATE_FILE:") ? "  PRIVATE_FILE: \"\(other.privateKey)\"" : String($0) }
        try FileSystem.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: f.config)

        let r = try f.export("sim", "OA")
        #expect(r.code == 65, "\(r.stderr)")
        #expect(try f.sim.ledger().isEmpty, "entries were deleted whose CSV rows hold ciphertext")
        #expect(try f.layout.activeCSVs(scale: "OA").isEmpty)
        #expect(!(try FileSystem.list(f.layout.raw).filter { $0.hasSuffix(".json.gz") }.isEmpty), "the answer is archived all the same")
    }

    /// A scale exported before that the server no longer lists is said in the run (exit 1), in mt status and in
    /// mt verify --remote; a list that comes back empty is the server's failure (69).
    @Test func aScaleThatVanishesFromTheListIsNeverPassedOver() throws {
        let study = try Study()
        let date = Date().addingTimeInterval(-3600)
        try study.write("OA", (1...5).map { Study.entry(Int64($0), date: date) })
        try study.write("SA", (6...9).map { Study.entry(Int64($0), date: date) })
        let f = try ExportFixture(study: study)
        #expect(try f.export("sim").code == 0)

        _ = unlink(study.path + "/SA.json")
        try f.sim.reload()
        let r = try f.export("sim", "-q")
        #expect(r.code == 1, "\(r.stderr)")
        #expect(r.stderr.contains("no longer holds SA"), "\(r.stderr)")
        let status = try Run.mt(["--config", f.config, "status", "sim"])
        #expect(status.code == 1, "\(status.stdout)\(status.stderr)")
        #expect(status.stdout.contains("vanished") && status.stdout.contains("SA"), "\(status.stdout)")
        let stale = try Run.mt(["--config", f.config, "status", "sim", "--max-age", "1d", "--json"])
        #expect(stale.code == 1)
        #expect(try JSONParser.parse(Array(stale.stdout.utf8))["servers"]?.arrayValues?.first?["vanished"] == .array([.string("SA")]))
        let v = try f.verify("sim", "--remote")
        #expect(v.code == 1, "\(v.stdout)")
        #expect(v.stdout.contains("scale-vanished") && v.stdout.contains("SA"), "\(v.stdout)")

        _ = unlink(study.path + "/OA.json")
        try f.sim.reload()
        let empty = try f.export("sim")
        #expect(empty.code == 69, "\(empty.stderr)")
        #expect(empty.stderr.contains("list of scales is empty"), "\(empty.stderr)")
    }

    /// The monitoring's own files: a METRICS_FILE whose folder is missing, and a run record that cannot be
    /// written, make the run exit 1 (the data was handled), never 0 in silence.
    @Test func aMetricsFileOrRunRecordThatCannotBeWrittenIsExitOne() throws {
        let study = try Study()
        try study.write("OA", (1...3).map { Study.entry(Int64($0), date: Date().addingTimeInterval(-3600)) })
        let f = try ExportFixture(study: study)
        let metrics = f.dir.path + "/no-such-folder/mt.prom"
        try FileSystem.writeAtomically(Array((try FileSystem.readString(f.config) + "  METRICS_FILE: \"\(metrics)\"\n").utf8), to: f.config)
        let r = try f.export("sim", "--json")
        #expect(r.code == 1, "\(r.stderr)")
        #expect(r.stderr.contains("METRICS_FILE"), "\(r.stderr)")
        #expect(try JSONParser.parse(Array(r.stdout.utf8))["metricsFailures"] == .array([.string(metrics)]))

        try FileSystem.makeDirectories(f.dir.path + "/no-such-folder")
        #expect(try f.export("sim").code == 0)
        let record = ExportRunRecord.path(layout: f.layout)
        _ = unlink(record)
        try FileSystem.makeDirectories(record + "/in-the-way")
        let blocked = try f.export("sim")
        #expect(blocked.code == 1, "\(blocked.stderr)")
        #expect(try FileSystem.readString(f.layout.logs + "/error.log").contains("could not write the export run record"))
    }

    /// Two configurations naming one PATH: the first export claims it (mt-data.json), and a run of another server
    /// block or another server is refused with 78 naming both, before it fetches, writes or deletes anything.
    @Test func aDataDirectoryKnowsWhoseItIs() throws {
        let study = try Study()
        try study.write("OA", (1...5).map { Study.entry(Int64($0), date: Date().addingTimeInterval(-3600)) })
        let f = try ExportFixture(study: study)
        #expect(try f.export("sim").code == 0)
        let identity = try JSONParser.parse(FileSystem.read(f.data + "/mt-data.json"))
        #expect(identity["server"] == .string("sim") && identity["format"] == .string("mt-data/1"))

        let other = try Study()
        try other.write("OA", (6...8).map { Study.entry(Int64($0), date: Date().addingTimeInterval(-3600)) })
        let second = try ExportFixture(study: other)
        let text = try FileSystem.readString(second.config)
            .replacingOccurrences(of: "sim:", with: "second:")
            .replacingOccurrences(of: second.data, with: f.data)
        try FileSystem.writeAtomically(Array(text.utf8), to: second.config)
        let r = try Run.mt(["--config", second.config, "export", "second"])
        #expect(r.code == 78, "\(r.stderr)")
        #expect(r.stderr.contains("'sim'") && r.stderr.contains("'second'"), "\(r.stderr)")
        #expect(try second.sim.ledger().isEmpty)
        #expect(try f.ids("OA") == [1, 2, 3, 4, 5])
    }

    /// A state file of a newer mt is refused with 78 and left byte for byte, never rewritten in the old shape.
    @Test func aNewerFormatIsRefusedNotRewritten() throws {
        let study = try Study()
        try study.write("OA", (1...5).map { Study.entry(Int64($0), date: Date().addingTimeInterval(-3600)) })
        let f = try ExportFixture(study: study)
        #expect(try f.export("sim", "--no-delete").code == 0)
        let path = f.layout.exportState(scale: "OA")
        let newer = try FileSystem.readString(path).replacingOccurrences(of: "mt-export-state/2", with: "mt-export-state/3")
        try FileSystem.writeAtomically(Array(newer.utf8), to: path)
        let r = try f.export("sim")
        #expect(r.code == 78, "\(r.stderr)")
        #expect(r.stderr.contains("mt-export-state/3"), "\(r.stderr)")
        #expect(try FileSystem.readString(path) == newer)
        #expect(try f.sim.ledger().isEmpty)
    }
}
