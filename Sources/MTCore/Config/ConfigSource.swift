import Foundation
import Yams

/// The text of a configuration file as error messages may quote it: one line at a time, and never a
/// secret-bearing value. Config errors end up in cron logs (`>>/var/log/mt-cron.log 2>&1`) that are often
/// world-readable, so a message names file, line, block and key and shows only the offending line, redacted.
struct ConfigSource {
    let file: String
    private let lines: [String]
    /// Lines (1-based) that belong to a secret's value (a block scalar under `PASS: |`).
    private var secretLines: Set<Int> = []
    /// Every secret value found in the file, so that it is cut out wherever it appears.
    private var secretValues: [String] = []

    /// A key whose value is a secret: the password keys and anything named like one.
    static func isSecretKey(_ key: String) -> Bool {
        let k = key.uppercased()
        return secretWords.contains { k.contains($0) } && !k.hasSuffix("_FILE")
    }

    private static let secretWords = ["PASS", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE_KEY"]

    init(file: String, text: String) {
        self.file = file
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        var blockIndent: Int?
        for (i, line) in lines.enumerated() {
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            if let b = blockIndent {
                if line.trimmingCharacters(in: .whitespaces).isEmpty || indent > b {
                    secretLines.insert(i + 1)
                    let v = line.trimmingCharacters(in: .whitespaces)
                    if !v.isEmpty { secretValues.append(v) }
                    continue
                }
                blockIndent = nil
            }
            guard let kv = Self.keyValue(line), Self.isSecretKey(kv.key) else { continue }
            let value = kv.value
            let v = Self.unquoted(value)
            if v.isEmpty || v.hasPrefix("|") || v.hasPrefix(">") {
                blockIndent = indent
            } else {
                secretValues.append(value.trimmingCharacters(in: .whitespaces))
                secretValues.append(v)
            }
        }
        secretValues = Array(Set(secretValues.filter { !$0.isEmpty })).sorted { $0.count > $1.count }
    }

    /// `KEY: value` of a line (a `- ` list marker and a flow `{` allowed before the key), or nil.
    private static func keyValue(_ line: String) -> (key: String, value: String)? {
        var rest = Substring(line).drop { $0 == " " || $0 == "\t" || $0 == "-" || $0 == "{" }
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let key = rest[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
        rest = rest[rest.index(after: colon)...]
        guard !key.isEmpty, key.count <= 60 else { return nil }
        return (key, String(rest))
    }

    private static func unquoted(_ value: String) -> String {
        var v = value.trimmingCharacters(in: .whitespaces)
        if let hash = v.range(of: " #"), !v.hasPrefix("\""), !v.hasPrefix("'") { v = String(v[..<hash.lowerBound]) }
        if v.count >= 2, let f = v.first, (f == "\"" || f == "'"), v.last == f { v = String(v.dropFirst().dropLast()) }
        return v.trimmingCharacters(in: .whitespaces)
    }

    /// Line `n` (1-based) as a message may show it: a secret key's value becomes `<redacted>`, and so does any
    /// secret value of the file wherever it appears on the line.
    func redactedLine(_ n: Int) -> String? {
        guard n >= 1, n <= lines.count else { return nil }
        if secretLines.contains(n) { return "<redacted>" }
        var line = lines[n - 1]
        // The first secret-named key on the line (also inside a flow mapping `{USER: u, PASS: x}`): nothing after
        // its colon is shown.
        // Keys are upper case (a lower-case `password` is caught too); a URL that merely contains "pass" is not.
        let hits = (Self.secretWords.compactMap { line.range(of: $0) } + [line.range(of: "password", options: .caseInsensitive)].compactMap { $0 })
            .filter { hit in !line[hit.lowerBound...].prefix { $0 != ":" && $0 != " " && $0 != "," }.uppercased().hasSuffix("_FILE") }
        if let first = hits.min(by: { $0.lowerBound < $1.lowerBound }) {
            line = line[first.lowerBound...].firstIndex(of: ":").map { String(line[...$0]) + " <redacted>" } ?? "<redacted>"
        }
        line = Self.withoutUserinfo(line)
        for v in secretValues { line = line.replacingOccurrences(of: v, with: "<redacted>") }
        return line
    }

    /// Text (a URL, or a line holding URLs) as a message may show it: `user:password@` after `://` becomes
    /// `<redacted>@`.
    static func withoutUserinfo(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            out += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != " " && $0 != "'" && $0 != "\"" && $0 != "?" && $0 != "#" }
            if let at = authority.lastIndex(of: "@") {
                out += "<redacted>"
                rest = rest[at...]
            }
        }
        return out + rest
    }

