import Foundation
import MTCore

extension StatsCommand {
    /// The study design, exclusions and tables behind `mt stats flow` (and the report's diagram).
    static func studyInputs(_ o: Options, context: CommandContext) throws -> (flow: StudyFlow, title: String) {
        let (sources, catalogue, title) = try resolveInputs(o, context: context)
        let exclusions = try exclusionList(o, context: context)
        let design = try StudyDesign.load(catalogue: catalogue)
        return (try StudyFlow.compute(sources, catalogue: catalogue, design: design, exclusions: exclusions), title)
    }

    /// The server's EXCLUDE_IDS (when the input is a server) and `--exclude FILE`.
    static func exclusionList(_ o: Options, context: CommandContext) throws -> ExclusionList {
        var exclusions = ExclusionList()
        let isFile: (String) -> Bool = { $0.hasSuffix(".csv") || (FileSystem.exists($0) && !FileSystem.isDirectory($0)) }
        if !o.inputs.contains(where: isFile) {
            let config = try context.loadConfig()
            let server = try o.inputs.first.map { try config.server(named: $0) } ?? config.servers[0]
            if let ids = server.excludeIDs {
                do {
                    exclusions.add(try ExclusionList.parse(ids, origin: "\(server.configFile): server \(server.name): EXCLUDE_IDS item"))
                } catch var e as MTError {
                    e.exitCode = .config // a mistake in the configuration, not in the data
                    throw e
                }
            }
        }
        if let file = o.exclude {
            guard FileSystem.exists(file) else { throw MTError(.noInput, "\(file) does not exist", hint: "--exclude takes a file of participant ids") }
            exclusions.add(try ExclusionList.parse(FileSystem.readString(file), origin: file))
        }
        return exclusions
    }

    static func runFlow(_ o: Options, context: CommandContext) throws -> ExitCode {
        guard o.scale == nil else { throw MTError.usage("flow reads the whole study; --scale does not apply", usage: usage) }
        let isFile: (String) -> Bool = { $0.hasSuffix(".csv") || (FileSystem.exists($0) && !FileSystem.isDirectory($0)) }
        guard o.inputs.count <= 1 || o.inputs.contains(where: isFile) else {
            throw MTError.usage("flow reads the whole study: give one SERVER (not a scale) or the CSV files", usage: usage)
        }
        let (flow, _) = try studyInputs(o, context: context)
        if context.global.verbosity > .quiet { for w in flow.warnings { context.stderr.line("warning: \(w)") } }
        if context.global.json {
            context.stdout.write(JSONWriter.bytes(.array(flow.stages.map(\.json)), pretty: true) + [0x0A])
        } else {
            context.stdout.write(Array(flow.text.utf8))
        }
        return .ok
    }
}

extension StatsCommand {
    /// The flow for the report's first section, when the input is a whole study (it holds the participant table).
    static func reportFlow(_ o: Options, sources: [ScaleFiles], catalogue: ScaleCatalogue,
                           context: CommandContext) throws -> StudyFlow? {
        let design = try StudyDesign.load(catalogue: catalogue)
        guard sources.contains(where: { design.participantTables.contains($0.scale) }) else { return nil }
        let (flow, _) = try studyInputs(o, context: context)
        if context.global.verbosity > .quiet { for w in flow.warnings { context.stderr.line("warning: \(w)") } }
        return flow
    }
}
