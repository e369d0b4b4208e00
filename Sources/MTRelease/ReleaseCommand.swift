import Foundation
import MTCore

/// `mt release`: a de-identified data package of one server's active CSVs, for sharing.
public struct ReleaseCommand: Command {
    public static let name = "release"
    public static let summary = "a de-identified data package of a server's CSVs for sharing (OSF, a journal)"
    public static let usage = """
        mt release SERVER --profile FILE --output DIR [--secret FILE]
        """
    public static let help = """
        Reads SERVER's active CSVs (decrypted) and writes DIR: one CSV per scale (RFC 4180, its files joined,
        columns matched by name), profile.yaml (the profile as used), README.md (what was done to every column),
        manifest.json (mt's version, every file's SHA-256 and rows) and SHA256SUMS. The package is built in a
        temporary folder beside DIR and renamed into place, so DIR is either absent or whole; an existing DIR
        must be empty.

        Every column has a role from the catalogue (columns.roles in config/scales.yaml; a scale's items are
        `item`, or `free-text` where their rule is `type: text`): identifier, free-text, date,
        quasi-identifier, item. The participant's columns (participantRSA, participant, TaskLog's
        participantdao_id, the participant table's id) are identifiers that carry the participant's pseudonym.
        A column with no role is dropped. The profile (PROFILE in mt-release(1)) says per role: keep, drop,
        pseudonymise (HMAC-SHA-256 keyed by the lab's secret), shift (dates, by a per-participant offset of
        whole days) or coarsen (dates to the month, numbers to bands). The secret is read from --secret FILE or
        the profile's `secret:` and is never written to the package.
        """

    public static let options: [OptionSpec] = [
        .value("--profile", "FILE", "the release profile (YAML): what happens to each column role"),
        .value("--output", short: "-o", "DIR", "the package folder to create (absent or empty)"),
        .value("--secret", "FILE", "the lab's secret for pseudonyms and shifts (overrides the profile's secret:)"),
    ]

    public static let exitStatus = """
        EXIT STATUS
          0   the package was written
          64  usage error (no SERVER, --profile or --output)
          65  a CSV still holds RSA ciphertext (decrypt it first)
          66  the data directory, the profile or the secret's file does not exist
          73  DIR exists and is not an empty folder, or cannot be created
          74  a file could not be written (disk full); nothing is left in DIR
          75  an export holds the lock, or a CSV append or a withdrawal is unfinished
          77  the secret's file is readable by group or others
          78  configuration error: a bad profile (its file and line are named), a secret too short or missing
        """

