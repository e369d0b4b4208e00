import CBuildInfo
import Foundation

/// mt's version, as VERSION (its one owner) says at build time: `mt --version` prints it, and `mt release`
/// records it in a package's manifest.
public enum MTVersion {
    public static var current: String {
        String(cString: mt_build_version()).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
