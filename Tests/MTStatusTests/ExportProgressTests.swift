import Foundation
import MTCore
import MTTestSupport
import Testing

/// `mt export` shows server, scale and bars to a person at a terminal, and stays silent under cron.
@Suite(.serialized) struct ExportProgressTests {
    /// stderr a pipe (cron): not one byte on stdout or stderr from a successful run.
    @Test func silentWithoutATerminal() throws {
        let f = try StatusFixture(participants: 12)
        // The first run says on stderr that it created the benchmark: worth a cron mail, once.
        #expect(try f.mt("export", "--no-delete").code == 0)
        try f.sim.addArrivals(60)
        let r = try f.mt("export")
        #expect(r.code == 0)
        #expect(try f.sim.ledger().count >= 60, "a run with deletes worth a bar on a terminal")
        #expect(r.stdout.isEmpty && r.stderr.isEmpty, "cron would mail this: \(r.stdout)\(r.stderr)")
    }

    /// On a pseudo-terminal (script(1)): a line per scale naming the server, and a delete bar for the scales
    /// with many entries.
    @Test func progressOnATerminal() throws {
        guard let script = Tools.require("script", package: "bsdutils") else { return }
        let f = try StatusFixture(participants: 12)
        // Keep the first run's "no benchmark file" notice out of the way.
        #expect(try f.mt("export", "--no-delete").code == 0)
        try f.sim.addArrivals(60)
        let q = FileSystem.shellQuote
        let r = try Run.program(script, ["-qec", "\(q(Products.mt)) --config \(q(f.config)) export", "/dev/null"])
        #expect(r.code == 0, "\(r.stdout)")
        let lines = r.stdout.components(separatedBy: "\r\n")
        #expect(lines.contains { $0.hasPrefix("sim DD: exporting (") }, "\(r.stdout.prefix(2000))")
        #expect(r.stdout.contains(" delete [") && r.stdout.contains("] 100% "), "\(r.stdout.prefix(2000))")
        #expect(r.stdout.contains("\r\u{1B}[K"), "the bar clears its line")
        let quiet = try Run.program(script, ["-qec", "\(q(Products.mt)) --config \(q(f.config)) export -q", "/dev/null"])
        #expect(quiet.code == 0 && !quiet.stdout.contains("exporting ("), "-q shows no progress: \(quiet.stdout)")
    }
}
