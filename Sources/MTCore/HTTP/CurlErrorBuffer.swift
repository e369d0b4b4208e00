import CCurl

/// The memory behind CURLOPT_ERRORBUFFER. libcurl keeps the pointer and writes through it later, inside
/// `curl_easy_perform`, so it must be allocated memory that outlives the transfer; a pointer made from a Swift
/// array with `&` is valid only during the one call it is passed to.
final class CurlErrorBuffer {
    let pointer: UnsafeMutablePointer<CChar>
    /// libcurl's size, and one more byte so the text always ends in a NUL.
    static let size = Int(CURL_ERROR_SIZE) + 1

    init() {
        pointer = .allocate(capacity: Self.size)
        pointer.initialize(repeating: 0, count: Self.size)
    }

    deinit { pointer.deallocate() }

    /// What libcurl wrote (empty if it wrote nothing), cut at the first NUL and never past the buffer.
    var text: String {
        let bytes = UnsafeBufferPointer(start: pointer, count: Self.size).prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
