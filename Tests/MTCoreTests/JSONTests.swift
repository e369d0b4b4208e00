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

/// The allocation-free route (`JSONCompact`) against the tree route (`JSONParser` then `JSONWriter`): the same
/// verdict on every text and the same bytes for every value, so an entry's content hash never depends on the route.
@Suite struct JSONCompactTests {
    struct Generator {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        mutating func space() -> String { ["", "", " ", "\n", "\t ", "\r\n  "][next(6)] }
        mutating func string() -> String {
            let pieces = ["a", "id", "date", "é", "日本", "🎉", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0000",
                          "\\u001f", "\\u007F", "\\u0080", "\\u009f", "\\u00a0", "\\u00E9", "\\ud83c\\udf89", "\\u2028", "\u{7F}",
                          "\u{80}", "\u{9F}", "\u{A0}", "/", "'", " ", ""]
            return "\"" + (0..<next(4)).map { _ in pieces[next(pieces.count)] }.joined() + "\""
        }
        mutating func number() -> String {
            ["0", "-0", "7", "-12", "3.10", "1e5", "2.50E-3", "12345678901234567890", "9223372036854775807",
             "-9223372036854775808", "9223372036854775808", "0.0"][next(12)]
        }
        mutating func value(_ depth: Int) -> String {
            switch next(depth > 3 ? 5 : 7) {
            case 0: return string()
            case 1, 2: return number()
            case 3: return ["true", "false", "null"][next(3)]
            case 4: return string()
            case 5: return "[" + space() + (0..<next(4)).map { _ in value(depth + 1) + space() }.joined(separator: "," + space()) + "]"
            default: return object(depth)
            }
        }
        mutating func object(_ depth: Int) -> String {
            let keys = ["\"id\"", "\"date\"", "\"i\\u0064\"", "\"text\"", "\"idx\""]
            return "{" + space() + (0..<next(5)).map { _ in
                (next(3) == 0 ? string() : keys[next(keys.count)]) + space() + ":" + space() + value(depth + 1)
            }.joined(separator: space() + "," + space()) + space() + "}"
        }
    }

    func both(_ bytes: [UInt8]) -> (tree: [UInt8]?, compact: [UInt8]?, facts: JSONCompact.Facts?) {
        let tree = (try? JSONParser.parse(bytes)).map { JSONWriter.bytes($0) }
        var out: [UInt8] = []
        let facts = bytes.withUnsafeBufferPointer { try? JSONCompact.scan($0, into: &out) }
        return (tree, facts == nil ? nil : out, facts)
    }

    @Test func generatedValuesAndTheirDamageAgree() throws {
        var g = Generator(state: 20261129)
        for _ in 0..<3000 {
            let text = Array((g.space() + g.object(0) + g.space()).utf8)
            let r = both(text)
            #expect(r.tree != nil && r.compact == r.tree, "\(String(decoding: text, as: UTF8.self))")
            let value = try JSONParser.parse(text)
            #expect(r.facts?.id == value["id"]?.int64Value && r.facts?.isObject == true)
            #expect(r.facts?.dated == ((value["date"]?.stringValue).map { !$0.isEmpty } ?? false))
            // Damage: a byte changed, one cut off; both routes must say the same.
            var damaged = text
            let k = g.next(text.count)
            damaged[k] = [0x22, 0x5C, 0x7D, 0x5D, 0x2C, 0x00, 0xC3, 0xED, 0xFF, 0x75, 0x30][g.next(11)]
            let d = both(damaged)
            #expect(d.compact == d.tree, "\(damaged)")
            let cut = both(Array(text.prefix(g.next(text.count))))
            #expect(cut.compact == cut.tree)
        }
    }

    @Test(arguments: ["\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\u{1}\"", "[1,]", "01", "1.", "-", "tru", "{\"a\" 1}",
                      "\"\\x\"", "\"\\u12\"", "[" + String(repeating: "[", count: 300) + String(repeating: "]", count: 301)])
    func refusedLikeTheParser(text: String) {
        let r = both(Array(text.utf8))
        #expect(r.tree == nil && r.compact == nil)
    }

    @Test func invalidUTF8IsRefusedLikeTheParser() {
        for bad: [UInt8] in [[0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF8], [0x80], [0xC3]] {
            let r = both([0x22] + bad + [0x22])
            #expect(r.tree == nil && r.compact == nil, "\(bad)")
        }
        let ok: [UInt8] = [0x22, 0xF0, 0x9F, 0x8E, 0x89, 0xEF, 0xBF, 0xBF, 0x22]
        #expect(both(ok).compact == both(ok).tree && both(ok).tree != nil)
    }
}
