import CZlib
import Foundation

/// gzip (RFC 1952) over the system zlib. Raw archives are gzip so that `zcat` and Python read them too.
public enum Gzip {
    /// Compresses a whole buffer into one gzip member.
    public static func compress(_ input: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var out: [UInt8] = []
        var w = try GzipEncoder(level: level)
        try w.write(input) { out.append(contentsOf: $0) }
        try w.finish { out.append(contentsOf: $0) }
        return out
    }

    /// Decompresses a whole gzip buffer (several members are concatenated, as gzip(1) does). The CRC and
    /// length of every member are checked; a truncated or corrupt archive throws.
    public static func decompress(_ input: [UInt8], source: String = "<memory>") throws -> [UInt8] {
        var out: [UInt8] = []
        var d = try GzipDecoder(source: source)
        try d.feed(input) { out.append(contentsOf: $0) }
        try d.finish()
        return out
    }

    /// Streams a gzip file through `body` chunk by chunk: memory stays bounded whatever the archive's size.
    /// `raw`, when given, sees the file's own (compressed) bytes as they are read.
    public static func readFile(_ path: String, chunkSize: Int = 1 << 20, raw: ((UnsafeRawBufferPointer) -> Void)? = nil,
                                _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var d = try GzipDecoder(source: path)
        try FileSystem.readChunks(path, chunkSize: chunkSize) { chunk in
            raw?(chunk)
            try d.feed(chunk, body)
        }
        try d.finish()
    }

    /// True when the bytes start with the gzip magic number.
    public static func isGzip<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var it = bytes.makeIterator()
        return it.next() == 0x1F && it.next() == 0x8B
    }
}

/// Incremental gzip compression.
public struct GzipEncoder: ~Copyable {
    private var stream: UnsafeMutablePointer<z_stream>
    private var out = [UInt8](repeating: 0, count: 1 << 16)

    public init(level: Int32 = 6) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 + 16: a gzip header and trailer around the deflate stream.
        guard mt_deflateInit2(stream, level, 15 + 16) == Z_OK else {
            stream.deallocate()
            throw MTError(.software, "zlib: deflateInit2 failed")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    public mutating func write<C: Collection>(_ input: C, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws where C.Element == UInt8 {
        // Without a copy when the bytes are contiguous already (they always are on the archive's path).
        if let done = try input.withContiguousStorageIfAvailable({ try run($0, flush: Z_NO_FLUSH, sink) }) { return done }
        try Array(input).withUnsafeBufferPointer { try run($0, flush: Z_NO_FLUSH, sink) }
    }

    public mutating func finish(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try [UInt8]().withUnsafeBufferPointer { try run($0, flush: Z_FINISH, sink) }
    }

    private mutating func run(_ inp: UnsafeBufferPointer<UInt8>, flush: Int32, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let s = stream
        do {
            s.pointee.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
            s.pointee.avail_in = uInt(inp.count)
            var done = false
            while !done {
                let (rc, produced) = out.withUnsafeMutableBufferPointer { o -> (Int32, Int) in
                    s.pointee.next_out = o.baseAddress
                    s.pointee.avail_out = uInt(o.count)
                    let rc = deflate(s, flush)
                    return (rc, o.count - Int(s.pointee.avail_out))
                }
                guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
                    throw MTError(.software, "zlib: deflate failed (\(rc))")
                }
                if produced > 0 { try out.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
                done = flush == Z_FINISH ? rc == Z_STREAM_END : (s.pointee.avail_in == 0 && produced < out.count)
            }
            s.pointee.next_in = nil
        }
    }
}

/// Incremental gzip decompression with member concatenation and CRC checks.
public struct GzipDecoder: ~Copyable {
    private var stream: UnsafeMutablePointer<z_stream>
    private var out = [UInt8](repeating: 0, count: 1 << 16)
    private var inMember = false
    private var sawData = false
    private let source: String

    public init(source: String) throws {
        self.source = source
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard mt_inflateInit2(stream, 15 + 16) == Z_OK else {
            stream.deallocate()
            throw MTError(.software, "zlib: inflateInit2 failed")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    public mutating func feed<C: Collection>(_ input: C, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws where C.Element == UInt8 {
        if let done = try input.withContiguousStorageIfAvailable({ try feed($0, sink) }) { return done }
        try Array(input).withUnsafeBufferPointer { try feed($0, sink) }
    }

    private mutating func feed(_ inp: UnsafeBufferPointer<UInt8>, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !inp.isEmpty else { return }
        sawData = true
        let s = stream
        let src = source
        var member = inMember
        do {
            s.pointee.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
            s.pointee.avail_in = uInt(inp.count)
            while s.pointee.avail_in > 0 {
                member = true
                let (rc, produced) = out.withUnsafeMutableBufferPointer { o -> (Int32, Int) in
                    s.pointee.next_out = o.baseAddress
                    s.pointee.avail_out = uInt(o.count)
                    let rc = inflate(s, Z_NO_FLUSH)
                    return (rc, o.count - Int(s.pointee.avail_out))
                }
                if produced > 0 { try out.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
                switch rc {
                case Z_STREAM_END:
                    member = false
                    inflateReset(s)
                case Z_OK, Z_BUF_ERROR:
                    continue
                default:
                    let why = s.pointee.msg.map { String(cString: $0) } ?? "code \(rc)"
                    throw MTError(.dataError, "\(src): not a valid gzip archive (\(why))",
                                  hint: "the file is corrupt; restore it from a backup or run mt verify")
                }
            }
            s.pointee.next_in = nil
        }
        inMember = member
    }

    /// Call after the last `feed`: a member that did not end is a truncated archive.
    public func finish() throws {
        guard sawData else {
            throw MTError(.dataError, "\(source): empty file where a gzip archive was expected")
        }
        if inMember {
            throw MTError(.dataError, "\(source): gzip archive is truncated (it ends inside compressed data)",
                          hint: "the file was cut short; restore it from a backup or run mt verify")
        }
    }
}
