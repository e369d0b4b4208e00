import Foundation
import MTCore

/// A fresh folder under the system temp directory, removed by `remove()`.
public struct TempDir: Sendable {
    public let path: String

    public init(_ label: String = "mt-test") throws {
        let tmp = (NSTemporaryDirectory() as NSString).standardizingPath
        var template = Array((tmp + "/\(label)-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else { throw MTError(.cantCreate, "mkdtemp failed") }
        path = String(cString: p)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func write(_ name: String, _ text: String, mode: mode_t = 0o600) throws -> String {
        let p = file(name)
        try FileSystem.makeDirectories((p as NSString).deletingLastPathComponent)
        try FileSystem.writeAtomically(Array(text.utf8), to: p, mode: mode)
        chmod(p, mode)
        return p
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Where the package's executables were built: next to the test bundle (or `$MT_BIN_DIR`).
public enum Products {
    /// The folder of the running test bundle.
    static var bundleDirectory: String {
        var dir = (CommandLine.arguments[0] as NSString).deletingLastPathComponent
        if dir.hasSuffix(".xctest/Contents/MacOS") { dir = ((dir as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent }
        return dir
    }

    public static var directory: String {
        if let d = ProcessInfo.processInfo.environment["MT_BIN_DIR"], !d.isEmpty { return d }
        var dir = bundleDirectory
        while !FileManager.default.isExecutableFile(atPath: dir + "/mt") && dir.count > 1 {
            let parent = (dir as NSString).deletingLastPathComponent
            if FileManager.default.isExecutableFile(atPath: parent + "/mt") { return parent }
            if parent == dir { break }
            dir = parent
            break
        }
        return dir
    }

    public static var mt: String { directory + "/mt" }
    /// mt-sim lives in its own package (Sim/) so that building mt never compiles SwiftNIO: `$MT_SIM_BIN`, else next
    /// to the test bundle when that is Sim's own (MTSimTests), else Sim's build of the same configuration. Never an
    /// mt-sim in the root's build folder: one left there by a checkout from before the move would be stale.
    public static var mtSim: String {
        if let p = ProcessInfo.processInfo.environment["MT_SIM_BIN"], !p.isEmpty { return p }
        // Sim's own tests: mt-sim is beside their bundle (Sim's build never makes an `mt` to search for).
        if bundleDirectory.hasPrefix(packageRoot + "/Sim/") { return bundleDirectory + "/mt-sim" }
        return packageRoot + "/Sim/.build/" + (directory as NSString).lastPathComponent + "/mt-sim"
    }

    /// The package root (for config/, completions/, Tests/Support scripts).
    public static var packageRoot: String {
        var dir = (#filePath as NSString).deletingLastPathComponent
        while !FileManager.default.fileExists(atPath: dir + "/Package.swift") && dir.count > 1 {
            dir = (dir as NSString).deletingLastPathComponent
        }
        return dir
    }
}

/// The result of running a program to completion.
public struct RunResult: Sendable {
    public var code: Int32
    public var stdout: String
    public var stderr: String
    public var stdoutBytes: [UInt8]
}

/// Runs programs with arguments in argv (never through a shell), capturing output.
public enum Run {
    @discardableResult
    public static func program(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                               stdin: [UInt8]? = nil, cwd: String? = nil, inheritEnvironment: Bool = true) throws -> RunResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        var env = inheritEnvironment ? ProcessInfo.processInfo.environment : [:]
        // Tests must not pick up a developer's own configuration.
        env["MT_CONFIG"] = nil
        env["XDG_CONFIG_HOME"] = "/nonexistent-mt-test"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        p.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try p.run()
        if let stdin {
            try input.fileHandleForWriting.write(contentsOf: Data(stdin))
            try input.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        let errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return RunResult(code: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: errBox.data, as: UTF8.self), stdoutBytes: Array(o))
    }

    /// Runs the built `mt`.
    @discardableResult
    public static func mt(_ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil,
                          cwd: String? = nil) throws -> RunResult {
        try program(Products.mt, arguments, environment: environment, stdin: stdin, cwd: cwd)
    }
}

final class DataBox: @unchecked Sendable { var data = Data() }

/// Real RSA keys made with the openssl command line, as a lab would make them.
public enum TestKeys {
    /// Generates a private key (PKCS#1 PEM, mode 0600) and its public key in `dir`; returns both paths.
    public static func generate(in dir: String, name: String = "key", bits: Int = 2048) throws -> (privateKey: String, publicKey: String) {
        let priv = dir + "/\(name).pem", pub = dir + "/\(name).pub.pem"
        let key = try RSAPrivateKey.generate(bits: bits)
        try FileSystem.writeAtomically(key.pem(pkcs1: true), to: priv, mode: 0o600)
        try FileSystem.writeAtomically(key.publicKeyPEM(), to: pub, mode: 0o644)
        return (priv, pub)
    }

    /// Runs `openssl` with arguments (for formats a lab's own tools would produce).
    @discardableResult
    public static func openssl(_ args: [String]) throws -> RunResult {
        let r = try Run.program("/usr/bin/openssl", args)
        guard r.code == 0 else { throw MTError(.software, "openssl \(args.joined(separator: " ")) failed: \(r.stderr)") }
        return r
    }
}

/// Waits for a file to appear (a server writing its URL or port), up to `timeout` seconds.
public func waitForFile(_ path: String, timeout: Double = 20) throws -> String {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if let s = try? String(contentsOfFile: path, encoding: .utf8), s.hasSuffix("\n") {
            return s.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        usleep(20_000)
    }
    throw MTError(.software, "timed out waiting for \(path)")
}
