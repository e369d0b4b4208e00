import Foundation
import MTCore
import MTTestSupport
import Testing

/// A written set where an id carries two accepted contents (`mt benchmark release`): both count as written, the
/// file keeps both across a reload and a rewrite, and the CSV append takes the second entry once.
@Suite struct WrittenSetReleaseTests {
    func entry(_ id: Int64, _ text: String) -> JSONValue { .object([("id", .int(id)), ("text", .string(text))]) }

    @Test func anIdMayCarrySeveralAcceptedContents() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        let csv = ExportCSV(layout: layout, scale: "OA")
        var state = ExportScaleState()
        var written = WrittenSet()
        let first = entry(7, "before the restart"), second = entry(7, "after the restart"), third = entry(7, "third")
        let h1 = WrittenSet.hash(first), h2 = WrittenSet.hash(second)
        #expect(try csv.append([first], hashes: [7: h1], archive: "a", csvName: "OA_x.csv", written: &written, state: &state) == 1)
        #expect(written.verdict(id: 7, hash: h2) == .different)
        #expect(try csv.append([second], hashes: [7: h2], archive: "b", csvName: "OA_x.csv", written: &written, state: &state) == 1)
        #expect(written.verdict(id: 7, hash: h1) == .same && written.verdict(id: 7, hash: h2) == .same)
        #expect(written.verdict(id: 7, hash: WrittenSet.hash(third)) == .different)
        #expect(written.accepted(7) == 2 && written.count == 1)
        // Neither content is written a second time.
        #expect(try csv.append([first, second], hashes: [7: h2], archive: "c", csvName: "OA_x.csv", written: &written, state: &state) == 0)
        #expect(try FileSystem.readString(layout.active + "/OA_x.csv").components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 3)

        let path = layout.writtenSet(scale: "OA")
        #expect(try WrittenSet.load(path: path) == written)
        let copy = dir.path + "/copy.tsv"
        try written.write(path: copy)
        #expect(try WrittenSet.load(path: copy) == written)
        // An id whose first content is unknown accepts a released one.
        var unknown = WrittenSet()
        unknown.insert(9, hash: nil)
        #expect(unknown.verdict(id: 9, hash: h2) == .unknown)
        unknown.insert(9, hash: h2)
        #expect(unknown.verdict(id: 9, hash: h2) == .same && unknown.accepted(9) == 2)
    }
}
