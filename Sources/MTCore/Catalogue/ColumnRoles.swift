/// What a column is, for a de-identified release (`mt release`, the catalogue's `columns.roles`).
public enum ColumnRole: String, Sendable, CaseIterable {
    case identifier
    case freeText = "free-text"
    case date
    case quasiIdentifier = "quasi-identifier"
    case item
}

/// The catalogue's column tags: names (exact, or with a leading or trailing `*`) per role.
public struct ColumnRoles: Sendable, Equatable {
    public var names: [ColumnRole: [String]] = [:]

    public init(names: [ColumnRole: [String]] = [:]) { self.names = names }

    /// A lab file's tags over these: a name it tags leaves the role it had here.
    public func overridden(by other: ColumnRoles) -> ColumnRoles {
        let retagged = Set(other.names.values.joined())
        var out = ColumnRoles(names: names.mapValues { $0.filter { !retagged.contains($0) } })
        for (role, list) in other.names { out.names[role, default: []] += list }
        return out
    }

    /// The role of `column` in `scale`, nil when nothing tags it (`mt release` drops such a column). An exact name
    /// in `columns.roles` comes first (so a demographic answer such as birthYear is a quasi-identifier although it
    /// is one of the scale's items), then the scale's own facts (an item with a `type: text` rule is free text,
    /// any other item an item), then the patterns.
    public func role(of column: String, in scale: ScaleSpec?) -> ColumnRole? {
        for role in ColumnRole.allCases where names[role]?.contains(column) == true { return role }
        if let scale, scale.items.contains(column) {
            if case .text? = scale.rule(for: column)?.check { return .freeText }
            return .item
        }
        for role in ColumnRole.allCases
        where names[role]?.contains(where: { $0.contains("*") && ValueRule.glob($0, column) }) == true {
            return role
        }
        return nil
    }
}
