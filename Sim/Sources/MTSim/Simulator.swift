import Foundation
import MTCore
import NIOCore
import NIOHTTP1
import NIOPosix
#if TLS
import NIOSSL
#endif

/// Everything `mt-sim` is told on its command line.
public struct SimOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 0
    public var service = ServiceSettings()
    public var faults = FaultSettings()
    public var dataDir: String?
    public var generate = false
    public var participants = 20
    public var firstID: Int64 = 1
    public var quirks = EntryStore.Quirks()
    public var publicKeyPath: String?
    public var cataloguePath: String?
    /// `--study NAME`: generate that study's tables, as its catalogue definitions give them.
    public var study: String?
    /// Scales served as non-deleteable on top of `deleteable.json`.
    public var keep: Set<String> = []
    public var ledgerPath: String?
    public var urlFile: String?
    public var arrivals = 0
    public var arrivalInterval = 60.0
    /// Serve HTTPS with a self-signed certificate written to DIR/tls-cert.pem.
    public var tls = false

    public init() {}
}

/// A running simulator: the NIO server, its service, and where its files are.
public final class Simulator: Sendable {
    public let service: SimService
    /// The API base, e.g. `http://127.0.0.1:40123/api`.
    public let url: String
    public let dataDir: String
    public let ledgerPath: String
    /// Written when the simulator made the key pair itself.
    public let privateKeyPath: String?
    /// The self-signed certificate of `--tls` (a CA file for clients).
    public let certificatePath: String?
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// Installed before the URL file is written: a test that signals as soon as it sees the URL must stop us.
    /// (Dispatch sources are thread-safe but not marked Sendable.)
    nonisolated(unsafe) private let signalSources: [any DispatchSourceSignal]

    private init(service: SimService, url: String, dataDir: String, ledgerPath: String, privateKeyPath: String?,
                 certificatePath: String?, group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.service = service
        self.url = url
        self.dataDir = dataDir
        self.ledgerPath = ledgerPath
        self.privateKeyPath = privateKeyPath
        self.certificatePath = certificatePath
        self.group = group
        self.channel = channel
        let queue = DispatchQueue(label: "mt-sim.signals")
        signalSources = [SIGINT, SIGTERM].map { sig -> any DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            s.setEventHandler { [channel] in channel.close(promise: nil) }
            s.resume()
            return s
        }
    }

    /// Whether this build serves `--tls`: only with the package trait TLS, which compiles swift-nio-ssl's BoringSSL.
    #if TLS
    public static let servesTLS = true
    #else
    public static let servesTLS = false
    #endif

