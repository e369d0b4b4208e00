import Foundation

/// What `mt export` needs of this machine for one server before it fetches anything: checked by export itself
/// and by `mt config check` through these functions, so that the check never says ok where export then fails.
public enum ExportNeeds {
    /// PATH exists as a folder this user writes in, or can be created along its whole chain.
    public static func checkDataDirectory(_ server: ServerConfig) throws {
        do { try FileSystem.checkCanMakeDirectories(server.path) } catch let e as MTError {
            // In export's terms: a link or a file on the way is 73 (move it aside), anything else a data directory
            // that cannot be written, 74.
            throw MTError(FileSystem.isWrongType(e) ? .cantCreate : .ioError,
                          "server \(server.name): PATH \(server.path): \(e.message)", hint: e.hint)
        }
    }

    /// METRICS_FILE can be rewritten: its folder exists and is writable.
    public static func checkMetricsFile(_ path: String) throws {
        do { try FileSystem.checkCanWriteAtomically(path) } catch let e as MTError {
            throw MTError(.config, "METRICS_FILE \(path): \(e.message)",
                          hint: e.hint.map { "\($0) (node_exporter's textfile collector reads it)" })
        }
    }

    /// Every problem of the two checks, for `mt config check`.
    public static func problems(_ server: ServerConfig) -> [MTError] {
        var out: [MTError] = []
        do { try checkDataDirectory(server) } catch { out.append(error.asMTError) }
        if let metrics = server.metricsFile {
            do { try checkMetricsFile(metrics) } catch { out.append(error.asMTError) }
        }
        return out
    }
}
