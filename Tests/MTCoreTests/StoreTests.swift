import Foundation
import MTCore
import MTTestSupport
import Testing

@Suite struct StoreTests {
    @Test func newArchiveNamesRoundTripAndSortByTime() throws {
        let t = Date(timeIntervalSince1970: 1_764_387_612.123456)
        let a = ArchiveName.new(scale: "OA", time: t)
        #expect(a.fileName.hasSuffix("_OA.json.gz"))
        let back = try #require(ArchiveName.parse(a.fileName))
        #expect(back.scale == "OA")
        #expect(abs(back.time.timeIntervalSince1970 - t.timeIntervalSince1970) < 1e-5)
        let later = ArchiveName.new(scale: "OA", time: t.addingTimeInterval(0.5))
        #expect(a < later)
        #expect(a.fileName < later.fileName)
    }

    @Test func legacyNamesOrderByParsedTimeNotSpelling() throws {
        let apr = try #require(ArchiveName.parse("OA_Apr_03_2018_14_05_09.json"))
        let jan = try #require(ArchiveName.parse("OA_Jan_15_2019_09_00_00.json"))
        #expect(apr.fileName < jan.fileName) // "Apr" < "Jan" as text
        #expect(apr < jan)                    // and in time too: 2018 before 2019
        let dec = try #require(ArchiveName.parse("OA_Dec_01_2018_00_00_00.json"))
        #expect(apr < dec && dec < jan)
        #expect(apr.kind == .legacy)
    }

    @Test func scaleMatchIsExact() throws {
        #expect(ArchiveName.parse("OASIS_Apr_03_2018_14_05_09.json")?.scale == "OASIS")
        #expect(ArchiveName.parse("DASS21_AS_Apr_03_2018_14_05_09.json")?.scale == "DASS21_AS")
        #expect(ArchiveName.parse("2026-11-29T03-40-12.123456Z_DD_FU.json.gz")?.scale == "DD_FU")
        #expect(ArchiveName.parse("SHA256SUMS") == nil)
        #expect(ArchiveName.parse("notes.json") == nil)
        #expect(CSVName.scale(of: "DASS21_AS_Nov_29_2026.csv") == "DASS21_AS")
        #expect(CSVName.scale(of: "OA_2026-11-29.csv") == "OA")
        #expect(CSVName.scale(of: "OA_recovered_Nov_29_2026.csv") == "OA_recovered")
        #expect(CSVName.scale(of: "PHQ_9_Nov_29_2026.csv") == "PHQ_9")
    }

    /// Every catalogue scale name (underscores and digits included) × accepted DATE_FORMATs × dates through a
    /// year: built, then parsed back to the same scale, with the configured format and without it.
    @Test(arguments: ["%b_%d_%Y", "%Y-%m-%d", "%Y_%m_%d", "%d.%m.%Y", "%Y%m%d", "%B_%d_%y", "day%j_%Y", "%d_%b"])
    func everyCatalogueNameRoundTrips(format: String) throws {
        #expect(CSVName.problem(format: format) == nil)
        let catalogue = try ScaleCatalogue.load(path: Products.packageRoot + "/config/scales.yaml")
        let names = catalogue.scales.map(\.name) + ["PHQ_9", "DASS21_AS", "DD_FU", "Task_2", "Q_2026", "Nov_1"]
        #expect(names.contains("DASS21_AS"))
        for day in stride(from: 0, to: 366, by: 17) {
            let date = Date(timeIntervalSince1970: 1_767_225_600 + Double(day) * 86_400 + 43_200)
            for name in names {
                let file = CSVName.build(scale: name, date: date, format: format)
                #expect(CSVName.parse(file, format: format) == name, "\(file) with \(format)")
                #expect(DataLayout(root: "/x", dateFormat: format).scale(ofActiveCSV: file) == name)
            }
        }
    }

    @Test func unsafeFormatsAreRefused() {
        for bad in ["%d %b %Y", "%Y/%m/%d", "", "today", "%c", "%e_%b", "%Y%", "%F", "%s", "%Y:%m"] {
            #expect(CSVName.problem(format: bad) != nil, "\(bad)")
        }
    }

