import Foundation
import MTCore

/// One libFuzzer entry point; `MT_FUZZ_TARGET` picks the reader under test. Each reader must either accept the
/// input or throw its documented error: a crash, a hang or unbounded memory is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch ProcessInfo.processInfo.environment["MT_FUZZ_TARGET"] ?? "json" {
    case "json":
        let tree = try? JSONParser.parse(bytes)
        if let v = tree {
            // What is written must parse back to the same value.
            let again = try? JSONParser.parse(JSONWriter.bytes(v))
            precondition(again == v, "JSON writer output does not round-trip")
        }
        // The allocation-free route export reads answers with: the same verdict, the same compact bytes.
        var compact: [UInt8] = []
        let scanned = bytes.withUnsafeBufferPointer { b in (try? JSONCompact.scan(b, into: &compact)) != nil }
        precondition(scanned == (tree != nil), "JSONCompact and JSONParser disagree on whether the text is JSON")
        if let v = tree { precondition(compact == JSONWriter.bytes(v), "JSONCompact's bytes differ from JSONWriter's") }
    case "answer":
        // An answer split into entries in pieces of every size the input's first byte picks.
        guard let first = bytes.first else { return 0 }
        let piece = Int(first % 64) + 1
        var splitter = JSONArrayStream(shape: .oneArray)
        var items: [JSONValue] = []
        var failed = false
        for start in stride(from: 1, to: bytes.count, by: piece) where !failed {
            do {
                try bytes[start..<min(start + piece, bytes.count)].withUnsafeBytes { chunk in
                    try splitter.feedValues(chunk) { v, _ in items.append(v) }
                }
            } catch { failed = true }
        }
        let streamed: [JSONValue]? = !failed && (try? splitter.finish()) != nil ? items : nil
        // Whatever the pieces, an array parsed whole gives the same items, in order (the splitter alone may accept
        // an item one level deeper than the whole text's depth limit allows).
        if let whole = (try? JSONParser.parse(bytes.dropFirst()))?.arrayValues {
            precondition(streamed == whole, "JSONArrayStream lost or changed an item")
        }
    case "legacy":
        _ = try? JSONParser.parseSequence(bytes)
    case "csv":
        var reader = CSVReader(bytes: bytes)
        var rows = 0
        while let row = try? reader.next(), rows < 100_000 {
            // A row written back and read again is the same row.
            var back = CSVReader(bytes: CSVWriter.row(row))
            precondition((try? back.next()) == row, "CSV writer output does not round-trip")
            rows += 1
        }
    case "base64":
        let text = String(decoding: bytes, as: UTF8.self)
        if let decoded = Base64.decode(text) {
            precondition(Base64.decode(Base64.encode(decoded)) == decoded, "base64 does not round-trip")
            // Strict: the only accepted text of a byte string is its canonical encoding (whitespace aside).
            let bare = String(decoding: bytes.filter { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }, as: UTF8.self)
            precondition(Base64.encode(decoded) == bare, "base64 accepted a non-canonical text")
        }
    case "gzip":
        _ = try? Gzip.decompress(bytes)
    case "key":
        _ = try? RSAPrivateKey.parse(bytes, source: "fuzz", passphrase: "fuzz")
    case "yaml":
        _ = try? MTConfig.parse(String(decoding: bytes, as: UTF8.self), file: "/fuzz/server.yaml", environment: [:],
                                allowReadableSecrets: true)
        _ = try? ScaleCatalogue.parse(String(decoding: bytes, as: UTF8.self), source: "fuzz")
    case "benchmark":
        _ = try? Benchmark.parse(bytes, source: "fuzz")
    case "names":
        let s = String(decoding: bytes, as: UTF8.self)
        if let a = ArchiveName.parse(s) { precondition(SafeName.isValidScale(a.scale)) }
        if SafeName.isValidScale(s) { precondition(!s.contains("/") && !s.hasPrefix(".")) }
    default:
        fatalError("unknown MT_FUZZ_TARGET")
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<Int32>,
               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

/// SwiftPM links an executable's entry point under this name; hand control to libFuzzer's driver.
@_cdecl("mt_fuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return runDriver(&count, &vector) { data, size in fuzz(data, size) }
}
