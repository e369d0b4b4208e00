import MTCore
import MTTestSupport
import Testing

@Suite struct JSONTests {
    @Test func numbersKeepTheirExactText() throws {
        let v = try JSONParser.parse(Array(#"[3.10, 12345678901234567890, -0, 1e5, 2.50E-3]"#.utf8))
        #expect(v == .array([.number("3.10"), .number("12345678901234567890"), .number("-0"), .number("1e5"), .number("2.50E-3")]))
        #expect(JSONWriter.string(v) == "[3.10,12345678901234567890,-0,1e5,2.50E-3]")
    }

    @Test func objectsKeepKeyOrderAndRoundTrip() throws {
        let text = #"{"z":1,"a":{"b":[true,false,null]},"m":"x"}"#
        let v = try JSONParser.parse(Array(text.utf8))
        #expect(v.objectFields?.map(\.0) == ["z", "a", "m"])
        #expect(JSONWriter.string(v) == text)
    }

    @Test func utf8AndEscapesSurviveByteForByte() throws {
        let s = "Français è, Italiano à, 中文, 🙂, \"quoted\", comma, new\nline\ttab \u{1}"
        let encoded = JSONWriter.bytes(.string(s))
        #expect(try JSONParser.parse(encoded) == .string(s))
        #expect(try JSONParser.parse(Array(#""\u00e9\ud83d\ude42""#.utf8)) == .string("é🙂"))
    }

    @Test(arguments: [
        "", "[", "[1,]", "{\"a\" 1}", "[01]", "[1.]", "\"abc", "[1] x", "nul", "\"\\ud800\"", "[\"a\u{1}\"]", "{1:2}",
    ])
    func malformedInputIsRejectedWithAPosition(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func errorsNameLineAndColumn() {
        do {
            _ = try JSONParser.parse(Array("[1,\n 2,\n x]".utf8))
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 2)
        }
    }

    @Test func invalidUTF8IsRejected() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func deepNestingIsBounded() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(deep.utf8)) }
    }

    @Test func sequencesOfValuesParse() throws {
        let values = try JSONParser.parseSequence(Array("[1,2]\n[3]  [ ]\n{\"a\":1}\n".utf8))
        #expect(values.count == 4)
        #expect(values[1] == .array([.number("3")]))
    }

    @Test func idsAboveTwoToThe31() throws {
        let v = try JSONParser.parse(Array(#"{"id": 3000000000}"#.utf8))
        #expect(v["id"]?.int64Value == 3_000_000_000)
        #expect(try JSONParser.parse(Array(#"{"id": 1.5}"#.utf8))["id"]?.int64Value == nil)
    }
}

/// The streaming splitter under every reader of answers and archives: the same items whatever the pieces.
@Suite struct JSONArrayStreamTests {
    func items(_ text: String, shape: JSONArrayStream.Shape = .oneArray, piece: Int) throws -> [JSONValue] {
        var s = JSONArrayStream(shape: shape)
        var out: [JSONValue] = []
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: piece) {
            try bytes[start..<min(start + piece, bytes.count)].withUnsafeBytes { chunk in
                try s.feedValues(chunk) { v, at in
                    #expect(at.index == out.count)
                    out.append(v)
                }
            }
        }
        try s.finish()
        return out
    }

    @Test func everyWayOfCuttingGivesTheSameItems() throws {
        let text = #" [ {"a": "x,]\"}{[", "b": [1, [2, {"c": null}]]}, "s\\", 12.5e3 ,true,null, [], {}, "日本 🎉" ] "#
        let whole = try JSONParser.parse(Array(text.utf8)).arrayValues!
        for piece in 1...text.utf8.count {
            #expect(try items(text, piece: piece) == whole, "pieces of \(piece) bytes")
        }
    }

    @Test func severalArraysOnlyWhenAllowed() throws {
        #expect(try items("[1][2,3]\n[]", shape: .arrays, piece: 2) == [.number("1"), .number("2"), .number("3")])
        #expect(try items("", shape: .arrays, piece: 1).isEmpty)
        #expect(throws: JSONParseError.self) { try items("[1][2]", piece: 3) }
        #expect(throws: JSONParseError.self) { try items("", piece: 1) }
    }

    @Test(arguments: ["[1,]", "[,1]", "[1 2]", "{\"id\": 1}", "[1", "[{\"a\": 1}", "[\"abc", "x", "[1]]", "[{]}]", "[tru]"])
    func brokenTextIsRefusedWhateverThePieces(text: String) {
        for piece in [1, 2, 100] {
            #expect(throws: JSONParseError.self, "\(text) in pieces of \(piece)") { try items(text, piece: piece) }
        }
    }

    @Test func errorsArePlacedInTheWholeText() throws {
        for piece in [1, 4, 100] {
            do { _ = try items("[1,\n  2,\n  {\"a\": tru}]", piece: piece); Issue.record("expected an error") } catch let e as JSONParseError {
                #expect(e.line == 3 && e.column == 9, "\(e) in pieces of \(piece)")
            }
            do { _ = try items("[1,\n  2 x]", piece: piece); Issue.record("expected an error") } catch let e as JSONParseError {
                #expect(e.line == 2 && e.column == 5, "\(e) in pieces of \(piece)")
            }
        }
    }
}
