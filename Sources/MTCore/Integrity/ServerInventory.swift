import Foundation

/// Read-only questions to a study server: which scales it has, and which entry ids it still holds.
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

    /// `GET {api}/export/{scale}`: the ids of the entries still on the server, read by export's strict reader
    /// (objects with whole-number ids, none twice) as the answer streams in: an entry verify could not identify is
    /// an error, not skipped.
    public func entryIDs(scale: String) throws -> [Int64] {
        try SafeName.checkScale(scale, server: server.name)
        let url = server.exportURL + "/" + scale
        return try ExportValidation.scaleAnswer(scale: scale) { head, body in
            _ = try client.stream(url, head: head, body: body)
        }.ids
    }
}
