import Foundation
import MTCore

/// `mt scales`: list a server's scales, or the scale catalogue.
public struct ScalesCommand: Command {
    public static let name = "scales"
    public static let summary = "list a server's scales, or the scale catalogue"
    public static let usage = """
        mt scales [SERVER|.]
        mt scales --local
        mt scales show NAME
        mt scales check [--scale NAME] FILE.csv...
        """
    public static let help = """
        mt scales [SERVER|.]   the server's own list (GET {api}/export): name, size, deleteable, and whether the
                               catalogue knows the scale. With no SERVER (or .), every server of the config.
        --local                the scale catalogue: every scale with its items, scores and title.
        show NAME              one scale of the catalogue: items, valid values, missing codes, scores, the
                               participant column and the identity rule.
        check FILE.csv...      columns of each file missing from the catalogue's items, or unknown to it. The
                               scale comes from the file name (<Scale>_<DATE>.csv) or --scale NAME.

        The catalogue is config/scales.yaml (or $MT_CATALOGUE), with the server's CATALOGUE file on top when a
        server is named; see its comments to extend or override it.

        OPTIONS
          --local        the catalogue instead of a server's list
          --scale NAME   check: the scale of every file
          --json         machine-readable output (every form)

        EXIT STATUS: 0 done; 1 check found missing or unknown columns; 64 usage or unknown scale; 65 a file is
        not valid CSV; 66 no such file; 69 the server was unavailable or answered something that is not its
        list of scales (an HTML login page, wrong credentials); 78 configuration.
        """

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        var p = ArgumentParser(arguments, command: name, usage: usage)
        let local = p.flag("--local")
        let scale = try p.value("--scale")
        var args = try p.positionals()
        let verb = args.first.flatMap { ["show", "check"].contains($0) ? $0 : nil }
        if verb != nil { args.removeFirst() }
        if scale != nil && verb != "check" { throw MTError.usage("--scale is for check only", usage: usage) }
        let json = context.global.json
        switch verb {
        case "show":
            guard args.count == 1 else { throw MTError.usage("mt scales show needs one scale NAME", usage: usage) }
            let catalogue = try ScaleCatalogue.standard(server: nil, environment: context.environment)
            let spec = try CatalogueText.spec(args[0], in: catalogue)
            context.stdout.write(json ? JSONWriter.bytes(CatalogueText.json(spec, catalogue: catalogue), pretty: true) + [0x0A]
                                      : Array(CatalogueText.show(spec, catalogue: catalogue).utf8))
            return .ok
        case "check":
            guard !args.isEmpty else { throw MTError.usage("mt scales check needs FILE.csv", usage: usage) }
            let catalogue = try ScaleCatalogue.standard(server: nil, environment: context.environment)
            let results = try args.map { try ColumnCheck.run(file: $0, scale: scale, catalogue: catalogue) }
            if json {
                context.stdout.write(JSONWriter.bytes(.array(results.map(\.json)), pretty: true) + [0x0A])
            } else {
                for r in results { context.stdout.write(Untrusted.message(r.text)) }
            }
            return results.allSatisfy(\.isClean) ? .ok : .problems
        default:
            if local {
                guard args.isEmpty else { throw MTError.usage("mt scales --local takes no SERVER", usage: usage) }
                let catalogue = try ScaleCatalogue.standard(server: nil, environment: context.environment)
                context.stdout.write(json ? JSONWriter.bytes(.array(catalogue.scales.map { CatalogueText.json($0, catalogue: catalogue) }), pretty: true) + [0x0A]
                                          : Array(CatalogueText.list(catalogue).utf8))
                return .ok
            }
            guard args.count <= 1 else { throw MTError.usage("too many arguments", usage: usage) }
            let config = try context.loadConfig()
            var out: [JSONValue] = []
            var text = ""
            for server in try config.select(args.first, readyOnly: false) {
                let catalogue = try ScaleCatalogue.standard(server: server, environment: context.environment)
                let scales = try ServerScales.fetch(server)
                out.append(CatalogueText.json(server: server.name, scales, catalogue: catalogue))
                text += CatalogueText.table(server: server.name, scales, catalogue: catalogue)
            }
            context.stdout.write(json ? JSONWriter.bytes(.array(out), pretty: true) + [0x0A] : Array(text.utf8))
            return .ok
        }
    }
}
