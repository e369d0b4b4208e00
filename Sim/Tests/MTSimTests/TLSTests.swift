import Foundation
import MTCore
import MTTestSupport
import Testing

@Suite("mt-sim --tls")
struct TLSTests {
    @Test func servesHTTPSTrustedThroughTheWrittenCertificate() throws {
        let sim = try SimServer(["--generate", "--participants", "2", "--tls"])
        #expect(sim.url.hasPrefix("https://127.0.0.1:"))
        let ca = try #require(sim.caFile)
        #expect(try TestKeys.openssl(["x509", "-in", ca, "-noout", "-subject"]).stdout.contains("mt-sim"))
        #expect(try sim.scales().count > 20)
        let oa = try #require(sim.entries("OA").first)
        #expect(try sim.client().delete(sim.url + "/export/OA/\(oa.id)").status == 200)
        #expect(try sim.counter("deletes") == 1)
        // Without the certificate the client refuses the server.
        let untrusted = try HTTPClient(options: HTTPOptions(user: sim.user, password: Secret(sim.password)))
        do {
            _ = try untrusted.get(sim.url + "/export")
            Issue.record("an untrusted certificate was accepted")
        } catch let e as HTTPTransportError {
            #expect(e.isTLS)
        }
    }
}

@Suite("SimServer launcher")
struct LauncherTests {
    @Test func writesAConfigThatMTReadsAndThatReachesTheServer() throws {
        let sim = try SimServer(["--generate", "--participants", "2", "--tls"])
        let dir = try TempDir("sim-config")
        defer { dir.remove() }
        let path = try sim.writeConfig(in: dir.path, dataPath: dir.file("data"), extra: ["DELETE_MODE: true"])
        let server = try MTConfig.load(path: path, environment: [:], allowReadableSecrets: false).server(named: "sim")
        #expect(server.apiBase == sim.url)
        #expect(server.deleteMode && server.ready)
        #expect(server.privateFiles == [sim.privateKeyPath])
        #expect(server.caFile == sim.caFile)
        let r = try HTTPClient(options: HTTPOptions(server: server)).get(server.apiBase + "/export")
        #expect(r.status == 200)
    }
}
