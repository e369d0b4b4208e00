import Foundation
import MTCore
import MTTestSupport
import Testing

/// The `make demo` path as a new analyst meets it: mt-sim's study exported by `mt export`, every active CSV read
/// by R's read.csv and pandas' read_csv with their defaults (issue 25, item 6).
@Suite struct AnalystCSVTests {
    static func exportedStudy() throws -> (sim: SimServer, dir: TempDir, config: String) {
        let sim = try SimServer(["--generate", "--participants", "20"])
        let dir = try TempDir()
        let config = try sim.writeConfig(in: dir.path, name: "demo", dataPath: dir.file("data"), extra: ["DELETE_MODE: true"])
        let export = try Run.mt(["--config", config, "export", "demo", "all", "-q"])
        guard export.code == 0 else { throw MTError(.software, "mt export failed: \(export.stderr)") }
        return (sim, dir, config)
    }

    @Test func everyActiveCSVReadsInRAndPandasWithTheirDefaults() throws {
        let (sim, dir, config) = try Self.exportedStudy()
        defer { sim.stop(); dir.remove() }
        let active = dir.file("data/active_data")
        let csvs = try FileSystem.list(active).filter { $0.hasSuffix(".csv") }.sorted().map { active + "/" + $0 }
        #expect(csvs.count > 10)
        // The server sent BIT(1) booleans as one-byte strings; no cell of any CSV holds a C0 control byte
        // other than TAB, LF and CR, and the participant table's booleans are 0/1.
        for f in csvs {
            let bytes = try FileSystem.read(f)
            #expect(!bytes.contains { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }, "\(f)")
        }
        let people = try #require(csvs.first { ($0 as NSString).lastPathComponent.hasPrefix("ParticipantExportDAO_") })
        let text = try FileSystem.readString(people)
        let header = text.split(separator: "\r\n").first!.split(separator: ",").map(String.init)
        let admin = try #require(header.firstIndex(of: "admin"))
        let values = Set(text.split(separator: "\r\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false)[admin] })
        #expect(values == ["0", "1"], "\(values)")
        // The archive keeps the server's bytes.
        let archives = try FileSystem.list(dir.file("data/raw_data")).filter { $0.contains("ParticipantExportDAO") && $0.hasSuffix(".json.gz") }
        let archived = try Gzip.decompress(FileSystem.read(dir.file("data/raw_data/" + archives[0])))
        #expect(String(decoding: archived, as: UTF8.self).contains("\\u0001"))

        let rscript = try #require(Tools.require("Rscript", package: "r-base-core"))
        // read.csv as a newcomer calls it; any warning (an embedded nul, an incomplete line) stops R.
        let script = try dir.write("read.R", """
            args <- commandArgs(trailingOnly = TRUE)
            withCallingHandlers({
              for (f in args) {
                d <- read.csv(f)
                cat(basename(f), nrow(d), sum(is.na(d$id)), "\\n")
              }
            }, warning = function(w) stop(paste(f, conditionMessage(w))))
            """)
        let r = try Run.program(rscript, [script] + csvs)
        #expect(r.code == 0, "\(r.stderr)")
        let py = try Run.program("/usr/bin/env", ["python3", "-c", """
            import sys, warnings
            warnings.simplefilter("error")
            import pandas as pd
            for f in sys.argv[1:]:
                d = pd.read_csv(f)
                print(f.rsplit("/", 1)[1], len(d), int(d["id"].isna().sum()))
            """] + csvs)
        #expect(py.code == 0, "\(py.stderr)")
        // Both see every row with its id, and the same number of rows as mt verify counts.
        let verify = try Run.mt(["--config", config, "verify", "demo", "--json"])
        #expect(verify.code == 0, "\(verify.stdout)")
        let rLines = r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
        let pyLines = py.stdout.split(separator: "\n").map(String.init).sorted()
        #expect(rLines == pyLines)
        #expect(rLines.count == csvs.count)
        for line in rLines { #expect(line.hasSuffix(" 0"), "\(line): ids read as NA") }
    }
}
