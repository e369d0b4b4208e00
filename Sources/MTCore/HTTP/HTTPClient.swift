import CCurl
import Foundation

/// Settings of one HTTP client (from a server block).
public struct HTTPOptions: Sendable {
    public var user: String?
    public var password: Secret?
    public var connectTimeout: Int = 10
    public var timeout: Int = 300
    /// Abort a transfer slower than 1 byte/s for this many seconds (a server that hangs mid-body).
    public var lowSpeedTime: Int = 30
    public var caFile: String?
    /// Plain `http://` to a host other than loopback; off unless the config says ALLOW_HTTP.
    public var allowInsecureHTTP = false
    /// The largest answer body accepted, in bytes (MAX_RESPONSE); a larger one fails before it fills memory or
    /// disk. Checked against Content-Length and again on every byte received. Nil: no limit.
    public var maxResponseBytes: Int64?

    public init(user: String? = nil, password: Secret? = nil) {
        self.user = user
        self.password = password
    }

    /// The options for talking to a configured server; its password must be found (PASS, PASS_FILE, environment).
    public init(server: ServerConfig) throws {
        user = server.user
        password = try server.requirePassword()
        connectTimeout = server.connectTimeout
        timeout = server.timeout
        lowSpeedTime = server.lowSpeedTime
        caFile = server.caFile
        allowInsecureHTTP = server.allowHTTP
        maxResponseBytes = server.maxResponse
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased, in arrival order.
    public var headers: [(String, String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.last { $0.0 == n }?.1
    }

    public var contentType: String? { header("content-type") }
}

/// A transfer that did not produce an HTTP answer: refused connection, timeout, reset, TLS failure.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    public var method: String
    public var url: String
    public var curlCode: Int
    public var message: String

    public var isTimeout: Bool { curlCode == Int(CURLE_OPERATION_TIMEDOUT.rawValue) }
    public var isTLS: Bool {
        [CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM]
            .map { Int($0.rawValue) }.contains(curlCode)
    }

    public var description: String { "\(method) \(url): \(message)" }
}

/// An HTTP/1.1 client over libcurl. One instance owns one easy handle, so connections are kept alive across
/// requests. Not thread-safe: give each worker thread its own. Bodies are never logged.
public final class HTTPClient {
    private let handle: UnsafeMutableRawPointer
    public let options: HTTPOptions

    private static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    public init(options: HTTPOptions) throws {
        guard Self.globalInit, let h = curl_easy_init() else {
            throw MTError(.software, "libcurl could not be initialised")
        }
        handle = h
        self.options = options
    }

    deinit { curl_easy_cleanup(handle) }

    public func get(_ url: String, progress: ((_ received: Int, _ expected: Int?) -> Void)? = nil) throws -> HTTPResponse {
        try request("GET", url, progress: progress)
    }
    public func delete(_ url: String) throws -> HTTPResponse { try request("DELETE", url) }

