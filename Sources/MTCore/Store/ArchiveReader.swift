import Foundation

/// Reads the entries of one raw archive of either kind: a new gzip archive (one JSON array, the
/// server's bytes) or one of the original tool's uncompressed `.json` files, which may hold several JSON arrays
/// written one after another.
///
/// Memory follows the largest single archive: the decompressed bytes of one archive are held while its entries
/// are handed out one at a time, never the parsed whole of several archives.
public enum ArchiveReader {
    /// Every entry of the archive, in file order (the arrays of a legacy file concatenated).
    public static func entries(layout: DataLayout, archive: ArchiveName) throws -> [JSONValue] {
        var out: [JSONValue] = []
        try forEachEntry(layout: layout, archive: archive) { out.append($0) }
        return out
    }

    /// Streams the entries of the archive to `body`, in file order, without building the whole parsed array.
    public static func forEachEntry(layout: DataLayout, archive: ArchiveName,
                                    _ body: (JSONValue) throws -> Void) throws {
        let path = layout.archivePath(archive)
        try forEachEntry(bytes: try contents(path: path, kind: archive.kind), source: path, body)
    }

    /// The decompressed bytes of the archive at `path` (gzip is streamed; CRC and length are checked).
    public static func contents(path: String, kind: ArchiveName.Kind) throws -> [UInt8] {
        switch kind {
        case .legacy:
            return try FileSystem.read(path)
        case .gzip:
            var bytes: [UInt8] = []
            try Gzip.readFile(path) { bytes.append(contentsOf: $0) }
            return bytes
        }
    }

    /// Streams the entries of JSON text holding one or more top-level arrays of entries.
    /// An empty file and an empty array both hold no entries; anything else that is not an array is refused.
    public static func forEachEntry(bytes: [UInt8], source: String, _ body: (JSONValue) throws -> Void) throws {
        try bytes.withUnsafeBufferPointer { buf in
            var c = JSONParser.Cursor(buf)
            // Parse errors become data errors naming the archive; errors from `body` pass through unchanged.
            func parse<T>(_ step: (inout JSONParser.Cursor) throws(JSONParseError) -> T) throws -> T {
                do throws(JSONParseError) { return try step(&c) } catch {
                    throw MTError(.dataError, "\(source): not valid JSON: \(error)",
                                  hint: "the archive is damaged; compare it with raw_data/SHA256SUMS (mt verify) or restore it from a backup")
                }
            }
            c.skipWhitespace()
            while !c.atEnd {
                try parse { (c) throws(JSONParseError) in
                    guard buf[c.i] == UInt8(ascii: "[") else { throw c.error("expected a JSON array of entries") }
                    c.i += 1
                    c.skipWhitespace()
                }
                var more = try parse { (c) throws(JSONParseError) -> Bool in
                    guard !c.atEnd else { throw c.error("unexpected end of JSON inside an array (truncated archive?)") }
                    if buf[c.i] == UInt8(ascii: "]") { c.i += 1; return false }
                    return true
                }
                while more {
                    let v = try parse { (c) throws(JSONParseError) in try c.value(depth: 1) }
                    try body(v)
                    more = try parse { (c) throws(JSONParseError) -> Bool in
                        c.skipWhitespace()
                        guard !c.atEnd else { throw c.error("unexpected end of JSON inside an array (truncated archive?)") }
                        if buf[c.i] == UInt8(ascii: ",") { c.i += 1; c.skipWhitespace(); return true }
                        if buf[c.i] == UInt8(ascii: "]") { c.i += 1; return false }
                        throw c.error("expected ',' or ']' in an array")
                    }
                }
                c.skipWhitespace()
            }
        }
    }
}
