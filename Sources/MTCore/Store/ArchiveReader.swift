import Foundation

/// Reads the entries of one raw archive of either kind: a new gzip archive (one JSON array, the
/// server's bytes) or one of the original tool's uncompressed `.json` files, which may hold several JSON arrays
/// written one after another.
///
/// Archives are streamed: chunks of the file are decompressed and split into entries (`JSONArrayStream`), so
/// memory follows the largest entry, never the archive's size.
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
        try forEachEntry(path: layout.archivePath(archive), kind: archive.kind) { e, _ in try body(e) }
    }

    /// The same over a file at `path`, each entry with its position (its `index` counts from 0 in file order).
    public static func forEachEntry(path: String, kind: ArchiveName.Kind,
                                    _ body: (JSONValue, JSONArrayStream.Position) throws -> Void) throws {
        var splitter = JSONArrayStream(shape: .arrays)
        switch kind {
        case .gzip:
            try Gzip.readFile(path) { chunk in try feed(&splitter, chunk, source: path, body) }
        case .legacy:
            try FileSystem.readChunks(path) { chunk in try feed(&splitter, chunk, source: path, body) }
        }
        try parse(source: path) { try splitter.finish() }
    }

    /// Streams the entries of JSON text in memory holding one or more top-level arrays of entries.
    /// An empty text and an empty array both hold no entries; anything else that is not an array is refused.
    public static func forEachEntry(bytes: [UInt8], source: String, _ body: (JSONValue) throws -> Void) throws {
        var splitter = JSONArrayStream(shape: .arrays)
        try bytes.withUnsafeBytes { chunk in try feed(&splitter, chunk, source: source) { e, _ in try body(e) } }
        try parse(source: source) { try splitter.finish() }
    }

    private static func feed(_ splitter: inout JSONArrayStream, _ chunk: UnsafeRawBufferPointer, source: String,
                             _ body: (JSONValue, JSONArrayStream.Position) throws -> Void) throws {
        // Parse errors become data errors naming the archive; errors from `body` pass through unchanged.
        try parse(source: source) { try splitter.feedValues(chunk, body) }
    }

    private static func parse<T>(source: String, _ step: () throws -> T) throws -> T {
        do { return try step() } catch let error as JSONParseError { throw invalidJSON(source: source, error) }
    }

    /// The error of an archive whose text is not the JSON it should be (`mt verify` reports the same words).
    public static func invalidJSON(source: String, _ error: JSONParseError) -> MTError {
        MTError(.dataError, "\(source): not valid JSON: \(error)",
                hint: "the archive is damaged; compare it with raw_data/SHA256SUMS (mt verify) or restore it from a backup")
    }
}
