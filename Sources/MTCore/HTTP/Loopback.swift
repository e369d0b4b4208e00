import Foundation

/// Whether a host is this machine, decided from addresses, never from how a name is spelled: plain http and
/// SMTP without TLS are allowed only there, because nothing then crosses a network.
public struct Loopback: Sendable, Equatable {
    public var isLoopback: Bool
    /// Why, for `mt config check`: "127.0.0.1 is an IPv4 loopback address (127.0.0.0/8)".
    public var reason: String

    /// 127.0.0.0/8 and ::1 as parsed by inet_pton; `localhost` only when every address the resolver
    /// (/etc/hosts, then DNS) gives for it is one of those. Any other name is not loopback, whatever its
    /// spelling (`127.example.org` is a remote host).
    public static func check(host: String) -> Loopback {
        var h = host.lowercased()
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if let address = Address(h) {
            return address.isLoopback
                ? Loopback(isLoopback: true, reason: "\(h) is a loopback address (\(address.family == AF_INET ? "127.0.0.0/8" : "::1"))")
                : Loopback(isLoopback: false, reason: "\(h) is an address outside 127.0.0.0/8 and ::1")
        }
        guard h == "localhost" || h == "localhost." else {
            return Loopback(isLoopback: false, reason: "\(h) is a host name; only localhost, 127.0.0.0/8 and ::1 count as loopback")
        }
        let addresses = resolve(h)
        guard !addresses.isEmpty else {
            return Loopback(isLoopback: false, reason: "\(h) does not resolve to any address on this machine")
        }
        let shown = addresses.map(\.text).joined(separator: ", ")
        if let remote = addresses.first(where: { !$0.isLoopback }) {
            return Loopback(isLoopback: false, reason: "\(h) resolves to \(remote.text), which is not a loopback address (all: \(shown))")
        }
        return Loopback(isLoopback: true, reason: "\(h) resolves only to loopback addresses (\(shown))")
    }

    /// An IPv4 or IPv6 address in binary form.
    struct Address {
        var family: Int32
        var bytes: [UInt8]

        init?(_ text: String) {
            var v4 = in_addr()
            var v6 = in6_addr()
            if inet_pton(AF_INET, text, &v4) == 1 {
                family = AF_INET
                bytes = withUnsafeBytes(of: &v4) { Array($0) }
            } else if inet_pton(AF_INET6, text, &v6) == 1 {
                family = AF_INET6
                bytes = withUnsafeBytes(of: &v6) { Array($0) }
            } else {
                return nil
            }
        }

        init(family: Int32, bytes: [UInt8]) {
            self.family = family
            self.bytes = bytes
        }

        var isLoopback: Bool {
            family == AF_INET ? bytes.first == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
        }

        var text: String {
            var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buf, socklen_t(buf.count)) } != nil
            return ok ? String(cString: buf) : "?"
        }
    }

    static func resolve(_ name: String) -> [Address] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var out: [Address] = []
        var p = list
        while let ai = p {
            if let sa = ai.pointee.ai_addr {
                switch ai.pointee.ai_family {
                case AF_INET:
                    var a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    out.append(Address(family: AF_INET, bytes: withUnsafeBytes(of: &a) { Array($0) }))
                case AF_INET6:
                    var a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    out.append(Address(family: AF_INET6, bytes: withUnsafeBytes(of: &a) { Array($0) }))
                default:
                    break
                }
            }
            p = ai.pointee.ai_next
        }
        return out
    }
}
