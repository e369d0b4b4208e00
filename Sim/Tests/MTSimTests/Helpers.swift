import Foundation
import MTCore
import MTTestSupport

/// Small conveniences over the project's own HTTP client, for talking to a running `mt-sim`.
extension SimServer {
    func client(timeout: Int = 30, authenticated: Bool = true) throws -> HTTPClient {
        var o = authenticated ? httpOptions : HTTPOptions()
        o.timeout = timeout
        return try HTTPClient(options: o)
    }

    /// `GET {api}/export` as `[name: (size, deleteable)]`.
    func scales() throws -> [String: (size: Int, deleteable: Bool)] {
        let r = try client().get(url + "/export")
        guard r.status == 200, case .array(let rows) = try JSONParser.parse(r.body) else {
            throw MTError(.software, "list answered \(r.status)")
        }
        var out: [String: (Int, Bool)] = [:]
        for row in rows {
            guard let name = row["name"]?.stringValue, let size = row["size"]?.int64Value,
                  case .bool(let d)? = row["deleteable"] else { throw MTError(.software, "bad list row \(row)") }
            out[name] = (Int(size), d)
        }
        return out
    }

    /// The entries of one scale.
    func entries(_ scale: String, query: String = "") throws -> [JSONValue] {
        let r = try client().get(url + "/export/" + scale + query)
        guard r.status == 200, case .array(let items) = try JSONParser.parse(r.body) else {
            throw MTError(.software, "fetch \(scale) answered \(r.status)")
        }
        return items
    }
}

extension JSONValue {
    var id: Int64 { self["id"]?.int64Value ?? -1 }
}
