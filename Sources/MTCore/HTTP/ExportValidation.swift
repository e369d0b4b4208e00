import Foundation

/// The checks every server answer passes before `mt export` trusts it (see ARCHITECTURE.md, safety invariants). A failure is an
/// `.unavailable` error naming the scale and what was wrong: the scale stops before any delete.
public enum ExportValidation {
    /// Status 200 and a body that is not an HTML page (an old deployment's login page answers 200).
    static func checkResponse(_ response: HTTPResponse, what: String) throws {
        try checkStatus(response.status, what: what)
        try checkNotHTML(contentType: response.contentType, body: response.body.prefix(64), what: what)
    }

    /// The status of an answer that should hold data: 200, or an error saying what the status means.
    public static func checkStatus(_ status: Int, what: String) throws {
        guard status == 200 else {
            let hint: String? = switch status {
            case 401: "the server refused USER/PASS; check the password"
            case 404: "the server does not know this address; check SERVER"
            case 500...599: "the server failed; the next run will try again"
            default: nil
            }
            throw MTError(.unavailable, "\(what): the server answered HTTP \(status) instead of 200", hint: hint)
        }
    }

    /// An HTML page instead of JSON, told by its content type or by its first byte that is not white space
    /// (`start`: the first bytes of the body, all the check needs).
    public static func checkNotHTML<C: Collection>(contentType: String?, body start: C, what: String) throws where C.Element == UInt8 {
        let type = contentType?.lowercased() ?? ""
        let first = start.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        if type.contains("html") || first == UInt8(ascii: "<") {
            throw MTError(.unavailable, "\(what): the server sent an HTML page (content type \(type.isEmpty ? "none" : Untrusted.text(type))), not JSON",
                          hint: "usually a login page: the credentials were refused or SERVER points at the web site, not the API")
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
}
