/// A scale's answer as it streamed in: per entry, in the server's order, its id and content hash; and the facts of
/// the whole answer. The entries themselves are not kept (`mt export` has them in the archive it spooled).
public struct FetchedScale: Sendable {
    public var scaleName: String
    public var ids: [Int64] = []
    /// `WrittenSet.hash` of each entry, by position.
    public var hashes: [UInt64] = []
    /// Every entry has a date. The server filters `after=` with `date > ?`, so an entry whose date is null or
    /// missing is never returned by it.
    public var allDated = true
    /// SHA-256 of the answer's bytes as the server sent them, and how many there were.
    public var sha256 = ""
    public var bytes: Int64 = 0

    public init(scaleName: String) { self.scaleName = scaleName }

    public var count: Int { ids.count }
    public var isEmpty: Bool { ids.isEmpty }
}

extension ExportValidation {
    /// `GET {api}/export/{scale}` checked piece by piece as `transfer` delivers it: status 200, not an HTML page,
    /// one JSON array of objects, each with a whole-number `id`, no id twice. The first failure ends the transfer
    /// (an `.unavailable` error naming the scale, the entry and its line). `also` sees every piece of a 200 answer
    /// after it was checked (`mt export` spools it into the archive). Memory holds one entry at a time.
    public static func scaleAnswer(scale: String, also: ((UnsafeRawBufferPointer) throws -> Void)? = nil,
                                   transfer: (_ head: (Int, [(String, String)]) throws -> Void,
                                              _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> FetchedScale {
        let what = "scale \(scale)"
        var reader = try ScaleAnswerReader(scale: scale)
        var status = 0
        try transfer({ code, headers in
            status = code
            guard code == 200 else { return }
            try checkNotHTML(contentType: headers.last { $0.0 == "content-type" }?.1, body: [UInt8](), what: what)
            reader.expected = headers.last { $0.0 == "content-length" }.flatMap { Int64($0.1) }
        }, { piece in
            // The body of an error page is not kept: the status says what went wrong.
            guard status == 200 else { return }
            try reader.feed(piece)
            try also?(piece)
        })
        try checkStatus(status, what: what)
        return try reader.finish()
    }
}

/// The checks of `ExportValidation.scaleAnswer`, fed piece by piece.
struct ScaleAnswerReader {
    private var splitter = JSONArrayStream(shape: .oneArray)
    private let digest: SHA256.Stream
    private var fetched: FetchedScale
    private var sawContent = false
    private let what: String
    /// The compact form of the entry being read, reused from entry to entry.
    private var compact: [UInt8] = []
    /// The answer's length, when the server said it: the per-entry arrays are sized once from it, instead of
    /// doubling (which holds the old and the new array at once: a third more memory at the worst moment).
    var expected: Int64?
    private var sized = false
    private static let sample = 256

    init(scale: String) throws {
        fetched = FetchedScale(scaleName: scale)
        what = "scale \(scale)"
        digest = try SHA256.Stream()
    }

    mutating func feed(_ piece: UnsafeRawBufferPointer) throws {
        if !sawContent, let first = piece.first(where: { !JSONArrayStream.isSpace($0) }) {
            sawContent = true
            try ExportValidation.checkNotHTML(contentType: nil, body: [first], what: what)
        }
        digest.update(piece)
        fetched.bytes += Int64(piece.count)
        let what = self.what
        // Moved out while the splitter's closure appends, so the arrays are never copied.
        var f = FetchedScale(scaleName: fetched.scaleName)
        swap(&f, &fetched)
        defer { swap(&f, &fetched) }
        var compact = self.compact
        defer { self.compact = compact }
        try Self.invalidJSON(what) {
            try splitter.feed(piece) { bytes, at in
                compact.removeAll(keepingCapacity: true)
                let facts: JSONCompact.Facts
                do throws(JSONParseError) { facts = try JSONCompact.scan(bytes, into: &compact) } catch {
                    throw JSONArrayStream.place(error, at: at)
                }
                guard facts.isObject else {
                    throw MTError(.unavailable, "\(what): entry \(at.index + 1) (line \(at.line)) is not a JSON object")
                }
                guard let id = facts.id else {
                    throw MTError(.unavailable, "\(what): entry \(at.index + 1) (line \(at.line)) has no whole-number \"id\"")
                }
                f.ids.append(id)
                f.hashes.append(WrittenSet.hash(compact: compact))
                if !facts.dated { f.allDated = false }
            }
        }
        if !sized, f.ids.count >= Self.sample, let expected {
            sized = true
            // Entries so far per byte so far, with 2% to spare; never more than one entry per 8 bytes.
            let estimate = min(Int(Double(expected) * Double(f.ids.count) / Double(f.bytes) * 1.02) + Self.sample, Int(expected / 8))
            f.ids.reserveCapacity(estimate)
            f.hashes.reserveCapacity(estimate)
        }
    }

    /// The answer is complete: it must have been one whole array, with no id twice.
    mutating func finish() throws -> FetchedScale {
        try Self.invalidJSON(what) { try splitter.finish() }
        if let twice = Self.repeated(fetched.ids) {
            throw MTError(.unavailable, "\(what): id \(twice) appears twice in one answer")
        }
        fetched.sha256 = digest.finish()
        return fetched
    }

    /// An id that appears twice. Servers number entries densely, so a bit per id of the range is usually far
    /// smaller than a sorted copy (8 bytes an entry); a sparse range falls back to the copy.
    static func repeated(_ ids: [Int64]) -> Int64? {
        guard let low = ids.min(), let high = ids.max() else { return nil }
        let (span, overflow) = high.subtractingReportingOverflow(low)
        if !overflow && span < Int64(ids.count) * 16 {
            var bits = [UInt64](repeating: 0, count: Int(span / 64) + 1)
            for id in ids {
                let k = Int(id - low)
                let mask: UInt64 = 1 << UInt64(k & 63)
                if bits[k >> 6] & mask != 0 { return id }
                bits[k >> 6] |= mask
            }
            return nil
        }
        let sorted = ids.sorted()
        return sorted.indices.dropFirst().first { sorted[$0] == sorted[$0 - 1] }.map { sorted[$0] }
    }

    private static func invalidJSON(_ what: String, _ body: () throws -> Void) throws {
        do { try body() } catch let e as JSONParseError {
            throw MTError(.unavailable, "\(what): the server's answer is not valid JSON (\(e))",
                          hint: "nothing was archived or deleted; the next run will try again")
        }
    }
}
