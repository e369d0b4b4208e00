import Foundation
import MTCore

/// The file formats of `mt stats dataset`.
enum DatasetFormat: String, Sendable, CaseIterable { case csv, sav, dta, sqlite }

extension StatsCommand {
    static func runDataset(_ o: Options, context: CommandContext) throws -> ExitCode {
        guard o.scale == nil else { throw MTError.usage("dataset reads the whole study; --scale does not apply", usage: usage) }
        let isFile: (String) -> Bool = { $0.hasSuffix(".csv") || (FileSystem.exists($0) && !FileSystem.isDirectory($0)) }
        guard o.inputs.count <= 1 || o.inputs.contains(where: isFile) else {
            throw MTError.usage("dataset reads the whole study: give one SERVER (not a scale) or the CSV files", usage: usage)
        }
        let out = o.output!
        let (sources, catalogue, title) = try resolveInputs(o, context: context)
        let exclusions = try exclusionList(o, context: context)
        let design = try StudyDesign.load(catalogue: catalogue)
        if sources.contains(where: { s in s.files.contains(out) }) {
            throw MTError(.cantCreate, "\(out) is one of the input files", hint: "write the dataset elsewhere")
        }
        var options = o.dataset
        options.keepAnswers = o.format == .sqlite
        let dataset = try Dataset.build(sources, catalogue: catalogue, design: design, exclusions: exclusions, options: options)
        if context.global.verbosity > .quiet { for w in dataset.warnings { context.stderr.line(Untrusted.line("warning: \(w)")) } }
        switch o.format! {
        case .csv:
            try FileSystem.writeOutput(dataset.csv(), to: out, mode: 0o600)
            let package = ((out as NSString).deletingLastPathComponent.isEmpty ? "." : (out as NSString).deletingLastPathComponent) + "/datapackage.json"
            let json = dataset.dataPackage(csvName: (out as NSString).lastPathComponent, title: "mt stats dataset — \(title)")
            try FileSystem.writeOutput(JSONWriter.bytes(json, pretty: true) + [0x0A], to: package, mode: 0o600)
            if context.global.verbosity > .quiet { context.stderr.line(Untrusted.line("wrote \(out) and \(package)")) }
        case .sqlite:
            let provenance = try Provenance(inputs: o, sources: sources, context: context)
            try StudyDatabase.write(dataset, provenance: provenance, to: out)
        case .sav, .dta:
            try StatFile.write(dataset, format: o.format!, title: title, to: out)
        }
        if context.global.verbosity > .quiet {
            context.stderr.line(Untrusted.line("\(out): \(dataset.rows.count) rows, \(dataset.columns.count) columns (\(o.dataset.shape.rawValue))"))
        }
        return .ok
    }
}

/// Where each row of a scale came from: with a server, the first archive holding its id (file name and SHA-256,
/// as `mt verify` reads them); with CSV files, the file and its SHA-256.
struct Provenance: Sendable {
    /// scale → id → (archive file name, SHA-256)
    var archives: [String: [String: (String, String)]] = [:]
    /// CSV path → SHA-256
    var files: [String: String] = [:]

    init(inputs o: StatsCommand.Options, sources: [ScaleFiles], context: CommandContext) throws {
        let isFile: (String) -> Bool = { $0.hasSuffix(".csv") || (FileSystem.exists($0) && !FileSystem.isDirectory($0)) }
        for s in sources { for f in s.files { files[f] = try Self.sha256(of: f) } }
        guard !o.inputs.contains(where: isFile) else { return }
        let config = try context.loadConfig()
        let server = try o.inputs.first.map { try config.server(named: $0) } ?? config.servers[0]
        let layout = DataLayout(server: server)
        for a in ArchiveScan.summarize(try layout.archives(), layout: layout) {
            guard let sha = a.sha256 else { continue }
            for id in a.ids where archives[a.name.scale]?[String(id)] == nil {
                archives[a.name.scale, default: [:]][String(id)] = (a.name.fileName, sha)
            }
        }
    }

    /// The archive (or, without one, the CSV file) a row came from, and its SHA-256.
    func of(scale: String, id: String, file: String) -> (String, String) {
        if let a = archives[scale]?[id] { return a }
        return ((file as NSString).lastPathComponent, files[file] ?? "")
    }

    static func sha256(of path: String) throws -> String {
        let h = try SHA256.Stream()
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MTError(.noInput, "\(path): cannot be read (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw MTError(.ioError, "\(path): read failed (\(String(cString: strerror(errno))))") }
            if n == 0 { break }
            buffer.withUnsafeBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return h.finish()
    }
}
