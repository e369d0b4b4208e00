import MTCore

/// The findings of `mt verify`, as text or JSON.
struct VerifyPrinter {
    let context: CommandContext

    func print(_ reports: [VerifyReport]) {
        if context.global.json {
            let ok = reports.allSatisfy(\.ok)
            context.stdout.write(JSONWriter.bytes(.object([
                ("ok", .bool(ok)), ("servers", .array(reports.map(\.json))),
            ]), pretty: true) + [0x0A])
            return
        }
        for r in reports {
            for f in r.findings { context.stdout.line(f.text) }
            if let e = r.remoteError { context.stderr.line(Untrusted.message("mt verify: \(r.server): the server could not be checked: \(e.description)")) }
            if context.global.verbosity > .quiet || !r.ok {
                for n in r.notes { context.stdout.line(Untrusted.line("note: \(n)")) }
                let counted = "\(r.archives) archive(s), \(r.archivedIDs) archived id(s), \(r.deletions) deletion(s), \(r.csvFiles) CSV file(s)"
                context.stdout.line(Untrusted.line(r.findings.isEmpty
                    ? "\(r.server): ok: \(counted) checked in \(r.root)"
                    : "\(r.server): \(r.findings.count) finding(s): \(counted) checked in \(r.root)"))
            }
        }
    }
}
