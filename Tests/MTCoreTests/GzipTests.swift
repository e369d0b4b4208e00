import MTCore
import MTTestSupport
import Testing

@Suite struct GzipTests {
    @Test func roundTripAndInteroperateWithGzipTool() throws {
        let text = Array("[{\"id\":1,\"t\":\"é中🙂\"}]".utf8) + Array(repeating: UInt8(ascii: " "), count: 100_000)
        let z = try Gzip.compress(text)
        #expect(Gzip.isGzip(z))
        #expect(try Gzip.decompress(z) == text)
        let dir = try TempDir()
        defer { dir.remove() }
        try FileSystem.writeAtomically(z, to: dir.file("a.json.gz"))
        let r = try Run.program("/bin/gzip", ["-dc", dir.file("a.json.gz")])
        #expect(r.code == 0)
        #expect(r.stdoutBytes == text)
    }

    @Test func concatenatedMembersAreOneStream() throws {
        let a = try Gzip.compress(Array("[1]".utf8)), b = try Gzip.compress(Array("[2]".utf8))
        #expect(try Gzip.decompress(a + b) == Array("[1][2]".utf8))
    }

    @Test func truncatedArchiveIsRefused() throws {
        let z = try Gzip.compress(Array(repeating: UInt8(7), count: 50_000))
        #expect(throws: MTError.self) { try Gzip.decompress(Array(z.dropLast(5))) }
        #expect(throws: MTError.self) { try Gzip.decompress(Array(z.prefix(z.count / 2))) }
        #expect(throws: MTError.self) { try Gzip.decompress([]) }
    }

    @Test func flippedByteFailsTheCRC() throws {
        var z = try Gzip.compress(Array("hello world, hello world".utf8))
        z[z.count - 6] ^= 0x01 // inside the CRC32 trailer
        #expect(throws: MTError.self) { try Gzip.decompress(z) }
    }

    @Test func streamingReadKeepsMemoryToChunks() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let data = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 31) }
        try FileSystem.writeAtomically(try Gzip.compress(data), to: dir.file("x.gz"))
        var back: [UInt8] = []
        var maxChunk = 0
        try Gzip.readFile(dir.file("x.gz"), chunkSize: 4096) { chunk in
            maxChunk = max(maxChunk, chunk.count)
            back.append(contentsOf: chunk)
        }
        #expect(back == data)
        #expect(maxChunk <= 1 << 16)
    }
}