    public static func run(_ arguments: [String], context: CommandContext) throws -> ExitCode {
        var p = ArgumentParser(arguments, for: Self.self)
        let profilePath = try p.value("--profile")
        let output = try p.value("--output")
        let secretOption = try p.value("--secret")
        let args = try p.positionals(max: 1)
        guard let serverName = args.first, serverName != "." else {
            throw MTError.usage("name one SERVER: a release is made from one data directory", usage: usage)
        }
        guard let profilePath else { throw MTError.usage("--profile FILE is required", usage: usage) }
        guard let output, !output.isEmpty else { throw MTError.usage("--output DIR is required", usage: usage) }
        let profile = try ReleaseProfile.load(path: profilePath)
        var secret: [UInt8] = []
        if profile.needsSecret {
            guard let path = secretOption ?? profile.secretFile else {
                throw MTError(.config, "\(profilePath): the profile pseudonymises or shifts, which needs the lab's secret",
                              hint: "give it with --secret FILE, or `secret: FILE` in the profile (e.g. head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE)")
            }
            secret = try readSecret(path, allowReadable: context.global.allowReadableSecrets)
        }
        let server = try context.loadConfig().server(named: serverName)
        let layout = DataLayout(server: server)
        guard FileSystem.isDirectory(layout.root) else {
            throw MTError(.noInput, "server \(server.name): the data directory \(layout.root) does not exist",
                          hint: "check PATH in the config")
        }
        let catalogue = try ScaleCatalogue.standard(server: server, environment: context.environment)
        let design = try StudyDesign.load(catalogue: catalogue)
        let target = absolute(output.hasSuffix("/") && output.count > 1 ? String(output.dropLast()) : output)
        try checkTarget(target)

        let lock = try DirectoryLock(directory: server.path)
        defer { lock.release() }
        for scale in try layout.exportStateScales() where try ExportScaleState.load(scale: scale, layout: layout).pending != nil {
            throw MTError(.tempFail, "server \(server.name): export left a CSV append of \(scale) unfinished",
                          hint: "run mt export \(server.name) first (it finishes the append), then mt release again")
        }
        if FileSystem.exists(layout.withdrawalJournal) {
            throw MTError(.tempFail, "server \(server.name): a withdrawal is unfinished (\(layout.withdrawalJournal))",
                          hint: "run mt withdraw \(server.name) --yes to finish it, then mt release again")
        }
        let release = Release(layout: layout, catalogue: catalogue, design: design, profile: profile, secret: secret)
        let parent = (target as NSString).deletingLastPathComponent
        if !FileSystem.isDirectory(parent) { try FileSystem.makeDirectories(parent) }
        removeStaleTemporaries(of: target)
        let tmp = parent + "/.\((target as NSString).lastPathComponent).release-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let reports: [Release.ScaleReport]
        do {
            try FileSystem.makeDirectories(tmp, mode: 0o755)
            reports = try release.build(into: tmp, server: server.name, version: MTVersion.current, now: Date())
            try FileSystem.syncDirectory(tmp)
            // An empty DIR is replaced by the rename (rename(2) replaces an empty folder).
            try FileSystem.renameDurably(tmp, to: target)
        } catch {
            Self.removeFolder(tmp)
            throw error
        }
        if context.global.verbosity != .quiet {
            context.stdout.line("\(output): \(reports.count) scales, \(reports.reduce(0) { $0 + $1.rows }) rows (README.md says what was done to each column)")
        }
        return .ok
    }

    /// The secret's bytes (a trailing newline is not part of it); at least 16 bytes, private to its owner.
    static func readSecret(_ path: String, allowReadable: Bool) throws -> [UInt8] {
        guard FileSystem.exists(path) else {
            throw MTError(.noInput, "the secret's file \(path) does not exist",
                          hint: "make one: head -c 32 /dev/urandom | base64 > \(FileSystem.shellQuote(path)); chmod 600 \(FileSystem.shellQuote(path)); keep it with the lab, never in a package")
        }
        try FileSystem.checkPrivate(path, what: "the secret's file", allowReadable: allowReadable)
        var bytes = try FileSystem.read(path)
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard bytes.count >= 16 else {
            throw MTError(.config, "the secret in \(path) is \(bytes.count) bytes; pseudonyms need at least 16",
                          hint: "make a longer one: head -c 32 /dev/urandom | base64 > \(FileSystem.shellQuote(path))")
        }
        return bytes
    }

    /// The temporary folder goes beside DIR, so DIR's parent must be named: a relative DIR is made absolute.
    static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }

    static func checkTarget(_ target: String) throws {
        var st = stat()
        guard lstat(target, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFDIR, (try FileSystem.list(target)).isEmpty else {
            throw MTError(.cantCreate, "\(target) exists and is not an empty folder; a release never writes over anything",
                          hint: "name a new folder with --output, or move \(target) aside")
        }
    }

    /// Temporary folders of DIR that killed runs left (`.DIR.release-PID-…` whose process is gone).
    static func removeStaleTemporaries(of target: String) {
        let parent = (target as NSString).deletingLastPathComponent
        let prefix = ".\((target as NSString).lastPathComponent).release-"
        for name in (try? FileSystem.list(parent)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            removeFolder(parent + "/" + name)
        }
    }

    /// The temporary package folder of a failed run: only files this run wrote.
    static func removeFolder(_ dir: String) {
        for name in (try? FileSystem.list(dir)) ?? [] { unlink(dir + "/" + name) }
        rmdir(dir)
    }
}
