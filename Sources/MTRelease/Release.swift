import Foundation
import MTCore

/// A de-identified package of one server's active CSVs (see mt-release(1)): every column gets its role from the
/// catalogue and its action from the profile; the package is built in a temporary folder beside the output and
/// renamed into place, so the output is either absent or whole.
struct Release {
    /// What was done to one column of one scale, for the README.
    struct ColumnReport: Sendable, Equatable {
        var column: String
        var role: ColumnRole?
        var action: ReleaseProfile.Action
        /// Whether the column links a row to its participant (pseudonymised and shifted as the participant).
        var participantLink: Bool
        /// A kept item the catalogue gives no valid values for: only its numbers are released, since text there
        /// would be free text nobody tagged.
        var numbersOnly = false
    }

    struct ScaleReport: Sendable, Equatable {
        var scale: String
        var file: String
        var rows: Int
        var columns: [ColumnReport]
        /// Date cells that were not dates mt can read: emptied under shift or coarsen.
        var unreadableDates: Int
        /// Cells of an item without valid values that were not numbers: emptied.
        var suppressedText: Int
    }

    let layout: DataLayout
    let catalogue: ScaleCatalogue
    let design: StudyDesign
    let profile: ReleaseProfile
    /// The lab's secret; empty when the profile neither pseudonymises nor shifts.
    let secret: [UInt8]

    // MARK: keyed values

    /// `P` and 16 hex digits of the HMAC of the participant's id: the same participant gets the same pseudonym
    /// in every file (and in every release made with the same secret).
    func participantPseudonym(_ id: String) -> String {
        "P" + HMACSHA256.hex(key: secret, message: Array("mt release participant v1\n\(id)".utf8)).prefix(16)
    }

    /// `I` and 16 hex digits, keyed by the column too, so that an entry id and a participant id of the same
    /// number never share a pseudonym.
    func pseudonym(_ value: String, column: String) -> String {
        "I" + HMACSHA256.hex(key: secret, message: Array("mt release \(column) v1\n\(value)".utf8)).prefix(16)
    }

    /// Seconds, from one day to shiftDays days, earlier or later; from the participant (or, for a row with none,
    /// the entry), so that every interval within one participant is kept. Not whole days: a whole-day shift
    /// could land one answer on another one's original time (sessions a week apart).
    func shiftSeconds(for owner: String) -> Int64 {
        let h = HMACSHA256.hex(key: secret, message: Array("mt release shift v1\n\(owner)".utf8))
        let n = UInt64(h.prefix(16), radix: 16) ?? 0
        let magnitude = 86_400 + Int64((n >> 1) % UInt64((profile.shiftDays - 1) * 86_400 + 1))
        return n & 1 == 1 ? -magnitude : magnitude
    }

    /// Whole-number bands `band` wide: 37 → `30-39`; a cell that is not a number is suppressed (empty).
    static func coarsenNumber(_ cell: String, band: Int) -> String {
        guard let v = Double(cell.trimmingCharacters(in: .whitespaces)), v.isFinite, abs(v) < 1e15 else { return "" }
        let lo = Int((v / Double(band)).rounded(.down)) * band
        return "\(lo)-\(lo + band - 1)"
    }

    /// The UTC month, `2018-04`.
    static func month(_ t: Int64) -> String { String(EntryDate.iso(t).prefix(7)) }

    // MARK: columns

    /// The columns that name a row's participant: the catalogue's participant columns, the scale's own, the
    /// TaskLog's, any `…RSA` or `participant…` column, and in the participant table its id column.
    func participantLinks(_ header: [String], scale: String) -> Set<String> {
        var names = Set(catalogue.participantColumns + design.taskLogParticipant)
        if let own = catalogue.spec(for: scale)?.participant { names.insert(own) }
        if design.participantTables.contains(scale) { names.formUnion(design.participantID) }
        return Set(header.filter { names.contains($0) || $0.hasSuffix("RSA") || $0.contains("participant") })
    }

    func plan(_ header: [String], scale: String) -> [ColumnReport] {
        let spec = catalogue.spec(for: scale)
        let links = participantLinks(header, scale: scale)
        return header.map { c in
            let link = links.contains(c)
            let role = link ? .identifier : catalogue.roles.role(of: c, in: spec)
            let unruled = role == .item && spec?.items.contains(c) == true && spec?.rule(for: c) == nil
                && catalogue.roles.names[.item]?.contains(c) != true
            return ColumnReport(column: c, role: role, action: role.map(profile.action) ?? .drop, participantLink: link,
                                numbersOnly: unruled)
        }
    }

    // MARK: building

