import Foundation

/// Where the commented sample configuration is, for hints: where this binary's installation put it
/// (`PREFIX/share/doc/mt/examples/server.yaml.sample`, `/usr/share/doc/...` for the Debian package), else the
/// source tree's `config/server.yaml.sample` when the binary runs from a build folder inside one, else the
/// package's place, which is where a reader of the hint most likely finds it.
public enum ConfigSample {
    public static let packaged = "/usr/share/doc/mt/examples/server.yaml.sample"

    static var path: String {
        locate(executable: try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    }

    public static func locate(executable: String?) -> String {
        guard let executable else { return packaged }
        var dir = (executable as NSString).deletingLastPathComponent
        let installed = (dir as NSString).deletingLastPathComponent + "/share/doc/mt/examples/server.yaml.sample"
        if FileSystem.exists(installed) { return installed }
        while dir.count > 1 {
            if FileSystem.exists(dir + "/config/server.yaml.sample") { return dir + "/config/server.yaml.sample" }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return packaged
    }

    /// "compare with …": the hint of a config file whose shape is wrong.
    static var compareHint: String { "compare with \(path) (every key: man 5 mt-config)" }
}
