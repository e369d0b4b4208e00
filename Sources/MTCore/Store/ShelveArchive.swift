/// The original tool's 2015 raw archives, `raw_data/<Scale>_<Mon_DD_YYYY>.raw.db`: Python 2 `shelve` files
/// (Berkeley DB 1.85 hash files holding pickles), kept before it moved to JSON. mt does not read them; it
/// recognises them so that recover and verify can say what they are and how to convert them (mt-recover(1)).
public struct ShelveArchive: Sendable, Equatable {
    public let scale: String
    public let fileName: String

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `QOL_Aug_25_2015.raw.db` → scale QOL; nil for any other name.
    public static func parse(_ name: String) -> ShelveArchive? {
        guard name.hasSuffix(".raw.db") else { return nil }
        let fields = name.dropLast(".raw.db".count).split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 4 else { return nil }
        let stamp = Array(fields.suffix(3))
        let scale = fields.dropLast(3).joined(separator: "_")
        guard SafeName.isValidScale(scale), months.contains(stamp[0]), (1...2).contains(stamp[1].count),
              stamp[2].count == 4, let day = Int(stamp[1]), (1...31).contains(day), Int(stamp[2]) != nil else { return nil }
        return ShelveArchive(scale: scale, fileName: name)
    }

    /// The shelve archives in `raw_data`, by name (none when the folder does not exist).
    public static func list(_ layout: DataLayout) -> [ShelveArchive] {
        guard FileSystem.isDirectory(layout.raw), let names = try? FileSystem.list(layout.raw) else { return [] }
        return names.compactMap(parse).sorted { $0.fileName < $1.fileName }
    }

    /// What it is and what to do, for messages.
    public var explanation: String {
        "\(fileName) is a 2015 raw archive of the original tool (scale \(scale)): a Python 2 shelve file (Berkeley DB 1.85 hash of pickles) that mt does not read"
    }

    public static let hint = "convert it to a JSON raw file with the few lines of Python 2 in mt-recover(1), SHELVE ARCHIVES (man mt-recover); keep the .raw.db as it is"
}
