import MTCore
import MTTestSupport
import Testing

@Suite struct CSVTests {
    @Test func writerQuotesOnlyWhereNeeded() {
        let row = CSVWriter.row(["plain", "a,b", "say \"hi\"", "two\nlines", "", "é中🙂"])
        #expect(String(decoding: row, as: UTF8.self) == "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,é中🙂\r\n")
    }

    @Test func cellsFollowTheDocumentedRules() {
        #expect(CSVCell.text(.null) == "")
        #expect(CSVCell.text(.bool(true)) == "true")
        #expect(CSVCell.text(.number("3.10")) == "3.10")
        #expect(CSVCell.text(.array([.string("a"), .number("1")])) == #"["a",1]"#)
        #expect(CSVCell.text(.object([("k", .null)])) == #"{"k":null}"#)
    }

    /// Issue 25: MySQL BIT(1) booleans arrive as one-byte strings; a NUL in a cell stops R's read.csv.
    @Test func controlBytesNeverReachACell() {
        #expect(CSVCell.text(.string("\u{0}")) == "0")
        #expect(CSVCell.text(.string("\u{1}")) == "1")
        #expect(CSVCell.text(.string("a\u{0}b\u{7}c")) == "a\u{FFFD}b\u{FFFD}c")
        #expect(CSVCell.text(.string("\u{1}\u{1}")) == "\u{FFFD}\u{FFFD}")
        // TAB, LF and CR are text (quoted where RFC 4180 asks); DEL and C1 are not C0.
        #expect(CSVCell.text(.string("a\tb\r\nc\u{7F}\u{85}")) == "a\tb\r\nc\u{7F}\u{85}")
        #expect(CSVCell.text(.string("Français 中文 🙂")) == "Français 中文 🙂")
        #expect(CSVCell.hasControlByte("x\u{1}") && !CSVCell.hasControlByte("x\ty\n") && !CSVCell.hasControlByte("1"))
        // The one owner: an entry's CSV row, as export, decrypt and recover write it.
        let entry = JSONValue.object([("admin", .string("\u{1}")), ("over18", .string("\u{0}")), ("id", .number("7"))])
        let doc = String(decoding: EntryCSV.document([entry]), as: UTF8.self)
        #expect(doc == "admin,id,over18\r\n1,7,0\r\n")
    }

    @Test func headerIsSortedByCodePointLikePython() {
        #expect(CSVCell.sortedHeader(["b", "B", "a", "_x", "Z", "é"]) == ["B", "Z", "_x", "a", "b", "é"])
    }

    @Test func readerRoundTripsEveryTrickyValue() throws {
        let rows = [["id", "text", "note"], ["1", "Français, \"cité\"\r\nligne 2", ""], ["2", "中文 🙂", "a\nb"], ["3", "", ","]]
        var bytes: [UInt8] = []
        for r in rows { CSVWriter.appendRow(r, to: &bytes) }
        var reader = CSVReader(bytes: bytes)
        var back: [[String]] = []
        while let r = try reader.next() { back.append(r) }
        #expect(back == rows)
    }

    @Test func readerStreamsAcrossChunkBoundaries() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var bytes: [UInt8] = []
        var expected: [[String]] = []
        for i in 0..<500 {
            let r = [String(i), "value \"\(i)\", with comma", String(repeating: "é", count: i % 7) + "\n🙂"]
            expected.append(r)
            CSVWriter.appendRow(r, to: &bytes)
        }
        let path = dir.file("x.csv")
        try FileSystem.writeAtomically(bytes, to: path)
        var reader = try CSVReader(path: path, chunkSize: 7) // tiny chunks: every boundary case is crossed
        defer { reader.close() }
        var back: [[String]] = []
        while let r = try reader.next() { back.append(r) }
        #expect(back == expected)
    }

    @Test func readerAcceptsLFAndSkipsBOM() throws {
        var reader = CSVReader(bytes: [0xEF, 0xBB, 0xBF] + Array("a,b\n1,2\n".utf8))
        #expect(try reader.next() == ["a", "b"])
        #expect(try reader.next() == ["1", "2"])
        #expect(try reader.next() == nil)
    }

    @Test func unterminatedQuoteNamesTheLine() {
        var reader = CSVReader(bytes: Array("a,b\r\n1,\"open\r\n2,3\r\n".utf8), source: "t.csv")
        do {
            _ = try reader.next()
            _ = try reader.next()
            Issue.record("expected an error")
        } catch let e as CSVParseError {
            #expect(e.line == 2)
            #expect(e.description.contains("t.csv"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func schemaDriftGetsTheUnionOfFields() {
        let entries: [JSONValue] = [
            .object([("id", .number("1")), ("b", .string("x"))]),
            .object([("id", .number("2")), ("a", .bool(false))]),
        ]
        #expect(EntryCSV.header(for: entries) == ["a", "b", "id"])
        #expect(String(decoding: EntryCSV.document(entries), as: UTF8.self) == "a,b,id\r\n,x,1\r\nfalse,,2\r\n")
        #expect(EntryCSV.missingColumns(entries, header: ["b", "id"]) == ["a"])
    }
}
