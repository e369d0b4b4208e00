import Foundation
import MTCore

/// The loopback SMTP server of `smtp_sink.py`, started for one test and stopped by `stop()`.
public final class SMTPSink: @unchecked Sendable {
    public let port: Int
    public let directory: String
    private let process: ChildProcess

    public init() throws {
        let dir = try TempDir("mt-smtp")
        directory = dir.path + "/mail"
        let portFile = dir.path + "/port"
        process = try ChildProcess("/usr/bin/env", ["python3", Products.packageRoot + "/Tests/Support/smtp_sink.py", directory, portFile])
        port = Int(try waitForFile(portFile))!
    }

    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// The messages received so far, oldest first.
    public func messages() -> [String] {
        let names = ((try? FileSystem.list(directory)) ?? []).filter { $0.hasSuffix(".eml") }
            .sorted { Int($0.dropFirst(4).dropLast(4))! < Int($1.dropFirst(4).dropLast(4))! }
        return names.compactMap { try? String(contentsOfFile: directory + "/" + $0, encoding: .utf8) }
    }

    public func stop() { process.stop() }

    deinit { stop() }
}
