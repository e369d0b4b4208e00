/// The one way to show text that came from a server or a file (scale names, ids, CSV headers, answers) on a
/// terminal, in a log file or in the alert mail: it must not be able to drive a terminal (ANSI escape
/// sequences, cursor moves, bell), forge a log line, reorder what is shown (bidi overrides), or flood a line.
/// `--json` keeps values whole; JSONWriter escapes them there.
public enum Untrusted {
    /// Scalars (Unicode characters) shown of one value; a scale name is at most 100, an id a few dozen.
    public static let limit = 200

    /// One value on one line: every control character (C0 including newline and tab, DEL, C1 such as the
    /// one-byte CSI) and every format character (bidi overrides, zero-width joiners) shown as an escape
    /// (`\u{1b}`), and cut after `limit` scalars with a count of what was left out. A backslash stays as it
    /// is, so that a message escaped again by a sink reads the same.
    public static func text(_ s: String, limit: Int = limit) -> String {
        var out = ""
        var shown = 0
        var total = 0
        for c in s.unicodeScalars {
            total += 1
            guard shown < limit else { continue }
            shown += 1
            out += escaped(c) ?? String(c)
        }
        if total > shown { out += "…(\(total - shown) more)" }
        return out
    }

    /// A whole message that may quote such values (a log line, an error with its hint): newlines stay, so
    /// a hint keeps its own line, but nothing else that could drive a terminal gets through. Used by every
    /// sink as the last line of defence; values should still go through `text` where they are quoted.
    public static func message(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0 != "\n" && escaped($0) != nil }) else { return s }
        var out = ""
        for c in s.unicodeScalars { out += c == "\n" ? "\n" : (escaped(c) ?? String(c)) }
        return out
    }

    /// A message on exactly one line (a log file's record): as `message`, with newlines escaped too, not cut.
    public static func line(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { escaped($0) != nil }) else { return s }
        return s.unicodeScalars.map { escaped($0) ?? String($0) }.joined()
    }

    /// A message as one log record (a log file's line, the console under a logger, the alert mail): the line
    /// breaks a message has of its own making (a quoted config line, a hint on the next line) become `; ` with
    /// the indentation after them dropped, so the record reads as a sentence; everything else as in `line`.
    /// Text from outside is escaped where it is quoted (`text`), so no newline of its own reaches this.
    public static func record(_ s: String) -> String {
        guard s.contains("\n") else { return line(s) }
        let parts = s.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.drop { $0 == " " || $0 == "\t" } }
            .filter { !$0.isEmpty }
        return line(parts.joined(separator: "; "))
    }

    private static func escaped(_ c: Unicode.Scalar) -> String? {
        if c.value >= 0x20 && c.value < 0x7F { return nil } // printable ASCII, nearly every character of a log
        switch c.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator:
            return "\\u{\(String(c.value, radix: 16))}"
        default:
            return nil
        }
    }
}