    /// "\n    line N: <text>" to append to a message, or "" when the line is unknown.
    func quote(_ n: Int) -> String {
        guard let text = redactedLine(n), !text.trimmingCharacters(in: .whitespaces).isEmpty else { return "" }
        return "\n  line \(n): \(text.trimmingCharacters(in: .whitespaces).prefix(200))"
    }

    /// The top-level block a line belongs to (the nearest unindented `name:` above it).
    func block(of n: Int) -> String? {
        guard n >= 1 else { return nil }
        for i in stride(from: min(n, lines.count), through: 1, by: -1) {
            let l = lines[i - 1]
            guard let c = l.first, c != " ", c != "\t", c != "#", c != "-" else { continue }
            if let kv = Self.keyValue(l) { return kv.key }
        }
        return nil
    }

    /// The line of the second `key:` in one block: where a duplicated key really is.
    func duplicateLine(of keys: [String]) -> Int? {
        var seen: Set<String> = []
        var block = ""
        for (i, l) in lines.enumerated() {
            guard let key = Self.keyValue(l)?.key, !l.hasPrefix("#") else { continue }
            let topLevel = l.first.map { $0 != " " && $0 != "\t" } ?? false
            if topLevel { block = key }
            if keys.contains(key) && !seen.insert((topLevel ? "" : block) + "\u{0}" + key).inserted { return i + 1 }
        }
        return nil
    }

    /// A Yams error in our words: what, where (file, line, column, block, key), the offending line redacted.
    /// Yams' own description quotes the file around the fault (for a duplicated key, the whole file), so it is
    /// never forwarded.
    func wrap(_ error: Error) -> MTError {
        let hint = ConfigSample.compareHint
        guard let y = error as? YamlError else {
            return MTError(.config, "\(file): not valid YAML", hint: hint)
        }
        var problem: String
        var mark: (line: Int, column: Int)?
        var started: Int?
        switch y {
        case .scanner(let c, let p, let m, _), .parser(let c, let p, let m, _), .composer(let c, let p, let m, _):
            problem = p
            mark = (m.line, m.column)
            // "while scanning a quoted scalar" at the line where the trouble began: often the better line to show.
            if let c, c.mark.line != m.line {
                problem += " (\(String(c.text.prefix(80))) that starts at line \(c.mark.line))"
                started = c.mark.line
            }
        case .reader(let p, _, _, _):
            problem = p
        case .duplicatedKeysInMapping(let duplicates, let context):
            problem = "duplicated key \(duplicates.sorted().joined(separator: ", ")) (each key once per block)"
            mark = duplicateLine(of: duplicates).map { ($0, 1) } ?? (context.mark.line, context.mark.column)
        default:
            problem = "cannot be read"
        }
        // libyaml's problem texts are fixed phrases; keep them short and free of file text all the same.
        problem = String(problem.prefix(120))
        for v in secretValues { problem = problem.replacingOccurrences(of: v, with: "<redacted>") }
        guard let mark else { return MTError(.config, "\(file): not valid YAML: \(problem)", hint: hint) }
        let where_ = block(of: mark.line).map { ": block \($0)" } ?? ""
        let key = lines.indices.contains(mark.line - 1) ? Self.keyValue(lines[mark.line - 1]).map { ", key \($0.key)" } ?? "" : ""
        return MTError(.config, "\(file):\(mark.line):\(mark.column): not valid YAML\(where_)\(key): \(problem)\(started.map(quote) ?? "")\(quote(mark.line))",
                       hint: hint)
    }
}
