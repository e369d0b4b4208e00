import Foundation
import MTCore
import MTTestSupport
import Testing

@Suite("Archive reader")
struct ArchiveReaderTests {
    static func layout(_ dir: TempDir) throws -> DataLayout {
        let l = DataLayout(root: dir.path)
        try l.create()
        return l
    }

    @Test("a gzip archive's entries come back exactly, big ids and number texts included")
    func gzip() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = try Self.layout(dir)
        let text = #"[{"id": 3000000001, "score": 3.10, "txt": "déjà 😀"}, {"id": 2, "tags": ["a", {"b": null}]}]"#
        let name = ArchiveName.new(scale: "OA", time: Date(timeIntervalSince1970: 1_764_000_000))
        try FileSystem.writeAtomically(Gzip.compress(Array(text.utf8)), to: layout.archivePath(name))
        let entries = try ArchiveReader.entries(layout: layout, archive: name)
        #expect(entries == (try JSONParser.parse(Array(text.utf8))).arrayValues)
        #expect(entries[0]["id"]?.int64Value == 3_000_000_001)
        #expect(entries[0]["score"] == .number("3.10"))
    }

    @Test("a legacy file with arrays appended one after another reads as one list, in file order")
    func legacyAppended() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = try Self.layout(dir)
        let text = "[{\"id\":1},{\"id\":2}][{\"id\":3}]\n[]\n  [{\"id\":4}]\n"
        _ = try dir.write("raw_data/OA_Apr_03_2018_14_05_09.json", text)
        let name = try #require(ArchiveName.parse("OA_Apr_03_2018_14_05_09.json"))
        var ids: [Int64] = []
        try ArchiveReader.forEachEntry(layout: layout, archive: name) { ids.append($0["id"]!.int64Value!) }
        #expect(ids == [1, 2, 3, 4])
    }

    @Test("empty arrays and an empty legacy file hold no entries")
    func empty() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = try Self.layout(dir)
        _ = try dir.write("raw_data/OA_Jan_01_2019_00_00_00.json", "")
        let legacy = try #require(ArchiveName.parse("OA_Jan_01_2019_00_00_00.json"))
        #expect(try ArchiveReader.entries(layout: layout, archive: legacy).isEmpty)
        let name = ArchiveName.new(scale: "OA", time: Date())
        try FileSystem.writeAtomically(Gzip.compress(Array("[]".utf8)), to: layout.archivePath(name))
        #expect(try ArchiveReader.entries(layout: layout, archive: name).isEmpty)
    }

    @Test("a truncated gzip archive is a data error naming the file")
    func truncatedGzip() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = try Self.layout(dir)
        let body = Array(String(repeating: #"{"id": 1, "x": "abcdefghij"},"#, count: 2000).utf8)
        let full = try Gzip.compress(Array("[".utf8) + body + Array(#"{"id": 2}]"#.utf8))
        let name = ArchiveName.new(scale: "OA", time: Date())
        try FileSystem.writeAtomically(Array(full.prefix(full.count / 2)), to: layout.archivePath(name))
        let e = #expect(throws: MTError.self) { try ArchiveReader.entries(layout: layout, archive: name) }
        #expect(e?.exitCode == .dataError)
        #expect(e?.message.contains(name.fileName) == true)
    }

    @Test("an archive that is not an array of entries, or is cut inside an array, is refused with its position")
    func notAnArray() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = try Self.layout(dir)
        for (file, text) in [("OA_Feb_01_2019_00_00_00.json", "{\"id\": 1}"),
                             ("OA_Mar_01_2019_00_00_00.json", "[{\"id\": 1},"),
                             ("OA_May_01_2019_00_00_00.json", "<html>login</html>")] {
            _ = try dir.write("raw_data/" + file, text)
            let name = try #require(ArchiveName.parse(file))
            let e = #expect(throws: MTError.self) { try ArchiveReader.entries(layout: layout, archive: name) }
            #expect(e?.exitCode == .dataError)
            #expect(e?.message.contains("line 1") == true)
        }
    }

    @Test("archives are ordered by the time in their names (Apr 2018 before Jan 2019), scales matched exactly")
    func ordering() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = try Self.layout(dir)
        for f in ["OA_Jan_05_2019_09_00_00.json", "OA_Apr_03_2018_14_05_09.json", "OASIS_Feb_01_2018_00_00_00.json",
                  "OA_Dec_31_2018_23_59_59.json"] {
            _ = try dir.write("raw_data/" + f, "[]")
        }
        let gz = ArchiveName.new(scale: "OA", time: Date(timeIntervalSince1970: 1_600_000_000))
        try FileSystem.writeAtomically(Gzip.compress(Array("[]".utf8)), to: layout.archivePath(gz))
        #expect(try layout.archives(scale: "OA").map(\.fileName) == [
            "OA_Apr_03_2018_14_05_09.json", "OA_Dec_31_2018_23_59_59.json", "OA_Jan_05_2019_09_00_00.json", gz.fileName,
        ])
    }
}

