import Foundation
import MTCore

extension ScalesCommand {
    /// `mt scales codebook`: the data dictionary of a server's active_data, or of CSV files.
    static func codebook(_ args: [String], format: String, output: String?, context: CommandContext) throws -> ExitCode {
        let sources: [ScaleFiles]
        let catalogue: ScaleCatalogue
        let title: String
        let isFile: (String) -> Bool = { $0.hasSuffix(".csv") || (FileSystem.exists($0) && !FileSystem.isDirectory($0)) }
        if !args.isEmpty && args.allSatisfy(isFile) {
            catalogue = try ScaleCatalogue.standard(server: nil, environment: context.environment)
            sources = try ScaleFiles.paths(args, scale: nil)
            title = args.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
        } else {
            guard args.count <= 1 else { throw MTError.usage("codebook takes one SERVER or CSV files", usage: usage) }
            let config = try context.loadConfig()
            let server: ServerConfig
            if let name = args.first {
                server = try config.server(named: name)
            } else {
                guard config.servers.count == 1 else {
                    throw MTError.usage("codebook: name a server (\(config.servers.map(\.name).joined(separator: ", "))) or CSV files", usage: usage)
                }
                server = config.servers[0]
            }
            catalogue = try ScaleCatalogue.standard(server: server, environment: context.environment)
            sources = try ScaleFiles.server(DataLayout(server: server), recovered: false, scale: nil)
            title = "\(server.name) (active_data)"
        }
        let (entries, warnings) = try Codebook.build(sources, catalogue: catalogue,
                                                     design: try StudyDesign.load(catalogue: catalogue))
        if context.global.verbosity > .quiet { for w in warnings { context.stderr.line("warning: \(w)") } }
        let bytes: [UInt8]
        switch format {
        case "csv": bytes = Codebook.csv(entries)
        case "html": bytes = Array(Codebook.html(entries, title: title).utf8)
        default: bytes = Array(Codebook.markdown(entries, title: title).utf8)
        }
        if let output {
            try FileSystem.writeAtomically(bytes, to: output, mode: 0o600)
            if context.global.verbosity > .quiet {
                context.stderr.line("wrote \(output) (\(entries.count) columns of \(sources.count) scale\(sources.count == 1 ? "" : "s"))")
            }
        } else {
            context.stdout.write(bytes)
        }
        return .ok
    }
}