    /// Prepares the study (loads or generates it), binds, writes the URL file; `note` receives lines for people.
    public static func start(_ o: SimOptions, note: (String) -> Void) throws -> Simulator {
        // Before anything is generated or written: a refused start leaves nothing behind.
        if o.tls && !servesTLS {
            throw MTError(.usage, "--tls: this mt-sim was built without TLS (the package trait TLS; make demo and make perf build it so)",
                          hint: "serve plain HTTP without --tls, or rebuild with TLS: `swift build --package-path Sim --traits TLS`, or `make sim` for release")
        }
        var dir: String
        var scales: [SimScale]
        var privateKeyPath: String?
        var generator: StudyGenerator?
        if o.generate {
            dir = try o.dataDir ?? makeTempDir()
            if try FileSystem.list(dir).contains(where: { $0.hasSuffix(".json") }) {
                throw MTError(.cantCreate, "\(dir) already holds a study (*.json files); --generate will not overwrite it",
                              hint: "serve it again without --generate, or give an empty --data folder")
            }
            try FileSystem.makeDirectories(dir)
            let catalogue = try loadCatalogue(o)
            let key: RSAPublicKey
            if let p = o.publicKeyPath {
                key = try RSAPublicKey.parse(pem: FileSystem.read(p), source: p)
            } else {
                let pair = try RSAPrivateKey.generate(bits: 2048)
                privateKeyPath = dir + "/private.pem"
                try FileSystem.writeAtomically(pair.pem(pkcs1: true), to: privateKeyPath!, mode: 0o600)
                try FileSystem.writeAtomically(pair.publicKeyPEM(), to: dir + "/public.pem", mode: 0o644)
                key = pair.publicKey
            }
            let g = StudyGenerator(catalogue: catalogue, publicKey: key, participants: o.participants, seed: o.service.seed,
                                   firstID: o.firstID)
            scales = try g.generate()
            try StudyTables.writeTestAccounts(try StudyTables(generator: g).add(to: &scales), to: dir)
            try StudyFiles.write(scales, to: dir)
            for k in scales.indices where o.keep.contains(scales[k].name) { scales[k].deleteable = false }
            generator = g
        } else {
            guard let d = o.dataDir else {
                throw MTError(.usage, "nothing to serve: give --data DIR (a folder of <Scale>.json files) or --generate",
                              hint: "try: mt-sim --generate")
            }
            dir = d
            scales = try StudyFiles.load(directory: dir, keep: o.keep)
            let keyPath = o.publicKeyPath ?? (FileSystem.exists(dir + "/public.pem") ? dir + "/public.pem" : nil)
            if let keyPath {
                generator = StudyGenerator(catalogue: try loadCatalogue(o),
                                           publicKey: try RSAPublicKey.parse(pem: FileSystem.read(keyPath), source: keyPath),
                                           participants: o.participants, seed: o.service.seed, firstID: o.firstID)
            } else if o.arrivals > 0 {
                throw MTError(.usage, "--arrivals needs a public key to encrypt participant links",
                              hint: "give --public-key PEM, or put public.pem in \(dir)")
            }
            if FileSystem.exists(dir + "/private.pem") { privateKeyPath = dir + "/private.pem" }
        }
        let ledger = o.ledgerPath ?? dir + "/deletions.tsv"
        var quirks = o.quirks
        quirks.seed = o.service.seed
        let store = EntryStore(scales: scales, ledgerPath: ledger, firstID: o.firstID, quirks: quirks)
        let arrivals = generator.map { ArrivalGenerator(generator: $0, store: store) }
        var settings = o.service
        settings.studyDir = dir
        settings.keep = o.keep
        var certificatePath: String?
        #if TLS
        var tlsContext: NIOSSLContext?
        if o.tls {
            settings.scheme = "https"
            let identity = try SelfSignedCertificate.make()
            certificatePath = dir + "/tls-cert.pem"
            try FileSystem.writeAtomically(identity.certificatePEM, to: certificatePath!, mode: 0o644)
            do {
                let config = TLSConfiguration.makeServerConfiguration(
                    certificateChain: [.certificate(try NIOSSLCertificate(bytes: identity.certificatePEM, format: .pem))],
                    privateKey: .privateKey(try NIOSSLPrivateKey(bytes: identity.privateKeyPEM, format: .pem)))
                tlsContext = try NIOSSLContext(configuration: config)
            } catch {
                throw MTError(.software, "cannot set up TLS: \(error)")
            }
        }
        #endif
        let service = SimService(settings: settings, store: store, faults: o.faults, arrivals: arrivals)
        #if TLS
        let tls = tlsContext // a constant for the channel initialiser, which runs on event-loop threads
        #endif

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(2, System.coreCount))
        let channel: any Channel
        do {
            channel = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        #if TLS
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                        }
                        #endif
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(SimHTTPHandler(service: service))
                    }
                }
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: o.host, port: o.port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw MTError(.unavailable, "cannot listen on \(o.host):\(o.port): \(error)",
                          hint: "choose another --port, or 0 for any free port")
        }
        let port = channel.localAddress?.port ?? o.port
        let host = o.host.contains(":") ? "[\(o.host)]" : o.host
        let url = "\(settings.scheme)://\(host):\(port)\(o.service.prefix)"
        if o.arrivals > 0, let arrivals {
            let n = o.arrivals
            let every = TimeAmount.milliseconds(Int64(o.arrivalInterval * 1000))
            group.next().scheduleRepeatedTask(initialDelay: every, delay: every) { _ in _ = try? arrivals.arrive(n) }
        }
        let sim = Simulator(service: service, url: url, dataDir: dir, ledgerPath: ledger, privateKeyPath: privateKeyPath,
                            certificatePath: certificatePath, group: group, channel: channel)
        note("mt-sim: serving \(store.entryCount) entries in \(scales.count) scales from \(dir)")
        if let privateKeyPath { note("mt-sim: private key \(privateKeyPath)") }
        if let certificatePath { note("mt-sim: TLS certificate \(certificatePath) (for --cacert or CA_FILE)") }
        note("mt-sim: deletion ledger \(ledger); user \(o.service.user); admin endpoints under /__sim/")
        if let f = o.urlFile {
            try FileSystem.writeAtomically(Array((url + "\n").utf8), to: f, mode: 0o644)
        }
        return sim
    }

    static func loadCatalogue(_ o: SimOptions) throws -> ScaleCatalogue {
        try ScaleCatalogue.load(path: o.cataloguePath ?? ScaleCatalogue.locate(environment: ProcessInfo.processInfo.environment))
            .resolved(for: o.study.map(Study.init))
    }

    static func makeTempDir() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/mt-sim-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else { throw MTError(.cantCreate, "cannot create a folder in \(NSTemporaryDirectory())") }
        return String(cString: p)
    }

    /// Serves until SIGINT or SIGTERM, then closes every connection and returns.
    public func runUntilSignal() {
        try? channel.closeFuture.wait()
        signalSources.forEach { $0.cancel() }
        try? group.syncShutdownGracefully()
    }
}
