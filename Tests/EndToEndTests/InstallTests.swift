import Foundation
import MTCore
import MTTestSupport
import Testing

/// `make install` lists what it installs, and `make uninstall` removes exactly that without the source tree;
/// `make dist` holds exactly the committed files with VERSION and the commit in it.
@Suite struct InstallTests {
    @Test func installWritesAManifestAndUninstallNeedsNoSourceTree() throws {
        let dir = try TempDir("mt-install")
        defer { dir.remove() }
        let root = Products.packageRoot
        let stage = dir.file("stage")
        let prefix = "/opt/mt-test"
        let r = try Run.program(root + "/scripts/install.sh", [stage, prefix, Products.mt])
        #expect(r.code == 0, "\(r.stdout)\(r.stderr)")
        let manifest = try FileSystem.readString(stage + prefix + "/share/mt/install-manifest")
            .split(separator: "\n").map(String.init)
        for f in ["/bin/mt", "/share/man/man5/mt-config.5", "/share/man/man1/mt.1", "/share/mt/scales.yaml",
                  "/share/doc/mt/examples/server.yaml.sample", "/share/bash-completion/completions/mt",
                  "/share/mt/systemd/mt-export.service", "/share/mt/systemd/mt-status.timer",
                  "/share/mt/systemd/mt.sysusers", "/share/mt/uninstall.sh", "/share/mt/install-manifest"] {
            #expect(manifest.contains(prefix + f), "manifest lacks \(f)")
        }
        #expect(!manifest.contains { $0.hasSuffix("mt-sim.1") })
        for f in manifest { #expect(FileSystem.exists(stage + f), "\(f) listed but not installed") }
        let unit = try FileSystem.readString(stage + prefix + "/share/mt/systemd/mt-export.service")
        #expect(unit.contains("\nExecStart=\(prefix)/bin/mt --config /etc/mt/config.yaml export -q\n"))

        // From a folder that is no source tree, with nothing but the installed files.
        let u = try Run.program("/bin/sh", [stage + prefix + "/share/mt/uninstall.sh", stage], cwd: dir.path)
        #expect(u.code == 0, "\(u.stdout)\(u.stderr)")
        #expect(u.stdout.contains("removed \(manifest.count) files"))
        let left = try Run.program("/usr/bin/find", [stage, "-not", "-type", "d"])
        #expect(left.stdout.isEmpty, "left behind: \(left.stdout)")
        #expect(!FileSystem.exists(stage + prefix + "/share/mt"))
        // Shared folders stay, even empty: other software expects them.
        #expect(FileSystem.isDirectory(stage + prefix + "/bin"))

        let again = try Run.program("/bin/sh", [root + "/scripts/uninstall.sh", stage], cwd: dir.path)
        #expect(again.code == 66 && again.stderr.contains("no install manifest"), "\(again.stderr)")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: Products.packageRoot + "/.git")))
    func distHoldsExactlyTheCommittedFilesWithVersionAndCommit() throws {
        let root = Products.packageRoot
        let version = try FileSystem.readString(root + "/VERSION").trimmingCharacters(in: .whitespacesAndNewlines)
        let dir = try TempDir("mt-dist")
        defer { dir.remove() }
        let tarball = dir.file("mt.tar.gz")
        // make dist's own command, written to a temporary file so that parallel runs do not share out/.
        let make = try FileSystem.readString(root + "/Makefile")
        #expect(make.contains("git archive --format=tar.gz --prefix=mt-$(VERSION)/ -o out/mt-$(VERSION).tar.gz HEAD"))
        let a = try Run.program("/usr/bin/git", ["-C", root, "archive", "--format=tar.gz", "--prefix=mt-\(version)/", "-o", tarball, "HEAD"])
        #expect(a.code == 0, "\(a.stderr)")
        let listed = try Run.program("/bin/tar", ["-tzf", tarball]).stdout.split(separator: "\n")
            .filter { !$0.hasSuffix("/") }.map { String($0.dropFirst("mt-\(version)/".count)) }.sorted()
        let tracked = try Run.program("/usr/bin/git", ["-C", root, "ls-tree", "-r", "--name-only", "HEAD"]).stdout
            .split(separator: "\n").map(String.init).sorted()
        #expect(listed == tracked)
        #expect(listed.contains("VERSION") && listed.contains("debian/changelog"))
        let commit = try Run.program("/usr/bin/git", ["-C", root, "rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let x = try Run.program("/bin/tar", ["-xzOf", tarball, "mt-\(version)/Sources/CBuildInfo/archive_commit.h"])
        #expect(x.stdout.contains("#define MT_ARCHIVE_COMMIT \"\(commit)\""), "\(x.stdout)")
    }
}
