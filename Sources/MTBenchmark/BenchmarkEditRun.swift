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
            let (old, corrupt) = BenchmarkEdit.current(layout: layout, scale: scale)
            var question = "\(server.name): set the benchmark of \(scale) from \(old.map { String($0.current) } ?? "none") to \(id)? "
                + "Entries up to \(id) will count as exported and the next export skips them. [y/N] "
            if let corrupt {
                question = "\(corrupt)\n\(server.name): the file will be kept as \((layout.benchmark as NSString).lastPathComponent).corrupt-<stamp>, "
                    + "rebuilt from the archives, and the benchmark of \(scale) set to \(id). Go ahead? [y/N] "
            }
            try confirm(question, verb: "set")
        }
        return try withRepairLog { onRepair in
            try BenchmarkEdit.set(layout: layout, scale: scale, id: id, deleteable: deleteable, onRepair: onRepair)
        }
    }

    func reset(scale: String) throws -> ExitCode {
        try withRepairLog { try BenchmarkEdit.reset(layout: layout, scale: scale, onRepair: $0) }
    }

    func importFile(_ path: String) throws -> ExitCode {
        try withRepairLog(source: path) { try BenchmarkEdit.importFile(path, layout: layout, onRepair: $0) }
    }

    func rebuild(yes: Bool) throws -> ExitCode {
        if !yes {
            try confirm("\(server.name): replace \(layout.benchmark) with the marks its archives, state and deletion ledger prove? "
                        + "The present file is kept next to it. [y/N] ", verb: "rebuild")
        }
        let logging = context.loggingIfPossible(for: server)
        let r = try BenchmarkEdit.rebuild(layout: layout)
        for w in r.warnings { logging?.logger.warning("benchmark rebuild: \(w)") }
        logging?.logger.notice("benchmark rebuilt by hand from the archives\(r.copy.map { "; the old file is kept as \($0)" } ?? "")")
        report(r.changes, logging: logging, source: "rebuild")
        if let copy = r.copy, !context.global.json { context.stdout.line("\(server.name): the old file is kept as \(copy)") }
        return r.warnings.isEmpty ? .ok : .problems
    }

    /// Runs an edit; a corrupt file it had to rebuild is logged at critical (so mailed), under the lock.
    private func withRepairLog(source: String? = nil,
                               _ body: (_ onRepair: (BenchmarkEdit.Repair) -> Void) throws -> [BenchmarkEdit.Change]) throws -> ExitCode {
        let logging = context.loggingIfPossible(for: server)
        var repair: BenchmarkEdit.Repair?
        let changes = try body { r in
            repair = r
            logging?.logger.critical("\(r.problem); the broken file is kept as \(r.copy) and \(layout.benchmark) was rebuilt from the archives, the export state and the deletion ledger before the change")
            for w in r.warnings { logging?.logger.warning("benchmark rebuild: \(w)") }
        }
        report(changes, logging: logging, source: source)
        if let repair {
            logging?.sendAlerts(subject: "mt benchmark: \(server.name): benchMark.json was corrupt and was rebuilt")
            if logging == nil {
                context.stderr.line("mt benchmark: \(server.name): \(repair.problem); kept as \(repair.copy), rebuilt from the archives")
            }
            return repair.warnings.isEmpty ? .ok : .problems
        }
        return .ok
    }

    /// Asks on the terminal; off a terminal (cron, scripts, pipes) a change needs --yes instead.
    private func confirm(_ question: String, verb: String) throws {
        guard isatty(STDIN_FILENO) == 1 else {
            throw MTError(.usage, "mt benchmark \(verb): refusing to change the benchmark without confirmation (stdin is not a terminal)",
                          hint: "add --yes if you are sure")
        }
        context.stderr.write(question)
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard answer == "y" || answer == "yes" else {
            throw MTError(.usage, "mt benchmark \(verb): not confirmed; nothing was changed")
        }
    }

    private func report(_ changes: [BenchmarkEdit.Change], logging: RunLogging?, source: String? = nil) {
        let how = source == "rebuild" ? " (rebuild)" : source.map { " (import of \($0))" } ?? ""
        for c in changes { logging?.logger.notice("benchmark changed by hand\(how): \(c.description)") }
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
