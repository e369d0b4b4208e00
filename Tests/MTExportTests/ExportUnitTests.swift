import Foundation
@testable import MTCore
@testable import MTExport
import MTTestSupport
import Testing

private func response(_ status: Int = 200, _ body: String, type: String = "application/json") -> HTTPResponse {
    HTTPResponse(status: status, headers: [("content-type", type)], body: Array(body.utf8))
}

/// An answer read as it would stream in, in pieces of `piece` bytes.
private func answer(_ r: HTTPResponse, piece: Int = 4096, scale: String = "OA") throws -> FetchedScale {
    try ExportValidation.scaleAnswer(scale: scale) { head, body in
        try head(r.status, r.headers)
        for start in stride(from: 0, to: r.body.count, by: piece) {
            try r.body[start..<min(start + piece, r.body.count)].withUnsafeBytes { try body($0) }
        }
    }
}

@Suite struct SelectionTests {
    @Test func scaleSelectorWords() {
        let oa = ScaleInfo(name: "OA", deleteable: true), demo = ScaleInfo(name: "Demographics", deleteable: false)
        #expect(ScaleSelector(argument: nil) == .deleteable)
        #expect(ScaleSelector(argument: ".") == .deleteable)
        #expect(ScaleSelector(argument: "static") == .nonDeleteable)
        #expect(ScaleSelector(argument: "all") == .all)
        #expect(ScaleSelector(argument: "OA") == .named("OA"))
        #expect(ScaleSelector.deleteable.includes(oa) && !ScaleSelector.deleteable.includes(demo))
        #expect(!ScaleSelector.nonDeleteable.includes(oa) && ScaleSelector.nonDeleteable.includes(demo))
        #expect(ScaleSelector.all.includes(oa) && ScaleSelector.all.includes(demo))
        #expect(ScaleSelector.named("Demographics").includes(demo) && !ScaleSelector.named("demographics").includes(demo))
    }

    @Test func afterStamps() throws {
        let a = try #require(AfterStamp("2026-11-29-03-40-12"))
        #expect(a.date.timeIntervalSince1970 == 1_795_923_612)
        #expect(AfterStamp(date: a.date).text == "2026-11-29-03-40-12")
        for bad in ["2026-11-29", "2026-13-01-00-00-00", "2026-11-29T03-40-12", "26-11-29-03-40-12", "2026-11-29-03-40-1x", ""] {
            #expect(AfterStamp(bad) == nil, "\(bad)")
        }
    }

    @Test func badAfterIsAUsageError() throws {
        let r = try Run.mt(["export", "--after", "yesterday"])
        #expect(r.code == 64)
        #expect(r.stderr.contains("yyyy-MM-dd-HH-mm-ss"))
    }

    @Test func tooManyArgumentsIsAUsageError() throws {
        #expect(try Run.mt(["export", ".", ".", "extra"]).code == 64)
        #expect(try Run.mt(["export", "--concurrency", "0"]).code == 64)
    }
}