    /// The scales of the active CSVs, each with its files in date order.
    func inputs() throws -> [(scale: String, files: [String])] {
        var byScale: [String: [String]] = [:]
        for name in try FileSystem.list(layout.active).filter({ $0.hasSuffix(".csv") && !$0.hasPrefix(".") }).sorted() {
            guard let scale = layout.scale(ofActiveCSV: name) else { continue }
            byScale[scale, default: []].append(layout.active + "/" + name)
        }
        return byScale.keys.sorted().map { ($0, byScale[$0]!) }
    }

    /// A written file of the package: its name, size and SHA-256.
    struct Written: Sendable {
        var name: String
        var bytes: Int64
        var sha256: String
    }

    /// One scale's released CSV (all its active files, columns matched by name), written to `destination` a
    /// megabyte at a time (a TaskLog of millions of rows never sits in memory), and what was done.
    func release(scale: String, files: [String], to destination: String) throws -> (Written, ScaleReport) {
        var header: [String] = []
        for path in files {
            var reader = try OriginalCSVReader(path: path)
            for c in reader.header where !header.contains(c) { header.append(c) }
            reader.close()
        }
        let columns = plan(header, scale: scale)
        let kept = columns.indices.filter { columns[$0].action != .drop }
        let links = columns.indices.filter { columns[$0].participantLink }
        let idColumn = header.firstIndex(of: "id")
        var rows = 0, unreadable = 0, suppressed = 0, size: Int64 = 0
        let digest = try SHA256.Stream()
        try FileSystem.writeAtomically(to: destination, mode: 0o644) { fd in
            var out: [UInt8] = []
            func flush() throws {
                out.withUnsafeBytes { digest.update($0) }
                try FileSystem.writeAll(fd, out, path: destination)
                size += Int64(out.count)
                out.removeAll(keepingCapacity: true)
            }
            CSVWriter.appendRow(kept.map { header[$0] }, to: &out)
            var fields: [String] = []
            for path in files {
                var reader = try OriginalCSVReader(path: path)
                defer { reader.close() }
                let position = header.map { reader.header.firstIndex(of: $0) }
                while try reader.next(into: &fields) {
                    let cells = position.map { $0.map { $0 < fields.count ? fields[$0] : "" } ?? "" }
                    for (i, c) in header.enumerated() where c.hasSuffix("RSA") && CSVScan.looksLikeCiphertext(cells[i]) {
                        throw MTError(.dataError, "\(path):\(reader.rowLine): column \(c) still holds RSA ciphertext: the package would hold it, and pseudonyms of ciphertext are not the participant's",
                                      hint: "give the server its PRIVATE_FILE and run mt decrypt on the CSVs (or mt recover with the key), then mt release again")
                    }
                    let participant = links.lazy.map { cells[$0] }.first { !$0.isEmpty }
                    let owner = participant.map { "participant\n\($0)" } ?? "entry\n\(scale)\n\(idColumn.map { cells[$0] } ?? String(rows))"
                    var row: [String] = []
                    row.reserveCapacity(kept.count)
                    for i in kept {
                        let cell = cells[i]
                        let col = columns[i]
                        guard !cell.isEmpty else { row.append(""); continue }
                        switch col.action {
                        case .keep, .drop:
                            if col.numbersOnly, Double(cell.trimmingCharacters(in: .whitespaces))?.isFinite != true {
                                suppressed += 1
                                row.append("")
                            } else {
                                row.append(CSVCell.analystText(cell))
                            }
                        case .pseudonymise:
                            row.append(col.participantLink ? participantPseudonym(cell) : pseudonym(cell, column: col.column))
                        case .shift:
                            guard let t = EntryDate.parse(cell) else { unreadable += 1; row.append(""); continue }
                            row.append(EntryDate.iso(t + shiftSeconds(for: owner)))
                        case .coarsen:
                            if col.role == .date {
                                guard let t = EntryDate.parse(cell) else { unreadable += 1; row.append(""); continue }
                                row.append(Self.month(t))
                            } else {
                                row.append(Self.coarsenNumber(cell, band: profile.band))
                            }
                        }
                    }
                    CSVWriter.appendRow(row, to: &out)
                    rows += 1
                    if out.count >= 1 << 20 { try flush() }
                }
            }
            try flush()
        }
        let name = (destination as NSString).lastPathComponent
        return (Written(name: name, bytes: size, sha256: digest.finish()),
                ScaleReport(scale: scale, file: name, rows: rows, columns: columns, unreadableDates: unreadable, suppressedText: suppressed))
    }

