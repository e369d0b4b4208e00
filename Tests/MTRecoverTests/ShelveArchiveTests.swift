import Foundation
import MTCore
import MTTestSupport
import Testing

/// The original's 2015 shelve archives (`raw_data/<Scale>_<Mon_DD_YYYY>.raw.db`) are named and explained,
/// never read nor taken for something else.
@Suite("mt recover: shelve archives")
struct ShelveArchiveTests {
    /// The first bytes of a Berkeley DB 1.85 hash file (magic 0x061561), enough to be a real-looking file.
    static let shelveBytes: [UInt8] = [0x61, 0x15, 0x06, 0x00, 0x02, 0x00, 0x00, 0x00] + [UInt8](repeating: 0, count: 56)

    @Test func aScaleWithOnlyAShelveArchiveIsExplained() throws {
        let f = try RecoverFixture(); defer { f.dir.remove() }
        try FileSystem.writeAtomically(Self.shelveBytes, to: f.layout.raw + "/QOL_Aug_25_2015.raw.db")
        let r = try Run.mt(["--config", f.config, "recover", "lab", "QOL"])
        #expect(r.code == 66)
        #expect(r.stderr.contains("QOL_Aug_25_2015.raw.db is a 2015 raw archive of the original tool (scale QOL): a Python 2 shelve file"))
        #expect(r.stderr.contains("mt-recover(1), SHELVE ARCHIVES"))
        #expect(try FileSystem.list(f.layout.recovered).isEmpty)
    }

    @Test func recoveringEveryScaleNamesTheShelveArchives() throws {
        let f = try RecoverFixture(); defer { f.dir.remove() }
        try FileSystem.writeAtomically(Self.shelveBytes, to: f.layout.raw + "/DASS21_DS_Sep_03_2015.raw.db")
        try f.gzipArchive("OA", at: 1_700_000_000, [try f.entry(1, "one")])
        let r = try Run.mt(["--config", f.config, "recover", "lab"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("lab OA: 1 entries"))
        #expect(r.stderr.contains("mt recover: lab: DASS21_DS_Sep_03_2015.raw.db is a 2015 raw archive of the original tool (scale DASS21_DS)"))
        #expect(r.stderr.contains("does not read"))
    }
}