/// The archive scan of `mt verify` and `mt benchmark`, streaming: the whole file hashed whatever its faults, a
/// gzip fault reported as such even when the garbage it makes is read as JSON first.
@Suite struct ArchiveScanTests {
    @Test func entriesChecksumsAndFaultsOfEachKind() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = try ArchiveReaderTests.layout(dir)
        // Big enough to span several chunks of the reader.
        let rows = (1...30_000).map { #"{"id": \#($0), "text": "réponse \#($0) \#(String(repeating: "x", count: $0 % 97))"}"# }
        let text = Array(("[" + rows.joined(separator: ",") + "]").utf8)
        let good = ArchiveName.new(scale: "OA", time: Date(timeIntervalSince1970: 1_764_000_000))
        let gz = try Gzip.compress(text)
        try FileSystem.writeAtomically(gz, to: layout.archivePath(good))
        let s = ArchiveScan.summarize(good, layout: layout)
        #expect(s.problem == nil && s.sha256 == SHA256.hex(gz) && s.ids == Array(1...30_000))
        #expect(s.hashes == (try ArchiveReader.entries(layout: layout, archive: good)).map(WrittenSet.hash))

        // A byte flipped inside the compressed data: the garbage fails as JSON before the CRC fails; corrupt wins.
        var flipped = gz
        flipped[gz.count / 2] ^= 0x55
        let bad = ArchiveName.new(scale: "OA", time: Date(timeIntervalSince1970: 1_764_000_100))
        try FileSystem.writeAtomically(flipped, to: layout.archivePath(bad))
        let c = ArchiveScan.summarize(bad, layout: layout)
        guard case .corrupt = c.problem else { Issue.record("\(String(describing: c.problem))"); return }
        #expect(c.sha256 == SHA256.hex(flipped) && c.ids.isEmpty, "the whole file is hashed, nothing counted as held")

        let notJSON = ArchiveName.new(scale: "OA", time: Date(timeIntervalSince1970: 1_764_000_200))
        let broken = try Gzip.compress(Array(text.dropLast()))
        try FileSystem.writeAtomically(broken, to: layout.archivePath(notJSON))
        let j = ArchiveScan.summarize(notJSON, layout: layout)
        guard case .notJSON(let why) = j.problem else { Issue.record("\(String(describing: j.problem))"); return }
        #expect(why.contains(notJSON.fileName) && j.sha256 == SHA256.hex(broken) && j.ids.isEmpty)

        _ = try dir.write("raw_data/OA_Jan_05_2019_09_00_00.json", #"[{"id": 1}][{"id": 2}, {"x": 3}]"#)
        let legacy = try #require(ArchiveName.parse("OA_Jan_05_2019_09_00_00.json"))
        let l = ArchiveScan.summarize(legacy, layout: layout)
        #expect(l.problem == nil && l.ids == [1, 2] && l.entriesWithoutID == 1)

        let gone = ArchiveName.new(scale: "OA", time: Date(timeIntervalSince1970: 1_764_000_300))
        guard case .unreadable = ArchiveScan.summarize(gone, layout: layout).problem else { Issue.record("expected unreadable"); return }
    }
}
