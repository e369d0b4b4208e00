import Foundation

/// `PATH/mt-data.json`: whose data directory this is. Written durably by the first export into `PATH`, and held
/// against the configuration by every later one: a run from another server block or another study server is
/// refused (78), so two configurations naming one folder never mix two servers' entries (ids would collide and
/// one server's entries be judged by the other's written set). Also the data directory's format, so that a
/// newer layout is never written on by an older mt.
///
/// `{"format": "mt-data/1", "server": "<block name>", "url": "<API base, no userinfo>", "created": "<ISO 8601>"}`
public struct DataIdentity: Sendable, Equatable {
    public static let format = FileFormat("mt-data", 1)
    public static let fileName = "mt-data.json"

    public var server: String
    public var url: String
    public var created: String

    public static func path(layout: DataLayout) -> String { layout.root + "/" + fileName }

    /// The identity a server block gives its data directory: its name and its API base, without userinfo (a
    /// password never reaches this file) and with the host in lower case, since neither changes the server.
    public init(server: ServerConfig, now: Date = Date()) {
        self.server = server.name
        url = Self.canonical(server.apiBase)
        created = ISO8601DateFormatter().string(from: now)
    }

    init(server: String, url: String, created: String) {
        self.server = server
        self.url = url
        self.created = created
    }

    static func canonical(_ url: String) -> String {
        guard var c = URLComponents(string: url) else { return url }
        c.user = nil
        c.password = nil
        c.host = c.host?.lowercased()
        c.scheme = c.scheme?.lowercased()
        var path = c.path
        while path.hasSuffix("/") { path.removeLast() }
        c.path = path
        return c.string ?? url
    }

    /// The directory's identity; nil for a directory no export has claimed yet.
    public static func load(layout: DataLayout) throws -> DataIdentity? {
        let p = path(layout: layout)
        guard FileSystem.exists(p) else { return nil }
        let v: JSONValue
        do { v = try JSONParser.parse(FileSystem.read(p)) } catch let e as MTError where e.exitCode != .dataError {
            throw e
        } catch {
            throw MTError(.config, "\(p) is not valid JSON (\(error))",
                          hint: "it names the server block and URL this data directory belongs to; restore it, or write it again as mt-export(1), FILES, shows")
        }
        try format.check(v["format"], path: p)
        guard let server = v["server"]?.stringValue, let url = v["url"]?.stringValue else {
            throw MTError(.config, "\(p) does not name a server and a url",
                          hint: "restore it, or write it again as mt-export(1), FILES, shows")
        }
        return DataIdentity(server: server, url: url, created: v["created"]?.stringValue ?? "")
    }

    /// Claims an unclaimed directory for `server` (with `write`), durably, before anything is written in it;
    /// refuses one that belongs to another server block or URL, naming both.
    public static func claim(server: ServerConfig, layout: DataLayout, write: Bool = true) throws {
        let mine = DataIdentity(server: server)
        guard let found = try load(layout: layout) else {
            guard write else { return }
            try FileSystem.makeDirectories(layout.root)
            try FileSystem.writeAtomically(JSONWriter.bytes(mine.json, pretty: true) + [0x0A], to: path(layout: layout), mode: 0o600)
            return
        }
        guard found.server == mine.server && found.url == mine.url else {
            throw MTError(.config, "data directory \(layout.root) belongs to server block '\(Untrusted.text(found.server))' at \(Untrusted.text(found.url)) (\(path(layout: layout))), not to '\(server.name)' at \(mine.url)",
                          hint: "give each server its own PATH; if this is the same study server under a new block name or address, put the new name and url in \(path(layout: layout))")
        }
    }

    var json: JSONValue {
        .object([("format", .string(Self.format.description)), ("server", .string(server)), ("url", .string(url)),
                 ("created", .string(created))])
    }
}