@Suite struct ValidationTests {
    @Test func acceptsAnArrayOfObjectsWithIDs() throws {
        let body = #"[{"id": 3, "x": "é"}, {"id": 5}]"#
        let e = try answer(response(200, body))
        #expect(e.ids == [3, 5])
        #expect(e.sha256 == SHA256.hex(Array(body.utf8)) && e.bytes == Int64(body.utf8.count))
        #expect(e.hashes == [WrittenSet.hash(try JSONParser.parse(Array(#"{"id":3,"x":"é"}"#.utf8))),
                             WrittenSet.hash(.object([("id", .number("5"))]))])
        #expect(try answer(response(200, "[]")).ids.isEmpty)
        #expect(try answer(response(200, " \n[ ]\n")).ids.isEmpty)
    }

    /// However the answer is cut into pieces (inside a string, an escape, a UTF-8 sequence, a number), the same
    /// entries come out with the same hashes: what a body held whole in memory gives.
    @Test func thePiecesAnAnswerArrivesInDoNotMatter() throws {
        let body = #"[{"id": 1, "text": "naïve, \"quoted\" ]}[{ 日本 🎉\\", "n": [1, {"a": "}"}]}, {"id":22,"date":"Sun, 29 Nov 2026"}, {"id": 12345678901}]"#
        let whole = try answer(response(200, body), piece: Int.max / 2)
        #expect(whole.ids == [1, 22, 12345678901] && !whole.allDated)
        for piece in 1...40 {
            let e = try answer(response(200, body), piece: piece)
            #expect(e.ids == whole.ids && e.hashes == whole.hashes && e.sha256 == whole.sha256, "pieces of \(piece) bytes")
        }
    }

    @Test func anErrorNamesTheEntryAndItsLine() throws {
        let body = "[\n{\"id\": 1},\n{\"id\": 2},\n{\"x\": 3}\n]"
        for piece in [1, 3, 1000] {
            let e = #expect(throws: MTError.self) { try answer(response(200, body), piece: piece) }
            #expect(e?.message.contains("entry 3 (line 4)") == true, "\(e?.message ?? "")")
        }
        let bad = #expect(throws: MTError.self) { try answer(response(200, "[{\"id\": 1},\n {\"id\": tru}]"), piece: 2) }
        #expect(bad?.message.contains("line 2, column 9") == true, "\(bad?.message ?? "")")
    }

    @Test(arguments: [
        (200, "<html><body>Please log in</body></html>", "text/html"),
        (200, "  <!DOCTYPE html><html></html>", "application/json"),
        (200, "[{\"id\": 1}]", "text/html; charset=utf-8"),
        (200, "{\"id\": 1}", "application/json"),
        (200, "[{\"id\": 1}, 2]", "application/json"),
        (200, "[{\"id\": \"1\"}]", "application/json"),
        (200, "[{\"id\": 1.5}]", "application/json"),
        (200, "[{\"name\": 1}]", "application/json"),
        (200, "[{\"id\": 1}, {\"id\": 1}]", "application/json"),
        (200, "[{\"id\": 1}", "application/json"),
        (200, "", "application/json"),
        (401, "[]", "application/json"),
        (500, "[]", "application/json"),
        (302, "", "text/html"),
    ])
    func refusesAnythingElse(status: Int, body: String, type: String) {
        #expect(throws: MTError.self) { try answer(response(status, body, type: type)) }
        #expect(throws: MTError.self) { try answer(response(status, body, type: type), piece: 1) }
        do { _ = try answer(response(status, body, type: type)) } catch {
            #expect(error.asMTError.exitCode == .unavailable)
        }
    }

    @Test func scaleList() throws {
        let list = try ExportValidation.scaleList(response(200, #"[{"name":"OA","size":2,"deleteable":true},{"name":"Demo"}]"#), server: "s")
        #expect(list == [ScaleInfo(name: "OA", size: 2, deleteable: true), ScaleInfo(name: "Demo", deleteable: false)])
        #expect(throws: MTError.self) { try ExportValidation.scaleList(response(200, "<html>"), server: "s") }
        #expect(throws: MTError.self) { try ExportValidation.scaleList(response(200, #"[{"size": 1}]"#), server: "s") }
    }
}

@Suite struct ArchiveTests {
    @Test func writesVerifiesAndRecordsTheChecksum() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        let body = Array(#"[{"id": 7, "text": "naïve, \"quoted\"\n日本 🎉"}, {"id": 9}]"#.utf8)
        let name = try ExportArchive.write(body: body, scale: "OA", time: Date(), kind: .batch, layout: layout)
        let path = layout.archivePath(name)
        #expect(try Gzip.decompress(FileSystem.read(path)) == body)
        #expect(FileSystem.mode(of: path) == 0o600)
        let sums = try ChecksumLedger(layout: layout).read()
        #expect(sums[name.fileName] == SHA256.hex(try FileSystem.read(path)))
        #expect(try layout.archives(scale: "OA") == [name])
        // Same instant again: a new name, never an overwrite.
        let again = try ExportArchive.write(body: body, scale: "OA", time: name.time, kind: .after("2026-11-28-00-00-00"), layout: layout)
        #expect(again != name)
        #expect(try layout.archives(scale: "OA").count == 2)
        #expect(try ArchiveKindLedger(layout: layout).read() == [name.fileName: .batch, again.fileName: .after("2026-11-28-00-00-00")])
    }

    @Test(arguments: ["../x", "a/b", ".hidden", "", "OA\u{0}", "名前"])
    func unsafeScaleNamesNeverBecomePaths(scale: String) throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path + "/data")
        #expect(throws: MTError.self) {
            try ExportArchive.write(body: Array("[]".utf8), scale: scale, time: Date(), kind: .batch, layout: layout)
        }
        #expect(try FileSystem.list(dir.path) == [])
    }

    @Test func verificationCatchesDamageAndOtherBytes() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        let good = Array(#"[{"id": 1}, {"id": 2}]"#.utf8)
        let sha = SHA256.hex(good)
        let name = try ExportArchive.write(body: good, scale: "OA", time: Date(), kind: .batch, layout: layout)
        let path = layout.archivePath(name)
        #expect(try ExportArchive.verify(path: path, sha256: sha) == SHA256.hex(try FileSystem.read(path)))
        // Other bytes inside than the server sent.
        #expect(throws: MTError.self) { try ExportArchive.verify(path: path, sha256: SHA256.hex(Array("[]".utf8))) }
        var bytes = try FileSystem.read(path)
        bytes[bytes.count - 6] ^= 0xFF // inside the CRC/length trailer
        try FileSystem.writeAtomically(bytes, to: path)
        #expect(throws: MTError.self) { try ExportArchive.verify(path: path, sha256: sha) }
        try FileSystem.writeAtomically(Array(bytes.prefix(bytes.count / 2)), to: path)
        #expect(throws: MTError.self) { try ExportArchive.verify(path: path, sha256: sha) }
    }
}

