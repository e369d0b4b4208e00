import CSQLite
import Foundation
import MTCore

/// `mt stats dataset --format sqlite`: the study database, through the system's SQLite. One typed table per
/// scale (every kept answer, with the archive it came from and that archive's SHA-256, and whether the dataset
/// joined it), `participants` (arm, exclusion reason), `sessions` (each participant's sessions with their first
/// entry), and the long dataset as the view `dataset`. `PRAGMA user_version` is the schema's version. The file
/// is written under a temporary name beside OUT and renamed, so a reader never sees half of it.
enum StudyDatabase {
    static let schemaVersion = 1

    /// A SQLite connection; the handle is a C pointer used from one thread.
    final class Connection {
        let db: OpaquePointer
        let path: String

        init(path: String) throws {
            var handle: OpaquePointer?
            guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let handle else {
                let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
                sqlite3_close(handle)
                throw MTError(.cantCreate, "\(path): SQLite cannot create the database (\(message))", hint: "check the folder's permissions and free space")
            }
            db = handle
            self.path = path
        }

        deinit { sqlite3_close(db) }

        func execute(_ sql: String) throws {
            var error: UnsafeMutablePointer<CChar>?
            guard sqlite3_exec(db, sql, nil, nil, &error) == SQLITE_OK else {
                let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
                sqlite3_free(error)
                throw MTError(.ioError, "\(path): SQLite: \(message)")
            }
        }

        /// Inserts `rows` with one prepared statement; "" is NULL, and a column's type decides the binding.
        func insert(_ table: String, columns: [String], kinds: [Dataset.Kind], rows: [[String]]) throws {
            let sql = "INSERT INTO \(Self.quote(table)) (\(columns.map(Self.quote).joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
            var stmt: OpaquePointer?
            guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
                throw MTError(.software, "\(path): SQLite cannot prepare \(sql): \(String(cString: sqlite3_errmsg(db)))")
            }
            defer { sqlite3_finalize(stmt) }
            for row in rows {
                for (i, cell) in row.enumerated() {
                    let k = Int32(i + 1)
                    if cell.isEmpty { sqlite3_bind_null(stmt, k) }
                    else if kinds[i] == .integer, let v = Int64(cell) { sqlite3_bind_int64(stmt, k, v) }
                    else if kinds[i] != .text, let v = Double(cell) { sqlite3_bind_double(stmt, k, v) }
                    else { mt_sqlite3_bind_text(stmt, k, cell, -1) }
                }
                guard sqlite3_step(stmt) == SQLITE_DONE else {
                    throw MTError(.ioError, "\(path): SQLite cannot insert into \(table): \(String(cString: sqlite3_errmsg(db)))")
                }
                sqlite3_reset(stmt)
                sqlite3_clear_bindings(stmt)
            }
        }

        static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    }

    static func sqlType(_ k: Dataset.Kind) -> String {
        switch k {
        case .text: "TEXT"
        case .integer: "INTEGER"
        case .decimal: "REAL"
        }
    }

    static func write(_ d: Dataset, provenance: Provenance, to out: String) throws {
        let dir = (out as NSString).deletingLastPathComponent.isEmpty ? "." : (out as NSString).deletingLastPathComponent
        let temp = dir + "/." + (out as NSString).lastPathComponent + ".tmp-\(getpid())"
        unlink(temp)
        do {
            try fill(temp, d, provenance: provenance)
            chmod(temp, 0o600)
            let fd = open(temp, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { fsync(fd); close(fd) }
            guard rename(temp, out) == 0 else {
                throw MTError(.cantCreate, "\(out): cannot be replaced (\(String(cString: strerror(errno))))", hint: "check the folder's permissions")
            }
            try FileSystem.syncDirectory(dir)
        } catch {
            unlink(temp)
            unlink(temp + "-journal")
            throw error
        }
    }

    private static func fill(_ path: String, _ d: Dataset, provenance: Provenance) throws {
        let c = try Connection(path: path)
        try c.execute("PRAGMA journal_mode = DELETE; PRAGMA user_version = \(schemaVersion); BEGIN")
        try c.execute("CREATE TABLE participants (participant TEXT PRIMARY KEY, arm TEXT, excluded TEXT)")
        try c.insert("participants", columns: ["participant", "arm", "excluded"], kinds: [.text, .text, .text],
                     rows: d.participants.map { [$0.id, $0.arm, $0.excluded] })
        try c.execute("CREATE TABLE sessions (participant TEXT NOT NULL REFERENCES participants, session TEXT NOT NULL, position INTEGER, first_date TEXT, PRIMARY KEY (participant, session))")
        let position = Dictionary(d.sessionOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        try c.insert("sessions", columns: ["participant", "session", "position", "first_date"], kinds: [.text, .text, .integer, .text],
                     rows: d.sessions.map { [$0.participant, $0.session, String(position[$0.session] ?? 0), $0.firstDate.map(EntryDate.iso) ?? ""] })
        var select = ["s.participant", "p.arm"] + (d.columns.contains { $0.name == "excluded" } ? ["p.excluded"] : [])
            + ["s.session", "s.first_date AS date"]
        var joins: [String] = []
        for t in d.scales {
            let name = t.scale
            let keyCols = t.keyNames
            let valueCols = t.columns.map { String($0.name.dropFirst(name.count + 1)) }
            var defs = ["participant TEXT NOT NULL"] + keyCols.map { "\(Connection.quote($0)) TEXT" } + ["date TEXT"]
            defs += zip(valueCols, t.columns).map { "\(Connection.quote($0)) \(sqlType($1.kind))" }
            defs += ["entry_id TEXT", "archive TEXT", "archive_sha256 TEXT", "joined INTEGER NOT NULL"]
            try c.execute("CREATE TABLE \(Connection.quote(name)) (\(defs.joined(separator: ", ")))")
            let rows: [[String]] = t.rows.enumerated().map { k, r in
                let (file, sha) = provenance.of(scale: name, id: r.id, file: r.file)
                return [r.participant] + r.key + [r.date.map(EntryDate.iso) ?? ""] + r.values + [r.id, file, sha, t.joined[k] ? "1" : "0"]
            }
            try c.insert(name, columns: ["participant"] + keyCols + ["date"] + valueCols + ["entry_id", "archive", "archive_sha256", "joined"],
                         kinds: [.text] + keyCols.map { _ in .text } + [.text] + t.columns.map(\.kind) + [.text, .text, .text, .integer], rows: rows)
            try c.execute("CREATE INDEX \(Connection.quote(name + "_joined")) ON \(Connection.quote(name)) (participant, \(Connection.quote(keyCols[t.sessionAt]))) WHERE joined = 1")
            let alias = Connection.quote(name)
            joins.append("LEFT JOIN \(alias) ON \(alias).participant = s.participant AND \(alias).\(Connection.quote(keyCols[t.sessionAt])) = s.session AND \(alias).joined = 1")
            for (col, v) in zip(t.columns, valueCols) { select.append("\(alias).\(Connection.quote(v)) AS \(Connection.quote(col.name))") }
        }
        try c.execute("CREATE VIEW dataset AS SELECT \(select.joined(separator: ", ")) FROM sessions s JOIN participants p ON p.participant = s.participant \(joins.joined(separator: " ")) ORDER BY s.rowid")
        try c.execute("COMMIT")
    }
}
