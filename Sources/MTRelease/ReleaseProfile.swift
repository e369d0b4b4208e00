import Foundation
import MTCore
import Yams

/// What `mt release` does to each column role, read from the profile (YAML). See mt-release(1), PROFILE.
struct ReleaseProfile: Sendable, Equatable {
    enum Action: String, Sendable, CaseIterable {
        case keep, drop, pseudonymise, shift, coarsen
    }

    /// The actions that make sense for a role: an identifier is never coarsened, free text never shifted.
    static let allowed: [ColumnRole: [Action]] = [
        .identifier: [.keep, .drop, .pseudonymise],
        .freeText: [.keep, .drop],
        .date: [.keep, .drop, .shift, .coarsen],
        .quasiIdentifier: [.keep, .drop, .coarsen],
        .item: [.keep, .drop],
    ]

    /// Per role; a role the profile leaves out is dropped.
    var actions: [ColumnRole: Action] = [:]
    /// The file holding the lab's secret (`secret:`), relative to the profile's folder unless absolute.
    var secretFile: String?
    /// A shifted participant's dates move by one to `shiftDays` days (to the second), earlier or later.
    var shiftDays = 365
    /// Coarsened numbers fall into bands this wide.
    var band = 10

    func action(_ role: ColumnRole) -> Action { actions[role] ?? .drop }

    /// Whether a secret is needed: pseudonyms and shifts are keyed by it.
    var needsSecret: Bool { actions.values.contains { $0 == .pseudonymise || $0 == .shift } }

    static func load(path: String) throws -> ReleaseProfile {
        guard FileSystem.exists(path) else {
            throw MTError(.noInput, "the release profile \(path) does not exist",
                          hint: "see PROFILE in mt-release(1); config/release-profile.yaml is an example")
        }
        return try parse(FileSystem.readString(path), source: path)
    }

    static func parse(_ text: String, source: String) throws -> ReleaseProfile {
        func fail(_ node: Node?, _ what: String) -> MTError {
            MTError(.config, "\(source):\(node?.mark?.line ?? 1): \(what)", hint: "see PROFILE in mt-release(1)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw MTError(.config, "\(source): not valid YAML: \(error)", hint: "see PROFILE in mt-release(1)")
        }
        guard let root, case .mapping(let top) = root else {
            throw fail(root, "expected a mapping with `roles:` at the top level")
        }
        var profile = ReleaseProfile()
        for (k, v) in top {
            switch k.string ?? "" {
            case "roles":
                guard case .mapping(let m) = v else { throw fail(v, "`roles` must map each column role to an action") }
                for (rk, rv) in m {
                    guard let role = ColumnRole(rawValue: rk.string ?? "") else {
                        throw fail(rk, "unknown column role '\(rk.string ?? "")' (roles: \(ColumnRole.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    guard let action = Action(rawValue: rv.string ?? "") else {
                        throw fail(rv, "unknown action '\(rv.string ?? "")' for \(role.rawValue) (actions: \(Action.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    let ok = allowed[role] ?? []
                    guard ok.contains(action) else {
                        throw fail(rv, "\(role.rawValue) cannot be set to \(action.rawValue) (for \(role.rawValue): \(ok.map(\.rawValue).joined(separator: ", ")))")
                    }
                    profile.actions[role] = action
                }
            case "secret":
                guard let s = v.string, !s.isEmpty else { throw fail(v, "`secret` names the file holding the lab's secret") }
                profile.secretFile = s.hasPrefix("/") ? s : (source as NSString).deletingLastPathComponent.isEmpty
                    ? s : (source as NSString).deletingLastPathComponent + "/" + s
            case "shiftDays":
                guard let n = v.string.flatMap({ Int($0) }), (1...36_500).contains(n) else {
                    throw fail(v, "`shiftDays` must be a whole number of days from 1 to 36500")
                }
                profile.shiftDays = n
            case "band":
                guard let n = v.string.flatMap({ Int($0) }), (2...1_000_000).contains(n) else {
                    throw fail(v, "`band` must be a whole number from 2 to 1000000")
                }
                profile.band = n
            default:
                throw fail(k, "unknown key '\(k.string ?? "")' (keys: roles, secret, shiftDays, band)")
            }
        }
        return profile
    }

    /// The profile as used, for the package: every role's action, the shift and band; never the secret's file.
    var yaml: String {
        var out = "# mt release profile as used (the secret's file is not recorded)\nroles:\n"
        for role in ColumnRole.allCases { out += "  \(role.rawValue): \(action(role).rawValue)\n" }
        out += "shiftDays: \(shiftDays)\nband: \(band)\n"
        return out
    }
}
