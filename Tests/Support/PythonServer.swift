import Foundation
import MTCore

/// A helper server written in Python (Tests/Support/*.py) on a loopback port, for the life of one test.
public final class PythonServer: @unchecked Sendable {
    public let port: Int
    private let process: ChildProcess
    private let dir: TempDir

    public init(script: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        dir = try TempDir("mt-pyserver")
        let portFile = dir.path + "/port"
        process = try ChildProcess("/usr/bin/env", ["python3", Products.packageRoot + "/Tests/Support/" + script] + arguments + [portFile],
                               environment: environment)
        port = Int(try waitForFile(portFile))!
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public func stop() {
        process.stop()
        dir.remove()
    }

    deinit { stop() }
}