@Suite struct CSVJournalTests {
    func entries(_ ids: ClosedRange<Int>, extra: String? = nil) -> [JSONValue] {
        ids.map { id in
            var f: [(String, JSONValue)] = [("id", .int(id)), ("answer", .string("réponse, \"\(id)\"\n😀"))]
            if let extra { f.append((extra, .int(id * 10))) }
            return .object(f)
        }
    }

    func ids(in file: String) throws -> [String] {
        var r = try CSVReader(path: file)
        defer { r.close() }
        let header = try #require(try r.next())
        let col = try #require(header.firstIndex(of: "id"))
        var out: [String] = []
        while let row = try r.next() { out.append(row[col]) }
        return out
    }

    func hashes(_ ids: ClosedRange<Int>) -> [Int64: UInt64] {
        Dictionary(uniqueKeysWithValues: ids.map { (Int64($0), UInt64($0) &* 0x9E37_79B9_7F4A_7C15) })
    }

    @Test func appendsOnlyNewRowsAndCommits() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        let csv = ExportCSV(layout: layout, scale: "OA")
        var state = ExportScaleState()
        var written = WrittenSet()
        #expect(try csv.append(entries(1...3), hashes: hashes(1...5), archive: "a.json.gz", csvName: "OA_Nov_29_2026.csv", written: &written, state: &state) == 3)
        #expect(written.count == 3 && state.pending == nil)
        #expect(try csv.append(entries(1...5), hashes: hashes(1...5), archive: "b.json.gz", csvName: "OA_Nov_29_2026.csv", written: &written, state: &state) == 2)
        let file = layout.active + "/OA_Nov_29_2026.csv"
        #expect(try ids(in: file) == ["1", "2", "3", "4", "5"])
        #expect(try ExportScaleState.load(scale: "OA", layout: layout) == state)
        #expect(try WrittenSet.load(path: layout.writtenSet(scale: "OA")) == written)
        #expect(String(decoding: try FileSystem.read(file).prefix(12), as: UTF8.self) == "answer,id\r\n\"")
    }

    /// A late commit (a lower id after higher ones) is written; an id already written is not, whatever its place.
    @Test func lateCommitsAreWrittenOnce() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        let csv = ExportCSV(layout: layout, scale: "OA")
        var state = ExportScaleState()
        var written = WrittenSet()
        let all = entries(1...6)
        _ = try csv.append(all.filter { $0["id"]!.int64Value! != 3 }, hashes: hashes(1...6), archive: "a", csvName: "OA_x.csv", written: &written, state: &state)
        #expect(written.verdict(id: 3, hash: hashes(3...3)[3]!) == .new)
        #expect(written.verdict(id: 4, hash: hashes(4...4)[4]!) == .same)
        #expect(written.verdict(id: 4, hash: 1) == .different)
        #expect(try csv.append(all, hashes: hashes(1...6), archive: "b", csvName: "OA_x.csv", written: &written, state: &state) == 1)
        #expect(try ids(in: layout.active + "/OA_x.csv") == ["1", "2", "4", "5", "6", "3"])
    }

    @Test func newColumnsWidenTheFileWithoutMovingCells() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        let csv = ExportCSV(layout: layout, scale: "OA")
        var state = ExportScaleState()
        var written = WrittenSet()
        _ = try csv.append(entries(1...2), hashes: hashes(1...3), archive: "a", csvName: "OA_x.csv", written: &written, state: &state)
        _ = try csv.append(entries(3...3, extra: "bonus"), hashes: hashes(1...3), archive: "b", csvName: "OA_x.csv", written: &written, state: &state)
        var r = try CSVReader(path: layout.active + "/OA_x.csv")
        defer { r.close() }
        #expect(try r.next() == ["answer", "bonus", "id"])
        #expect(try r.next() == ["réponse, \"1\"\n😀", "", "1"])
        _ = try r.next()
        #expect(try r.next() == ["réponse, \"3\"\n😀", "30", "3"])
    }

    /// Every crash point of an append: the journal committed, then any prefix of the rows on disk (torn tail
    /// included), then the written set's records, then the commit missing. Rolling back and replaying gives each
    /// row exactly once.
    @Test(arguments: [0, 1, 7, 40, -1])
    func crashMidAppendIsRepairedExactlyOnce(keptBytes: Int) throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        let csv = ExportCSV(layout: layout, scale: "OA")
        var state = ExportScaleState()
        var written = WrittenSet()
        let name = "OA_Nov_29_2026.csv"
        let file = layout.active + "/" + name
        let setPath = layout.writtenSet(scale: "OA")
        _ = try csv.append(entries(1...2), hashes: hashes(1...4), archive: "a", csvName: name, written: &written, state: &state)
        let before = try FileSystem.read(file)
        let setBefore = try FileSystem.read(setPath)
        // What a run killed after writing the journal and `keptBytes` of its rows (-1: all rows and the records).
        var crashed = state
        var crashedSet = written
        let archive = "2026-11-29T03-40-12.000001Z_OA.json.gz"
        _ = try csv.append(entries(1...4), hashes: hashes(1...4), archive: archive, csvName: name, written: &crashedSet, state: &crashed)
        let full = try FileSystem.read(file)
        let fullSet = try FileSystem.read(setPath)
        let tail = keptBytes < 0 ? full.count : before.count + min(keptBytes, full.count - before.count)
        try FileSystem.writeAtomically(Array(full.prefix(tail)), to: file)
        try FileSystem.writeAtomically(keptBytes < 0 ? fullSet : setBefore + Array(fullSet[setBefore.count...].prefix(3)), to: setPath)
        state.pending = .init(archive: archive, csv: name, offset: Int64(before.count), written: Int64(setBefore.count), ids: [3...4])
        try state.save(scale: "OA", layout: layout)

        var loaded = try ExportScaleState.load(scale: "OA", layout: layout)
        let pending = try #require(loaded.pending)
        try csv.rollBack(pending)
        #expect(try FileSystem.read(file) == before)
        #expect(try FileSystem.read(setPath) == setBefore)
        var reloaded = try #require(try WrittenSet.load(path: setPath))
        loaded.pending = nil
        #expect(try csv.append(entries(1...4), hashes: hashes(1...4), archive: pending.archive, csvName: name, written: &reloaded, state: &loaded) == 2)
        #expect(try ids(in: file) == ["1", "2", "3", "4"])
        #expect(try FileSystem.read(file) == full)
        #expect(try FileSystem.read(setPath) == fullSet)
    }

    @Test func writtenSetDamageAndTornTail() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let path = dir.path + "/written_OA.tsv"
        try WrittenSet.append([(1, 0xABC), (2, nil)], path: path)
        var set = try #require(try WrittenSet.load(path: path))
        #expect(set.verdict(id: 1, hash: 0xABC) == .same && set.verdict(id: 2, hash: 5) == .unknown && set.verdict(id: 3, hash: 5) == .new)
        try FileSystem.appendDurably(Array("3\t00".utf8), to: path) // an append that never committed
        set = try #require(try WrittenSet.load(path: path, repair: true))
        #expect(set.count == 2)
        try WrittenSet.append([(3, 7)], path: path)
        #expect(try WrittenSet.load(path: path)?.count == 3)
        try FileSystem.appendDurably(Array("x\ty\n".utf8), to: path)
        #expect(throws: MTError.self) { try WrittenSet.load(path: path) }
    }

    @Test func stateRoundTripAndDamage() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let layout = DataLayout(root: dir.path)
        var s = ExportScaleState()
        s.lastFetch = 1_795_923_612.25
        s.lastFullFetch = 1_795_923_000.5
        s.dateBearing = true
        s.deleteable = false
        s.lastBodySHA256 = String(repeating: "a", count: 64)
        s.lastArchive = "2026-11-29T03-40-12.000001Z_OA.json.gz"
        s.deleteMark = 11
        s.heldBack = [2, 5]
        s.writtenEntries = 9
        s.pending = .init(archive: "2026-11-29T03-40-12.000001Z_OA.json.gz", csv: "OA_Nov_29_2026.csv", offset: 99, written: 40, ids: [3...5, 9...12])
        try s.save(scale: "OA", layout: layout)
        #expect(try ExportScaleState.load(scale: "OA", layout: layout) == s)
        let json = try JSONParser.parse(FileSystem.read(ExportScaleState.path(scale: "OA", layout: layout)))
        #expect(json["format"] == .string("mt-export-state/2") && json["writtenFile"] == .string("written_OA.tsv"))
        #expect(try ExportScaleState.load(scale: "QOL", layout: layout) == ExportScaleState())
        try FileSystem.writeAtomically(Array("{".utf8), to: ExportScaleState.path(scale: "OA", layout: layout))
        #expect(throws: MTError.self) { try ExportScaleState.load(scale: "OA", layout: layout) }
    }
}

@Suite struct ReportTests {
    @Test func tableAndJSON() throws {
        var a = ScaleOutcome(scale: "OA", deleteable: true)
        a.fetched = 12; a.archived = 12; a.written = 12; a.deleted = 10; a.failed = 2; a.exit = .unavailable
        a.status = .deletesFailed(2)
        var s = ServerOutcome(server: "mindtrails")
        s.scales = [a, ScaleOutcome(scale: "QOL", deleteable: true)]
        var locked = ServerOutcome(server: "other")
        locked.error = MTError(.tempFail, "another mt run is working on /x")
        let report = ExportReport(servers: [s, locked])
        // A server that was unavailable is worse than one that was busy (75 only means "try later").
        #expect(report.exit == .unavailable)
        #expect(ExportReport(servers: [s]).exit == .unavailable)
        let lines = report.table.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("SERVER"))
        #expect(lines[1].contains("OA") && lines[1].contains("2 deletes failed"))
        #expect(lines[1].split(separator: " ").prefix(8) == ["mindtrails", "OA", "12", "12", "12", "10", "2", "2"])
        let json = JSONWriter.string(report.json)
        #expect(json.contains(#""fetched":12"#) && json.contains(#""left":2"#) && json.contains(#""exit":75"#))
    }
}
