import MTCore

/// Reads every input, decrypts it, and gathers what `mt decrypt` prints.
enum FileDecryption {
    struct Outcome {
        var entries: [JSONValue] = []
        var failures: [DecryptionFailure] = []
        /// Kept only when the one input was a CSV: its own column order.
        var csvHeader: [String]?
    }

    /// Failures printed one per line before the rest are summed up.
    static let listed = 50

    /// Entries decrypted between two progress updates.
    static let batch = 16_384

    /// `progress` makes a bar for one input (given its label and entry count); nil when nobody watches.
    static func run(files: [String], session: DecryptionSession,
                    progress: ((String, Int) -> ProgressBar)? = nil) throws -> Outcome {
        var outcome = Outcome()
        var lastScale = "stdin"
        for file in files {
            let input = try DecryptInput.read(path: file)
            let bar = input.entries.count > batch ? progress?(input.source, input.entries.count) : nil
            defer { bar?.finish() }
            for start in stride(from: 0, to: input.entries.count, by: batch) {
                let slice = Array(input.entries[start..<min(start + batch, input.entries.count)])
                let result = try session.decrypt(entries: slice, scale: input.scale)
                outcome.entries += result.entries
                outcome.failures += result.failures
                bar?.advance(by: slice.count)
            }
            if files.count == 1 { outcome.csvHeader = input.csvHeader }
            lastScale = input.scale
        }
        try session.finish(scale: lastScale)
        return outcome
    }

    static func report(_ failures: [DecryptionFailure], to stderr: Output) {
        guard !failures.isEmpty else { return }
        for f in failures.prefix(listed) { stderr.line(Untrusted.line("mt decrypt: cannot decrypt \(f)")) }
        if failures.count > listed { stderr.line("mt decrypt: … and \(failures.count - listed) more") }
        stderr.line("mt decrypt: \(failures.count) value(s) could not be decrypted; their ciphertext was kept in the output")
    }
}
