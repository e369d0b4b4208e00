import Foundation
import Logging

/// One log line: time, level, command, server, scale, message.
enum LogLine {
    static func format(_ event: LogEvent, metadata: Logger.Metadata, now: Date = Date()) -> String {
        var all = metadata
        if let m = event.metadata { all.merge(m) { $1 } }
        let command = all.removeValue(forKey: "command").map { "\($0)" } ?? "-"
        let server = all.removeValue(forKey: "server").map { "\($0)" } ?? "-"
        let scale = all.removeValue(forKey: "scale").map { "\($0)" } ?? "-"
        let rest = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let level = event.level.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)
        // One record per line, whatever the message quotes: the log files, and the alert mail built from them.
        return Untrusted.record("\(LocalTime.stamp(now)) \(level) \(command) \(server) \(scale) \(event.message)\(rest)") + "\n"
    }
}
