import Foundation
import MTCore
import MTSim
import MTTestSupport
import Testing

@Suite("mt-sim speaks the MindTrails export contract")
struct ContractTests {
    @Test func listsEveryScaleWithItsSizeAndFetchAgrees() throws {
        let sim = try SimServer(["--generate", "--participants", "4", "--seed", "3"])
        let scales = try sim.scales()
        #expect(scales.count > 20)
        #expect(scales["Demographic"]?.deleteable == false)
        #expect(scales["OA"]?.deleteable == true)
        for (name, info) in scales {
            #expect(try sim.entries(name).count == info.size, "size of \(name)")
        }
        let r = try sim.client().get(sim.url + "/export")
        #expect(r.contentType?.hasPrefix("application/json") == true)
    }

    @Test func deleteAnswers200ThenTheRowIsGoneAndInTheLedger() throws {
        let sim = try SimServer(["--generate", "--participants", "4"])
        let client = try sim.client()
        let (name, info) = try #require(sim.scales().first { $0.value.deleteable && $0.value.size > 1 })
        let victim = try sim.entries(name)[0].id
        let r = try client.delete(sim.url + "/export/\(name)/\(victim)")
        #expect(r.status == 200)
        #expect(r.body.isEmpty)
        #expect(try sim.scales()[name]?.size == info.size - 1)
        #expect(try !sim.entries(name).contains { $0.id == victim })
        let ledger = try sim.ledger()
        #expect(ledger.count == 1)
        #expect(ledger.first?.scale == name && ledger.first?.id == victim)
        #expect(try client.delete(sim.url + "/export/\(name)/\(victim)").status == 404)
        #expect(try sim.counter("deletes") == 1)
    }

    @Test func unknownNamesAndIdsAre404AndKeptScalesAre403() throws {
        let sim = try SimServer(["--generate", "--participants", "4", "--keep", "OA"])
        let client = try sim.client()
        #expect(try client.get(sim.url + "/export/NoSuchScale").status == 404)
        #expect(try client.delete(sim.url + "/export/NoSuchScale/1").status == 404)
        #expect(try client.delete(sim.url + "/export/CC/999999999").status == 404)
        #expect(try client.delete(sim.url + "/export/CC/not-a-number").status == 404)
        let demo = try #require(sim.entries("Demographic").first)
        #expect(try client.delete(sim.url + "/export/Demographic/\(demo.id)").status == 403)
        #expect(try sim.scales()["OA"]?.deleteable == false)
        let oa = try #require(sim.entries("OA").first)
        #expect(try client.delete(sim.url + "/export/OA/\(oa.id)").status == 403)
        #expect(try sim.entries("Demographic").contains { $0.id == demo.id })
        #expect(try sim.ledger().isEmpty)
        #expect(try client.get(sim.url + "/elsewhere").status == 404)
        #expect(try client.request("POST", sim.url + "/export").status == 405)
    }

    @Test func basicAuthIsRequired() throws {
        let sim = try SimServer(["--generate", "--participants", "2"])
        let anonymous = try sim.client(authenticated: false)
        for url in [sim.url + "/export", sim.url + "/export/OA"] {
            let r = try anonymous.get(url)
            #expect(r.status == 401)
            #expect(r.header("www-authenticate")?.hasPrefix("Basic") == true)
        }
        #expect(try anonymous.delete(sim.url + "/export/OA/1").status == 401)
        let wrong = try HTTPClient(options: HTTPOptions(user: sim.user, password: Secret("wrong")))
        #expect(try wrong.get(sim.url + "/export").status == 401)
        #expect(try anonymous.get(sim.root + "/__sim/stats").status == 401)
        #expect(try sim.client().get(sim.url + "/export").status == 200)
    }

    @Test func afterReturnsOnlyNewerEntries() throws {
        let sim = try SimServer(["--generate", "--participants", "6"])
        let all = try sim.entries("CC")
        let times = all.compactMap { $0["date"]?.stringValue.flatMap(javaDate) }
        #expect(times.count == all.count)
        let cut = times.sorted()[times.count / 2]
        let newer = try sim.entries("CC", query: "?after=" + afterText(cut))
        #expect(newer.count == times.filter { $0 > cut }.count)
        #expect(newer.count > 0 && newer.count < all.count)
        #expect(newer.allSatisfy { e in javaDate(e["date"]!.stringValue!)! > cut })
        #expect(try sim.entries("CC", query: "?after=2000-01-01-00-00-00").count == all.count)
        #expect(try sim.entries("CC", query: "?after=2100-01-01-00-00-00").isEmpty)
        #expect(try sim.client().get(sim.url + "/export/CC?after=yesterday").status == 400)
    }

