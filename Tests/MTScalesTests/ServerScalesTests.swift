import MTCore
import Testing

/// The list's validation on its own: every shape a server or a proxy might answer.
@Suite struct ServerScalesTests {
    func parse(_ status: Int, _ body: String, type: String = "application/json") throws -> [RemoteScale] {
        try ServerScales.parse(status: status, contentType: type, location: nil, body: Array(body.utf8),
                               url: "https://h/api/export", server: "lab")
    }

    @Test func theListIsRead() throws {
        let list = try parse(200, #"[{"name":"OA","size":12,"deleteable":true},{"name":"X"}]"#)
        #expect(list == [RemoteScale(name: "OA", size: 12, deleteable: true), RemoteScale(name: "X", size: nil, deleteable: nil)])
        #expect(try parse(200, "[]").isEmpty)
    }

    @Test func anythingElseIsRefusedWithExit69() {
        for (status, body) in [(200, "<html>login</html>"), (200, #"{"name":"OA"}"#), (200, #"[{"size":1}]"#),
                               (200, "[1,2]"), (302, ""), (401, "no"), (500, "boom")] {
            #expect(throws: MTError.self) { _ = try parse(status, body) }
            do { _ = try parse(status, body) } catch let e as MTError { #expect(e.exitCode == .unavailable) } catch {}
        }
    }
}
