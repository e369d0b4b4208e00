import Foundation
import MTCore

/// `mt scales`: list a server's scales, or the scale catalogue.
public struct ScalesCommand: Command {
    public static let name = "scales"
    public static let summary = "list a server's scales, or the scale catalogue"
    public static let usage = """
        mt scales [SERVER|.]
        mt scales --local [--study NAME]
        mt scales show NAME [SERVER | --study NAME]
        mt scales check [--study NAME] [--scale NAME] FILE.csv...
        mt scales codebook [SERVER | FILE.csv...] [--format md|csv|html] [-o OUT]
        """
    public static let help = """
        mt scales [SERVER|.]   the server's own list (GET {api}/export): name, size, deleteable, and whether the
                               catalogue knows the scale. With no SERVER (or .), every server of the config.
        --local                the scale catalogue: every scale with its items, scores and title.
        show NAME [SERVER]     one scale of the catalogue (with SERVER: as that server's STUDY and CATALOGUE
                               make it): which study's definition applies and its source,
                               items, valid values, no-answer codes, scores, the participant column and the
                               identity rule.
        check FILE.csv...      columns of each file missing from the catalogue's items, or unknown to it. The
                               scale comes from the file name (<Scale>_<DATE>.csv) or --scale NAME.
        codebook [SERVER]      a data dictionary of the server's active_data (or of FILE.csv...): one entry
                               per scale and column. From the catalogue: role (item or metadata; in the
                               participant table and TaskLog, the column's part in the study: participant
                               id, arm, exclusion flag, session, task, date), valid values, no-answer codes,
                               the scores that use it, the identity rule (and whether the column is in it). From the data: observed type (integer, decimal, boolean,
                               date, list, text, empty), range (numbers: min–max; dates: earliest – latest;
                               text: length), distinct values, missing (empty) cells, and the date of the first
                               and last entry where it is filled. Catalogue items absent from the data are
                               listed as "not in the data". The byte \\001 is shown as \\001.

        The catalogue is the shipped scales.yaml (/usr/share/mt/scales.yaml when installed, config/scales.yaml
        in the source tree; or $MT_CATALOGUE), with the server's CATALOGUE file on top when a
        server is named; see its comments to extend or override it. The studies (r34, r01, kaiser, templeton)
        define some scales differently: --study NAME (or a server's STUDY key, for mt scales SERVER) selects
        that study's definitions over the shared base.
        """

    public static let options: [OptionSpec] = [
        .flag("--local", "the catalogue instead of a server's list"),
        .value("--scale", "NAME", "the scale of every file", verbs: ["check"]),
        .value("--study", "NAME", "--local, show, check: the study whose definitions apply (r34, r01, kaiser, templeton)"),
        .choice("--format", ["md", "csv", "html"], valueName: "F", "md (default), csv (one table) or html (self-contained page)",
                verbs: ["codebook"]),
        .value("--output", short: "-o", "OUT", "write to OUT (atomically, mode 0600) instead of stdout", verbs: ["codebook"]),
        .global("--json", "machine-readable output (every form)"),
    ]

    public static let exitStatus = """
        EXIT STATUS
          0   done
          1   check found missing or unknown columns
          64  usage error, or a scale the catalogue does not know
          65  a file is not valid CSV
          66  no such file
          69  the server was unavailable or answered something that is not its list of scales (an HTML login
              page, wrong credentials)
          73  the codebook's output file cannot be created
          74  the output could not be written (disk full, /dev/full)
          77  the config file holds a password and is readable by others
          78  configuration error (an unknown study included)
        """

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        var p = ArgumentParser(arguments, for: Self.self)
        let local = p.flag("--local")
        let scale = try p.value("--scale")
        let study = try p.value("--study").map(Study.init)
        let format = try p.choice("--format")
        let output = try p.value("--output")
        var args = try p.positionals()
        let verb = args.first.flatMap { ["show", "check", "codebook"].contains($0) ? $0 : nil }
        if verb != nil { args.removeFirst() }
        if (format != nil || output != nil) && verb != "codebook" {
            throw MTError.usage("--format and -o are for codebook only", usage: usage)
        }
        if scale != nil && verb != "check" { throw MTError.usage("--scale is for check only", usage: usage) }
        if study != nil && verb == nil && !local {
            throw MTError.usage("--study is for --local, show and check (a server's study is its STUDY key)", usage: usage)
        }
        if verb == "codebook" {
            return try codebook(args, format: format ?? "md", output: output, context: context)
        }
        let json = context.global.json
        switch verb {
        case "show":
            guard args.count == 1 || args.count == 2 else { throw MTError.usage("show needs one scale NAME (and at most one SERVER)", usage: usage) }
            let server = args.count == 2 ? try context.loadConfig().server(named: args[1]) : nil
            let catalogue = try ScaleCatalogue.standard(server: server, study: study, environment: context.environment)
            let spec = try CatalogueText.spec(args[0], in: catalogue)
            context.stdout.write(json ? JSONWriter.bytes(CatalogueText.json(spec, catalogue: catalogue), pretty: true) + [0x0A]
                                      : Array(CatalogueText.show(spec, catalogue: catalogue).utf8))
            return .ok
        case "check":
            guard !args.isEmpty else { throw MTError.usage("check needs FILE.csv", usage: usage) }
            let catalogue = try ScaleCatalogue.standard(server: nil, study: study, environment: context.environment)
            let results = try args.map { try ColumnCheck.run(file: $0, scale: scale, catalogue: catalogue) }
            if json {
                context.stdout.write(JSONWriter.bytes(.array(results.map(\.json)), pretty: true) + [0x0A])
            } else {
                for r in results { context.stdout.write(Untrusted.message(r.text)) }
            }
            return results.allSatisfy(\.isClean) ? .ok : .problems
        default:
            if local {
                guard args.isEmpty else { throw MTError.usage("--local takes no SERVER", usage: usage) }
                let catalogue = try ScaleCatalogue.standard(server: nil, study: study, environment: context.environment)
                context.stdout.write(json ? JSONWriter.bytes(.array(catalogue.scalesOfStudy.map { CatalogueText.json($0, catalogue: catalogue) }), pretty: true) + [0x0A]
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