    @Test func prefixIsConfigurable() throws {
        let sim = try SimServer(["--generate", "--participants", "2", "--prefix", "/study/api"])
        #expect(sim.url.hasSuffix("/study/api"))
        #expect(try sim.scales().count > 20)
        #expect(try sim.client().get(sim.root + "/api/export").status == 404)
    }

    @Test func oldDeploymentsRedirectToAnHTMLLoginPage() throws {
        let sim = try SimServer(["--generate", "--participants", "2", "--login-redirect", "unauthenticated"])
        let r = try sim.client(authenticated: false).get(sim.url + "/export")
        #expect(r.status == 302)
        let location = try #require(r.header("location"))
        #expect(location.hasSuffix("/login"))
        let page = try sim.client(authenticated: false).get(sim.root + "/login")
        #expect(page.status == 200)
        #expect(page.contentType?.hasPrefix("text/html") == true)
        #expect(String(decoding: page.body, as: UTF8.self).hasPrefix("<!DOCTYPE html>"))
        #expect(try sim.client().get(sim.url + "/export").status == 200)

        let all = try SimServer(["--generate", "--participants", "2", "--login-redirect", "all"])
        #expect(try all.client().get(all.url + "/export").status == 302)
        #expect(try all.client().delete(all.url + "/export/OA/1").status == 302)
        #expect(try all.counter("requests", "list") == 1)
    }

    @Test func concurrentDeletesOfOneIdSucceedExactlyOnce() throws {
        let sim = try SimServer(["--generate", "--participants", "3"])
        let victim = try #require(sim.entries("BBSIQ").first).id
        let url = sim.url + "/export/BBSIQ/\(victim)"
        let statuses = StatusBox()
        DispatchQueue.concurrentPerform(iterations: 12) { _ in
            let code = (try? sim.client().delete(url).status) ?? -1
            statuses.append(code)
        }
        let all = statuses.values
        #expect(all.count == 12)
        #expect(all.filter { $0 == 200 }.count == 1)
        #expect(all.filter { $0 == 404 }.count == 11)
        #expect(try sim.ledger().count == 1)
    }

    @Test func stopsCleanlyOnSIGINTAndSIGTERM() throws {
        let a = try SimServer(["--generate", "--participants", "1"])
        #expect(a.stop(signal: SIGINT) == 0)
        let b = try SimServer(["--generate", "--participants", "1", "--hang", "list"])
        // A hanging connection must not keep the server from stopping, and the client then sees it closed.
        let done = DispatchGroup()
        let outcome = StatusBox()
        done.enter()
        DispatchQueue.global().async {
            do { outcome.append(try b.client(timeout: 60).get(b.url + "/export").status) } catch { outcome.append(-1) }
            done.leave()
        }
        let deadline = Date().addingTimeInterval(30)
        while try b.counter("faults", "hang") == 0 && Date() < deadline { usleep(20_000) }
        #expect(try b.counter("faults", "hang") == 1)
        #expect(b.stop() == 0)
        done.wait()
        #expect(outcome.values == [-1])
    }

    func javaDate(_ s: String) -> Int64? { JavaDate.parse(s) }
    func afterText(_ t: Int64) -> String { JavaDate.afterText(t) }
}

final class StatusBox: @unchecked Sendable {
    private let lock = NSLock()
    private var codes: [Int] = []
    func append(_ c: Int) { lock.lock(); codes.append(c); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return codes }
}

@Suite("mt-sim credentials and ledger")
struct CredentialTests {
    @Test func passwordFromAFileWinsOverTheEnvironment() throws {
        let dir = try TempDir("sim-pass")
        defer { dir.remove() }
        let file = try dir.write("pass", "from-the-file\n")
        let sim = try SimServer(["--generate", "--participants", "1", "--pass-file", file, "--user", "lab@example.edu"],
                                password: "from-the-file")
        #expect(try sim.client().get(sim.url + "/export").status == 200)
        let env = try HTTPClient(options: HTTPOptions(user: "lab@example.edu", password: Secret("sim-test-pass")))
        #expect(try env.get(sim.url + "/export").status == 401)
        #expect(!sim.log().contains("from-the-file"))
    }

    @Test func aDeleteWhoseLedgerLineCannotBeWrittenDeletesNothing() throws {
        let sim = try SimServer(["--generate", "--participants", "2", "--ledger", "/nonexistent-mt-sim/ledger.tsv"])
        let victim = try #require(sim.entries("OA").first).id
        #expect(try sim.client().delete(sim.url + "/export/OA/\(victim)").status == 500)
        #expect(try sim.entries("OA").contains { $0.id == victim })
        #expect(try sim.counter("deletes") == 0)
    }
}
