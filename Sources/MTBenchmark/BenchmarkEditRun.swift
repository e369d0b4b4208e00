import Foundation
import MTCore

/// The writing verbs of `mt benchmark`: confirmation, the change itself (in MTCore), and its record in the
/// server's logs.
struct BenchmarkEditRun {
    let server: ServerConfig
    let context: CommandContext
    var layout: DataLayout { DataLayout(server: server) }

    func set(scale: String, id: Int64, deleteable: Bool?, yes: Bool) throws -> ExitCode {
        if !yes {
            let old = try BenchmarkEdit.current(layout: layout, scale: scale)
            let question = "\(server.name): set the benchmark of \(scale) from \(old.map { String($0.current) } ?? "none") to \(id)? "
                + "Entries up to \(id) will count as exported and the next export skips them. [y/N] "
            try confirm(question)
        }
        let change = try BenchmarkEdit.set(layout: layout, scale: scale, id: id, deleteable: deleteable)
        report([change])
        return .ok
    }

    func reset(scale: String) throws -> ExitCode {
        report([try BenchmarkEdit.reset(layout: layout, scale: scale)])
        return .ok
    }

    func importFile(_ path: String) throws -> ExitCode {
        report(try BenchmarkEdit.importFile(path, layout: layout), source: path)
        return .ok
    }

    /// Asks on the terminal; off a terminal (cron, scripts, pipes) a change needs --yes instead.
    private func confirm(_ question: String) throws {
        guard isatty(STDIN_FILENO) == 1 else {
            throw MTError(.usage, "mt benchmark set: refusing to change the benchmark without confirmation (stdin is not a terminal)",
                          hint: "add --yes if you are sure")
        }
        context.stderr.write(question)
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard answer == "y" || answer == "yes" else {
            throw MTError(.usage, "mt benchmark set: not confirmed; nothing was changed")
        }
    }

    private func report(_ changes: [BenchmarkEdit.Change], source: String? = nil) {
        if let logging = try? context.makeLogging(for: server) {
            for c in changes { logging.logger.notice("benchmark changed by hand\(source.map { " (import of \($0))" } ?? ""): \(c.description)") }
        }
        if context.global.json {
            context.stdout.write(JSONWriter.bytes(.object([
                ("server", .string(server.name)), ("file", .string(layout.benchmark)),
                ("changes", .array(changes.map(\.json))),
            ]), pretty: true) + [0x0A])
            return
        }
        if changes.isEmpty { context.stdout.line(Untrusted.line("\(server.name): \(layout.benchmark) already holds those marks; nothing changed")) }
        for c in changes { context.stdout.line(Untrusted.line("\(server.name): \(c.description)")) }
    }
}
