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
    /// Plain `http://` to a host other than loopback (DESIGN §4.7); off unless the config says ALLOW_HTTP.
    public var allowInsecureHTTP = false

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

    /// True for 127.0.0.0/8, ::1 and localhost.
    public static func isLoopback(host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }

    /// Refuses URLs `mt` must not talk to: other schemes, and plain http beyond loopback unless allowed.
    public func checkURL(_ url: String) throws {
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
        try checkURL(url)
        let h = handle
        let box = TransferBox()
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
        let unmanaged = Unmanaged.passRetained(box)
        defer { unmanaged.release() }
        mt_curl_setopt_pointer(h, CURLOPT_WRITEDATA, unmanaged.toOpaque())
        mt_curl_setopt_write(h) { ptr, size, count, user in
            let box = Unmanaged<TransferBox>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            if let ptr { box.body.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: n)) }
            if let progress = box.progress {
                progress(box.body.count, box.headers.last { $0.0 == "content-length" }.flatMap { Int($0.1) })
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
        var error = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        mt_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, &error)
        let rc = curl_easy_perform(h)
        mt_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, nil)
        guard rc == CURLE_OK else {
            let detail = cText(error)
            throw HTTPTransportError(method: method, url: url, curlCode: Int(rc.rawValue),
                                     message: detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail)
        }
        var status = 0
        mt_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: box.headers, body: box.body)
    }
}

final class TransferBox {
    var body: [UInt8] = []
    var headers: [(String, String)] = []
    var progress: ((Int, Int?) -> Void)?
}
