import Foundation

/// Read-only questions to a study server (DESIGN §1): which scales it has, and which entry ids it still holds.
/// Used by `mt benchmark --remote` and `mt verify --remote`; it never deletes.
public final class ServerInventory {
    public let server: ServerConfig
    private let client: HTTPClient

    public init(server: ServerConfig) throws {
        self.server = server
        client = try HTTPClient(options: HTTPOptions(server: server))
    }

    /// `GET {api}/export`, read as `mt scales` reads it. Rows with a scale name unsafe as a file name are left
    /// out and listed in `refused`.
    public func scales() throws -> (scales: [RemoteScale], refused: [String]) {
        let url = server.exportURL
        let r = try client.get(url)
        let rows = try ServerScales.parse(status: r.status, contentType: r.contentType, location: r.header("location"),
                                          body: r.body, url: url, server: server.name)
        return (rows.filter { SafeName.isValidScale($0.name) }, rows.map(\.name).filter { !SafeName.isValidScale($0) })
    }

    /// `GET {api}/export/{scale}`: the ids of the entries still on the server.
    public func entryIDs(scale: String) throws -> [Int64] {
        try SafeName.checkScale(scale, server: server.name)
        let url = server.exportURL + "/" + scale
        guard let entries = try getJSON(url).arrayValues else {
            throw unexpected(url, "a JSON value that is not an array of entries")
        }
        return entries.compactMap { $0["id"]?.int64Value }
    }

    private func getJSON(_ url: String) throws -> JSONValue {
        let r = try client.get(url)
        guard r.status == 200 else {
            let hint = r.status == 401 || r.status == 403
                ? "check USER and the password of server \(server.name)"
                : "check SERVER in \(server.configFile) and that the study server is up"
            throw MTError(.unavailable, "GET \(url) answered HTTP \(r.status)", hint: hint)
        }
        do { return try JSONParser.parse(r.body) } catch {
            // Older deployments answer a wrong password with an HTML login page and status 200.
            throw unexpected(url, "a body that is not JSON (\(r.contentType.map { Untrusted.text($0) } ?? "no content type"); a login page?)")
        }
    }

    private func unexpected(_ url: String, _ what: String) -> MTError {
        MTError(.unavailable, "GET \(url) answered \(what)",
                hint: "check SERVER and the credentials of server \(server.name); nothing was changed")
    }
}
