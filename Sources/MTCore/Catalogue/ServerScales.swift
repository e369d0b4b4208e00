/// One row of a server's own list of tables (`GET {api}/export`).
public struct RemoteScale: Sendable, Equatable {
    public var name: String
    public var size: Int?
    public var deleteable: Bool?

    public init(name: String, size: Int?, deleteable: Bool?) {
        self.name = name
        self.size = size
        self.deleteable = deleteable
    }
}

/// The server's list of scales, as the original's first request showed it. The body must be a JSON array of
/// objects with a string `name`; anything else (an HTML login page answered with 200, a proxy's error page) is
/// refused, never taken for data.
public enum ServerScales {
    public static func fetch(_ server: ServerConfig) throws -> [RemoteScale] {
        let client = try HTTPClient(options: HTTPOptions(server: server))
        let url = server.exportURL
        let r = try client.get(url)
        return try parse(status: r.status, contentType: r.contentType, location: r.header("location"), body: r.body,
                         url: url, server: server.name)
    }

    public static func parse(status: Int, contentType: String?, location: String?, body: [UInt8],
                             url: String, server: String) throws -> [RemoteScale] {
        switch status {
        case 200: break
        case 401, 403:
            throw MTError(.unavailable, "server \(server): GET \(url) answered \(status): the credentials were refused",
                          hint: "check USER and the password (PASS_FILE or \(ServerConfig.passwordVariable(for: server)))")
        case 300..<400:
            throw MTError(.unavailable, "server \(server): GET \(url) answered \(status), a redirect to \(location.map { Untrusted.text($0) } ?? "elsewhere") (a login page?)",
                          hint: "check USER and the password, and that SERVER is the API address")
        default:
            throw MTError(.unavailable, "server \(server): GET \(url) answered \(status)", hint: "check SERVER and try again later")
        }
        let notList = { (why: String) in
            MTError(.unavailable, "server \(server): GET \(url) answered 200 with \(why), not the list of scales",
                    hint: "an HTML login page usually means the credentials were refused; check USER, the password and SERVER")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(body) } catch {
            let type = contentType.map { " (\(Untrusted.text($0)))" } ?? ""
            throw notList("a body that is not JSON\(type)")
        }
        guard let rows = value.arrayValues else { throw notList("JSON that is not an array") }
        return try rows.enumerated().map { i, row in
            guard row.objectFields != nil, let name = row["name"]?.stringValue else {
                throw notList("an array whose item \(i) has no string \"name\"")
            }
            var deleteable: Bool?
            if case .bool(let b)? = row["deleteable"] { deleteable = b }
            return RemoteScale(name: name, size: row["size"]?.int64Value.map { Int($0) }, deleteable: deleteable)
        }
    }
}
