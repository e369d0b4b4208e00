import Foundation

/// The checks every server answer passes before `mt export` trusts it (DESIGN §4.3). A failure is an
/// `.unavailable` error naming the scale and what was wrong: the scale stops before any delete.
public enum ExportValidation {
    /// A fetched scale: its entries, their ids in server order, and the exact bytes the server sent.
    public struct Entries: Sendable {
        public var scaleName: String
        public var entries: [JSONValue]
        public var ids: [Int64]
        public var body: [UInt8]
    }

    /// Status 200 and a body that is not an HTML page (an old deployment's login page answers 200).
    static func checkResponse(_ response: HTTPResponse, what: String) throws {
        guard response.status == 200 else {
            let hint: String? = switch response.status {
            case 401: "the server refused USER/PASS; check the password"
            case 404: "the server does not know this address; check SERVER"
            case 500...599: "the server failed; the next run will try again"
            default: nil
            }
            throw MTError(.unavailable, "\(what): the server answered HTTP \(response.status) instead of 200", hint: hint)
        }
        let type = response.contentType?.lowercased() ?? ""
        let start = response.body.prefix(64).drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if type.contains("html") || start.first == UInt8(ascii: "<") {
            throw MTError(.unavailable, "\(what): the server sent an HTML page (content type \(type.isEmpty ? "none" : Untrusted.text(type))), not JSON",
                          hint: "usually a login page: the credentials were refused or SERVER points at the web site, not the API")
        }
    }

    static func parse(_ response: HTTPResponse, what: String) throws -> JSONValue {
        do { return try JSONParser.parse(response.body) } catch {
            throw MTError(.unavailable, "\(what): the server's answer is not valid JSON (\(error))",
                          hint: "nothing was archived or deleted; the next run will try again")
        }
    }

    /// `GET {api}/export`: an array of `{"name": …, "size": …, "deleteable": …}`, read by the one reader that
    /// `mt scales`, `mt verify --remote` and `mt benchmark --remote` use too. A missing `deleteable` counts as
    /// false: a scale is deleted only when the server says it may be.
    public static func scaleList(_ response: HTTPResponse, server: String, url: String = "{api}/export") throws -> [ScaleInfo] {
        try checkResponse(response, what: "server \(server): list of scales")
        return try ServerScales.parse(status: response.status, contentType: response.contentType, location: response.header("location"),
                                      body: response.body, url: url, server: server)
            .map { ScaleInfo(name: $0.name, size: $0.size, deleteable: $0.deleteable ?? false) }
    }

    /// `GET {api}/export/{scale}`: an array of objects, each with a whole-number `id`, no id twice.
    public static func entries(_ response: HTTPResponse, scale: String) throws -> Entries {
        let what = "scale \(scale)"
        try checkResponse(response, what: what)
        guard let rows = try parse(response, what: what).arrayValues else {
            throw MTError(.unavailable, "\(what): expected a JSON array of entries, got another JSON value")
        }
        var ids: [Int64] = []
        ids.reserveCapacity(rows.count)
        var seen = Set<Int64>()
        for (i, row) in rows.enumerated() {
            guard row.objectFields != nil else {
                throw MTError(.unavailable, "\(what): entry \(i + 1) is not a JSON object")
            }
            guard let id = row["id"]?.int64Value else {
                throw MTError(.unavailable, "\(what): entry \(i + 1) has no whole-number \"id\"")
            }
            guard seen.insert(id).inserted else {
                throw MTError(.unavailable, "\(what): id \(id) appears twice in one answer")
            }
            ids.append(id)
        }
        return Entries(scaleName: scale, entries: rows, ids: ids, body: response.body)
    }
}