    /// A GET whose body is handed to `body` piece by piece as it arrives and never kept (the response's `body`
    /// is empty): `head` gets the status and headers first, before any piece. An error thrown by either ends the
    /// transfer at once and is rethrown.
    public func stream(_ url: String, progress: ((_ received: Int, _ expected: Int?) -> Void)? = nil,
                       head: (_ status: Int, _ headers: [(String, String)]) throws -> Void,
                       body: (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse {
        try request("GET", url, progress: progress, head: head, body: body)
    }

    /// True for 127.0.0.0/8, ::1, and localhost when it resolves only to those (see `Loopback`).
    public static func isLoopback(host: String) -> Bool { Loopback.check(host: host).isLoopback }

    /// Refuses URLs `mt` must not talk to: other schemes, and plain http beyond loopback unless allowed.
    public func checkURL(_ url: String) throws { try Self.checkURL(url, options: options) }

    /// The same check before any client is opened.
    public static func checkURL(_ url: String, options: HTTPOptions) throws {
        guard let u = URLComponents(string: url), let scheme = u.scheme?.lowercased(), let host = u.host else {
            throw MTError(.config, "'\(url)' is not a valid URL")
        }
        switch scheme {
        case "https": return
        case "http":
            if Self.isLoopback(host: host) || options.allowInsecureHTTP { return }
            throw MTError(.config, "refusing plain http:// to \(host): passwords and data would cross the network unencrypted",
                          hint: "use https://, or set ALLOW_HTTP: true in the server's block if this is truly a private network")
        default:
            throw MTError(.config, "unsupported URL scheme '\(scheme)' in \(url)")
        }
    }

    /// `progress` is told the body bytes received so far and the Content-Length, if the server sent one.
    public func request(_ method: String, _ url: String,
                        progress: ((_ received: Int, _ expected: Int?) -> Void)? = nil) throws -> HTTPResponse {
        var kept: [UInt8] = []
        var response = try request(method, url, progress: progress, head: { _, _ in }, body: { kept.append(contentsOf: $0) })
        response.body = kept
        return response
    }

    func request(_ method: String, _ url: String, progress: ((_ received: Int, _ expected: Int?) -> Void)?,
                 head: (Int, [(String, String)]) throws -> Void,
                 body: (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse {
        try withoutActuallyEscaping(head) { head in
            try withoutActuallyEscaping(body) { body in
                try perform(method, url, progress: progress, head: head, body: body)
            }
        }
    }

    private func perform(_ method: String, _ url: String, progress: ((_ received: Int, _ expected: Int?) -> Void)?,
                         head: @escaping (Int, [(String, String)]) throws -> Void,
                         body: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse {
        try checkURL(url)
        let h = handle
        let box = TransferBox(handle: h, head: head, body: body)
        box.progress = progress
        curl_easy_reset(h)
        mt_curl_setopt_string(h, CURLOPT_URL, url)
        mt_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        mt_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https")
        mt_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        mt_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT, options.connectTimeout)
        mt_curl_setopt_long(h, CURLOPT_TIMEOUT, options.timeout)
        mt_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, 1)
        mt_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, options.lowSpeedTime)
        mt_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
        mt_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
        mt_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        if let ca = options.caFile { mt_curl_setopt_string(h, CURLOPT_CAINFO, ca) }
        if let user = options.user, !user.isEmpty {
            mt_curl_setopt_long(h, CURLOPT_HTTPAUTH, 1) // CURLAUTH_BASIC (a cast macro Swift cannot import)
            mt_curl_setopt_string(h, CURLOPT_USERNAME, user)
            mt_curl_setopt_string(h, CURLOPT_PASSWORD, options.password?.reveal ?? "")
        }
        switch method {
        case "GET": mt_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
        case "HEAD": mt_curl_setopt_long(h, CURLOPT_NOBODY, 1)
        default: mt_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, method)
        }
        if let limit = options.maxResponseBytes {
            box.limit = limit
            mt_curl_setopt_off(h, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(limit))
        }
        let unmanaged = Unmanaged.passRetained(box)
        defer { unmanaged.release() }
        mt_curl_setopt_pointer(h, CURLOPT_WRITEDATA, unmanaged.toOpaque())
        mt_curl_setopt_write(h) { ptr, size, count, user in
            let box = Unmanaged<TransferBox>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            box.received += Int64(n)
            // Returning less than was given makes libcurl abort the transfer (CURLE_WRITE_ERROR).
            if let limit = box.limit, box.received > limit { box.tooLarge = true; return 0 }
            do {
                try box.startBody()
                if let ptr { try box.body(UnsafeRawBufferPointer(start: ptr, count: n)) }
            } catch {
                box.failure = error
                return 0
            }
            if let progress = box.progress {
                progress(Int(box.received), box.headers.last { $0.0 == "content-length" }.flatMap { Int($0.1) })
            }
            return n
        }
        mt_curl_setopt_pointer(h, CURLOPT_HEADERDATA, unmanaged.toOpaque())
        mt_curl_setopt_header(h) { ptr, size, count, user in
            let box = Unmanaged<TransferBox>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            if let ptr {
                let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
                if line.hasPrefix("HTTP/") { box.headers.removeAll() } // a new response (e.g. after 100 Continue)
                if let colon = line.firstIndex(of: ":") {
                    let name = line[..<colon].lowercased()
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                    box.headers.append((name, value))
                }
            }
            return n
        }
        let error = CurlErrorBuffer()
        mt_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, error.pointer)
        let rc = withExtendedLifetime(error) {
            defer { mt_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, nil) }
            return curl_easy_perform(h)
        }
        if let failure = box.failure { throw failure }
        if box.tooLarge || rc == CURLE_FILESIZE_EXCEEDED, let limit = box.limit {
            throw MTError(.unavailable, "\(method) \(url): the answer is larger than MAX_RESPONSE (\(ByteSize.text(limit))); it was not kept",
                          hint: "nothing was deleted for it; if the server really holds that much, raise MAX_RESPONSE in the server's block")
        }
        guard rc == CURLE_OK else {
            let detail = error.text
            throw HTTPTransportError(method: method, url: url, curlCode: Int(rc.rawValue),
                                     message: detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail)
        }
        try box.startBody() // an answer without a body
        return HTTPResponse(status: box.status, headers: box.headers, body: [])
    }
}

/// What the C callbacks of one transfer share with it.
final class TransferBox {
    let handle: UnsafeMutableRawPointer
    let head: (Int, [(String, String)]) throws -> Void
    let body: (UnsafeRawBufferPointer) throws -> Void
    var limit: Int64?
    var received: Int64 = 0
    var tooLarge = false
    var headers: [(String, String)] = []
    var progress: ((Int, Int?) -> Void)?
    var status = 0
    var started = false
    /// Thrown by `head` or `body` inside a callback; rethrown once libcurl has returned.
    var failure: Error?

    init(handle: UnsafeMutableRawPointer, head: @escaping (Int, [(String, String)]) throws -> Void,
         body: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.handle = handle
        self.head = head
        self.body = body
    }

    /// The status and headers, once: before the first piece of the body, or at the end when there is none.
    func startBody() throws {
        guard !started else { return }
        started = true
        mt_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        try head(status, headers)
    }
}