    @Test func benchmarkReadsBothHistoricShapesAndWritesTheOriginalOne() throws {
        let old = try Benchmark.parse(Array(#"{"OA": 812, "QOL": 3}"#.utf8), source: "t")
        #expect(old.marks["OA"] == Benchmark.Mark(current: 812, deleteable: true))
        let new = try Benchmark.parse(Array(#"{"OA": {"current": 812, "deleteable": false}}"#.utf8), source: "t")
        #expect(new.marks["OA"] == Benchmark.Mark(current: 812, deleteable: false))
        let dir = try TempDir()
        defer { dir.remove() }
        try new.write(path: dir.file("benchMark.json"))
        let text = try FileSystem.readString(dir.file("benchMark.json"))
        #expect(text.contains("\"current\": 812"))
        #expect(try Benchmark.read(path: dir.file("benchMark.json")) == new)
        #expect(throws: MTError.self) { try Benchmark.parse(Array(#"{"OA": "x"}"#.utf8), source: "t") }
    }

    @Test func checksumLedgerIgnoresATornLastLine() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        try layout.create()
        let ledger = ChecksumLedger(layout: layout)
        try ledger.append(archive: "a.json.gz", sha256: SHA256.hex(Array("a".utf8)))
        try FileSystem.appendDurably(Array("deadbeef  b.js".utf8), to: layout.checksums)
        let read = try ledger.read()
        #expect(read == ["a.json.gz": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"])
    }
}

@Suite struct LedgerAppendTests {
    @Test func aTornLastLineIsEndedBeforeTheNextRecord() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        try layout.create()
        let ledger = DeletionLedger(layout: layout)
        try ledger.record(scale: "OA", ids: [1], archive: "a.json.gz")
        try FileSystem.appendDurably(Array("2026-11-29T00:00:00.000+0000\tOA\t2".utf8), to: layout.deletions) // killed mid-line
        try ledger.record(scale: "OA", ids: [3], archive: "b.json.gz")
        #expect(try ledger.read().map(\.id) == [1, 3])
        let sums = ChecksumLedger(layout: layout)
        try FileSystem.appendDurably(Array("abc".utf8), to: layout.checksums)
        try sums.append(archive: "c.json.gz", sha256: String(repeating: "0", count: 64))
        #expect(try sums.read() == ["c.json.gz": String(repeating: "0", count: 64)])
    }
}

@Suite struct DeletionConfirmationTests {
    @Test func confirmationsAreFiveFieldLinesThatRequestReadersSkip() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        try layout.create()
        let ledger = DeletionLedger(layout: layout)
        try ledger.record(scale: "OA", ids: [1, 2], archive: "a.json.gz")
        let t = Date(timeIntervalSince1970: 1_764_383_012.123)
        try ledger.confirm([.init(time: t, scale: "OA", id: 1, archive: "a.json.gz", status: 200),
                            .init(time: t, scale: "OA", id: 2, archive: "a.json.gz", status: 404)])
        let text = try FileSystem.readString(layout.deletions)
        #expect(text.contains("2025-11-29T02:23:32.123Z\tOA\t1\ta.json.gz\t200\n"))
        #expect(try ledger.read().map(\.id) == [1, 2])
        let all = try ledger.readAll()
        #expect(all.confirmations.map(\.id) == [1, 2] && all.confirmations.map(\.status) == [200, 404])
        #expect(all.confirmations.map(\.line) == [3, 4])
        #expect(abs(all.confirmations[0].time.timeIntervalSince(t)) < 0.0005)
    }

    @Test func utcTimesRoundTripAndLocalStampsAreRead() {
        let t = Date(timeIntervalSince1970: 1_764_383_012.5)
        #expect(UTCTime.iso8601(t) == "2025-11-29T02:23:32.500Z")
        #expect(UTCTime.parse("2025-11-29T02:23:32.500Z") == t)
        #expect(UTCTime.parse("2025-11-28T21:23:32.500-0500") == t)
        #expect(UTCTime.parse("2025-11-29T03:23:32.5+01:00") == t)
        #expect(UTCTime.parse(LocalTime.stamp(t)) == t)
        #expect(UTCTime.parse("2025-11-29 02:23:32Z") == nil)
        #expect(UTCTime.parse("2025-13-29T02:23:32Z") == nil)
    }
}

@Suite struct ArchiveNameFuzzFindingsTests {
    /// Found by `make fuzz` (target names): a year too large for the C time functions trapped.
    @Test(arguments: ["A_Apr_3_2555555555_1_5_8.json", "A_Apr_99_2018_1_5_8.json", "A_Apr_3_2018_24_5_8.json",
                      "9999999999999-1-1T1-1-1.1Z_OA.json.gz", "2026-13-29T03-40-12.123456Z_OA.json.gz",
                      "2026-11-29T03-40-12.12345xZ_OA.json.gz"])
    func outOfRangeStampsAreNotArchives(_ name: String) {
        #expect(ArchiveName.parse(name) == nil)
    }

    @Test func legacyStampsAreLocalTime() throws {
        let a = try #require(ArchiveName.parse("OA_Apr_03_2018_14_05_09.json"))
        var tm = tm()
        tm.tm_year = 118; tm.tm_mon = 3; tm.tm_mday = 3; tm.tm_hour = 14; tm.tm_min = 5; tm.tm_sec = 9; tm.tm_isdst = -1
        #expect(a.time.timeIntervalSince1970 == Double(mktime(&tm)))
    }
}

@Suite struct WrittenSetHashTests {
    /// Files written by earlier versions hold the first 16 hex digits of the SHA-256 of the entry's compact JSON:
    /// the hash must stay that number.
    @Test func theHashIsTheFirstSixteenHexDigitsOfTheSHA256() throws {
        let entry = try JSONParser.parse(Array(#"{"id": 7, "text": "naïve 日本", "n": 3.10}"#.utf8))
        let hex = SHA256.hex(JSONWriter.bytes(entry))
        #expect(WrittenSet.hash(entry) == UInt64(hex.prefix(16), radix: 16))
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let s = try SHA256.Stream()
        for b in "abc".utf8 { [b].withUnsafeBytes { s.update($0) } }
        #expect(s.finish() == SHA256.hex(Array("abc".utf8)))
    }
}
