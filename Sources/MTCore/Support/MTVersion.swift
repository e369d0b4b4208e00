/// mt's version: `mt --version` prints it, and `mt release` records it in a package's manifest.
public enum MTVersion {
    public static let current = "0.1.0"
}