    /// Builds the whole package in `tmp` (an empty folder): the CSVs, profile.yaml, README.md, manifest.json and
    /// SHA256SUMS (every other file's SHA-256, `sha256sum -c` reads it).
    func build(into tmp: String, server: String, version: String, now: Date) throws -> [ScaleReport] {
        var reports: [ScaleReport] = []
        var written: [Written] = []
        for (scale, paths) in try inputs() {
            let (file, report) = try release(scale: scale, files: paths, to: tmp + "/\(scale).csv")
            written.append(file)
            reports.append(report)
        }
        func write(_ name: String, _ bytes: [UInt8]) throws {
            try FileSystem.writeAtomically(bytes, to: tmp + "/" + name, mode: 0o644)
            written.append(Written(name: name, bytes: Int64(bytes.count), sha256: SHA256.hex(bytes)))
        }
        try write("profile.yaml", Array(profile.yaml.utf8))
        try write("README.md", Array(readme(reports, server: server, version: version).utf8))
        let manifest = JSONValue.object([
            ("format", .string("mt-release/1")),
            ("mtVersion", .string(version)),
            ("server", .string(server)),
            ("created", .string(EntryDate.iso(Int64(now.timeIntervalSince1970)))),
            ("files", .array(written.map { f in
                .object([("name", .string(f.name)), ("bytes", .int(f.bytes)), ("sha256", .string(f.sha256)),
                         ("rows", reports.first { $0.file == f.name }.map { .int(Int64($0.rows)) } ?? .null)])
            })),
        ])
        try write("manifest.json", JSONWriter.bytes(manifest, pretty: true) + [0x0A])
        try write("SHA256SUMS", Array(written.map { "\($0.sha256)  \($0.name)\n" }.joined().utf8))
        return reports
    }

    static func describe(_ c: ColumnReport) -> String {
        switch c.action {
        case .keep: return c.numbersOnly ? "kept where a number (no valid values in the catalogue; text left empty)" : "kept"
        case .drop: return c.role == nil ? "dropped (no role in the catalogue)" : "dropped"
        case .pseudonymise: return c.participantLink ? "pseudonymised (the participant's pseudonym, P…)" : "pseudonymised (I…, keyed by the column)"
        case .shift: return "shifted by the participant's offset, ISO 8601 UTC"
        case .coarsen: return c.role == .date ? "coarsened to the month (YYYY-MM, UTC)" : "coarsened to bands"
        }
    }

    func readme(_ reports: [ScaleReport], server: String, version: String) -> String {
        var out = """
            # De-identified data package

            Made by mt \(version) (`mt release`) from the active CSVs of server \(server). Every column of every
            CSV has a role from mt's scale catalogue (identifier, free-text, date, quasi-identifier, item), and
            the profile (profile.yaml) says what happened to each role:

            """
        for role in ColumnRole.allCases { out += "- \(role.rawValue): \(profile.action(role).rawValue)\n" }
        out += """
            - a column the catalogue does not tag: dropped

            Pseudonyms are keyed by the lab's secret, which is not in this package: the same participant has the
            same pseudonym (P and 16 hex digits) in every file, including the participant table's id column, so
            files join on it. Other pseudonymised identifiers are I and 16 hex digits, keyed by their column.
            Shifted dates move by one offset per participant (1 to \(profile.shiftDays) days, to the second,
            earlier or later), the same for every date of one participant, so intervals within a participant are
            kept; a row with no participant is shifted by its own offset. Coarsened numbers are bands
            \(profile.band) wide (37 becomes \(Self.coarsenNumber("37", band: profile.band))); a coarsened cell that is not a number is left empty. Empty cells stay empty. The server's boolean bytes
            (0x00, 0x01) are written as 0 and 1, and other control bytes as U+FFFD, as in every CSV for analysts.

            CSV files are RFC 4180 (UTF-8, comma, CRLF, quotes where needed), readable by R's read.csv and
            pandas.read_csv with their defaults. manifest.json lists every file with its SHA-256 and mt's version;
            `sha256sum -c SHA256SUMS` checks them.

            """
        for r in reports {
            out += "\n## \(r.file) (\(r.rows) rows)\n\n| column | role | done |\n|---|---|---|\n"
            for c in r.columns {
                out += "| \(c.column) | \(c.role?.rawValue ?? "none") | \(Self.describe(c)) |\n"
            }
            if r.unreadableDates > 0 { out += "\n\(r.unreadableDates) date cells were not dates mt can read: left empty.\n" }
            if r.suppressedText > 0 { out += "\n\(r.suppressedText) cells of items without valid values were text, not numbers: left empty.\n" }
        }
        return out
    }
}
