import Foundation
import MTCore
@testable import MTRelease
import Testing

@Suite struct ReleaseUnitTests {
    @Test func aProfileReadsEveryRoleAndItsSettings() throws {
        let p = try ReleaseProfile.parse("""
            secret: lab.secret
            shiftDays: 30
            band: 5
            roles:
              identifier: pseudonymise
              free-text: drop
              date: shift
              quasi-identifier: coarsen
              item: keep
            """, source: "/labs/x/profile.yaml")
        #expect(p.action(.identifier) == .pseudonymise && p.action(.date) == .shift && p.action(.item) == .keep)
        #expect(p.secretFile == "/labs/x/lab.secret" && p.shiftDays == 30 && p.band == 5 && p.needsSecret)
        // A role left out is dropped, and the profile as used never names the secret's file.
        let q = try ReleaseProfile.parse("roles:\n  item: keep\n", source: "p.yaml")
        #expect(q.action(.identifier) == .drop && !q.needsSecret)
        #expect(!p.yaml.contains("secret:") && p.yaml.contains("quasi-identifier: coarsen"))
    }

    @Test func aBadProfileNamesItsFileAndLine() {
        func error(_ text: String) -> MTError? {
            do { _ = try ReleaseProfile.parse(text, source: "p.yaml"); return nil } catch { return error as? MTError }
        }
        let role = error("roles:\n  item: keep\n  identifer: drop\n")
        #expect(role?.exitCode == .config && role?.message.hasPrefix("p.yaml:3: unknown column role 'identifer'") == true, "\(String(describing: role))")
        let action = error("roles:\n  date: blur\n")
        #expect(action?.message.hasPrefix("p.yaml:2: unknown action 'blur' for date") == true, "\(String(describing: action))")
        let wrong = error("roles:\n  identifier: coarsen\n")
        #expect(wrong?.message.hasPrefix("p.yaml:2: identifier cannot be set to coarsen (for identifier: keep, drop, pseudonymise)") == true, "\(String(describing: wrong))")
        #expect(error("role:\n  item: keep\n")?.message.hasPrefix("p.yaml:1: unknown key 'role'") == true)
        #expect(error("shiftDays: 0\n")?.exitCode == .config)
        #expect(error("- a\n")?.exitCode == .config)
    }

    @Test func coarsenedNumbersFallIntoBands() {
        #expect(Release.coarsenNumber("37", band: 10) == "30-39")
        #expect(Release.coarsenNumber("1984", band: 10) == "1980-1989")
        #expect(Release.coarsenNumber("-3", band: 10) == "-10--1")
        #expect(Release.coarsenNumber("42.5", band: 5) == "40-44")
        #expect(Release.coarsenNumber("Female", band: 10) == "")
        #expect(Release.month(EntryDate.parse("Tue, 03 Apr 2018 23:05:09 -0400")!) == "2018-04")
    }

    @Test func theCatalogueTagsColumnsExactNamesFirstThenItemsThenPatterns() throws {
        let catalogue = try ScaleCatalogue.parse("""
            columns:
              roles:
                identifier: [id, "*RSA"]
                quasi-identifier: [birthYear]
                date: [date]
            scales:
              Demo:
                items: [birthYear, story, score]
                valid:
                  - {items: [story], type: text}
                  - {range: [0, 4]}
            """, source: "c.yaml")
        let spec = catalogue.spec(for: "Demo")
        #expect(catalogue.roles.role(of: "birthYear", in: spec) == .quasiIdentifier)
        #expect(catalogue.roles.role(of: "story", in: spec) == .freeText)
        #expect(catalogue.roles.role(of: "score", in: spec) == .item)
        #expect(catalogue.roles.role(of: "emailRSA", in: spec) == .identifier)
        #expect(catalogue.roles.role(of: "notes", in: spec) == nil)
        #expect(throws: MTError.self) { try ScaleCatalogue.parse("columns:\n  roles:\n    secret: [x]\nscales: {}\n", source: "c.yaml") }
        // A lab's CATALOGUE file retags a column: its tag wins, the others stay.
        let lab = try ScaleCatalogue.parse("columns:\n  roles:\n    item: [birthYear]\n    free-text: [notes]\nscales: {}\n", source: "lab.yaml")
        let both = catalogue.overridden(by: lab)
        #expect(both.roles.role(of: "birthYear", in: spec) == .item && both.roles.role(of: "notes", in: spec) == .freeText)
        #expect(both.roles.role(of: "date", in: spec) == .date)
    }

    @Test func shiftsAreADayToShiftDaysEitherWayAndOnePerParticipant() throws {
        let dir = NSTemporaryDirectory() + "/mt-release-unit-\(getpid())"
        try FileSystem.makeDirectories(dir)
        defer { unlink(dir + "/c.yaml"); rmdir(dir) }
        try FileSystem.writeAtomically(Array("scales: {}\n".utf8), to: dir + "/c.yaml")
        let catalogue = try ScaleCatalogue.load(path: dir + "/c.yaml")
        var profile = ReleaseProfile()
        profile.shiftDays = 3
        let r = Release(layout: DataLayout(root: "/nonexistent"), catalogue: catalogue,
                        design: try StudyDesign.load(catalogue: catalogue), profile: profile, secret: Array("0123456789abcdef".utf8))
        var seen = Set<Int64>()
        for p in 0..<200 {
            let s = r.shiftSeconds(for: "participant\n\(p)")
            #expect(abs(s) >= 86_400 && abs(s) <= 3 * 86_400)
            #expect(s == r.shiftSeconds(for: "participant\n\(p)"))
            seen.insert(s)
        }
        #expect(seen.contains { $0 < 0 } && seen.contains { $0 > 0 } && seen.count > 150)
        #expect(r.participantPseudonym("7") == r.participantPseudonym("7") && r.participantPseudonym("7") != r.pseudonym("7", column: "id"))
        #expect(r.participantPseudonym("7").count == 17 && r.participantPseudonym("7").hasPrefix("P"))
    }
}
