import CCurl
import Foundation

/// Sends the run's alert e-mail over SMTP with libcurl: STARTTLS on `smtp://` (required beyond loopback),
/// TLS on `smtps://`, authentication when SMTP_USER is set.
public struct AlertMailer: Sendable {
    public let config: AlertConfig

    public init(config: AlertConfig) { self.config = config }

    /// The alert mail: what was logged, where the details are, and `footer`, what the caller knows to be true
    /// of the run (nothing is said of scales that failed unless one did).
    public static func body(server: ServerConfig, messages: [String], footer: String? = nil) -> String {
        """
        mt on \(ProcessInfo.processInfo.hostName) logged \(messages.count) critical event(s) for server \
        \(server.name) (\(server.apiBase)).

        \(messages.joined())
        Details are in \(server.logsDirectory)/break_down.log and DEBUG.log.
        """ + (footer.map { "\n" + $0 + "\n" } ?? "")
    }

    /// The one mail that says the alerts mailed before no longer occur.
    public static func resolvedBody(server: ServerConfig, was: [AlertRepeat.Active], footer: String? = nil) -> String {
        let since = was.map(\.since).min().map { LocalTime.stamp(Date(timeIntervalSince1970: $0)) } ?? "?"
        return """
        mt on \(ProcessInfo.processInfo.hostName): the \(was.count) alert(s) of server \(server.name) \
        (\(server.apiBase)) mailed since \(since) no longer occur; this run logged nothing critical.

        They were (as last mailed):
        \(was.map(\.text).joined())
        """ + (footer.map { "\n" + $0 + "\n" } ?? "")
    }

    /// The RFC 5322 message, CRLF line ends, UTF-8.
    public func message(subject: String, body: String, date: Date = Date()) -> [UInt8] {
        let fmt = DateFormatter()
        fmt.locale = Locale(identifier: "en_US_POSIX")
        fmt.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let host = ProcessInfo.processInfo.hostName
        let encodedSubject = subject.allSatisfy(\.isASCII) ? subject : "=?UTF-8?B?\(Base64.encode(Array(subject.utf8)))?="
        var text = """
        Date: \(fmt.string(from: date))
        From: \(config.from)
        To: \(config.to.joined(separator: ", "))
        Subject: \(encodedSubject)
        Message-ID: <\(UUID().uuidString)@\(host)>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit


        """
        text += body
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        return Array(lines.joined(separator: "\r\n").utf8) + [0x0D, 0x0A]
    }

    public func send(subject: String, body: String) throws {
        guard let h = curl_easy_init() else { throw MTError(.software, "libcurl could not be initialised") }
        defer { curl_easy_cleanup(h) }
        let payload = ReadBox(bytes: message(subject: subject, body: body))
        let unmanaged = Unmanaged.passRetained(payload)
        defer { unmanaged.release() }
        var rcpt: UnsafeMutablePointer<curl_slist>?
        for to in config.to { rcpt = curl_slist_append(rcpt, "<\(to)>") }
        defer { curl_slist_free_all(rcpt) }

        let host = URLComponents(string: config.smtpURL)?.host ?? ""
        mt_curl_setopt_string(h, CURLOPT_URL, config.smtpURL)
        mt_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        mt_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        mt_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT, 15)
        mt_curl_setopt_long(h, CURLOPT_TIMEOUT, 60)
        if config.smtpURL.hasPrefix("smtp://") {
            let level = HTTPClient.isLoopback(host: host) ? CURLUSESSL_TRY : CURLUSESSL_ALL
            mt_curl_setopt_long(h, CURLOPT_USE_SSL, Int(level.rawValue))
        }
        if let ca = config.caFile { mt_curl_setopt_string(h, CURLOPT_CAINFO, ca) }
        if let user = config.user {
            mt_curl_setopt_string(h, CURLOPT_USERNAME, user)
            mt_curl_setopt_string(h, CURLOPT_PASSWORD, config.password?.reveal ?? "")
        }
        mt_curl_setopt_string(h, CURLOPT_MAIL_FROM, "<\(config.from)>")
        mt_curl_setopt_slist(h, CURLOPT_MAIL_RCPT, rcpt)
        mt_curl_setopt_long(h, CURLOPT_UPLOAD, 1)
        mt_curl_setopt_pointer(h, CURLOPT_READDATA, unmanaged.toOpaque())
        mt_curl_setopt_read(h) { ptr, size, count, user in
            let box = Unmanaged<ReadBox>.fromOpaque(user!).takeUnretainedValue()
            let n = min(size * count, box.bytes.count - box.offset)
            guard n > 0, let ptr else { return 0 }
            box.bytes.withUnsafeBytes { src in
                UnsafeMutableRawPointer(ptr).copyMemory(from: src.baseAddress! + box.offset, byteCount: n)
            }
            box.offset += n
            return n
        }
        let error = CurlErrorBuffer()
        mt_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, error.pointer)
        let rc = withExtendedLifetime(error) {
            defer { mt_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, nil) }
            return curl_easy_perform(h)
        }
        guard rc == CURLE_OK else {
            let detail = error.text
            throw MTError(.unavailable, "sending alert mail via \(config.smtpURL) failed: \(detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail)")
        }
    }
}

final class ReadBox {
    let bytes: [UInt8]
    var offset = 0
    init(bytes: [UInt8]) { self.bytes = bytes }
}
