import Foundation

/// The `"format": "<name>/<version>"` of a self-describing file mt writes. A version newer than this binary
/// knows is refused (78), never read as if it were the old shape and rewritten as one: that would drop what the
/// newer mt recorded. An older version is read as it is and written back in the current one, which is its
/// migration (mt-export(1), "Upgrading" in README.md).
public struct FileFormat: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let version: Int

    public init(_ name: String, _ version: Int) {
        self.name = name
        self.version = version
    }

    public var description: String { "\(name)/\(version)" }

    /// The version the file at `path` declares (nil when it declares none: a file of the first versions); throws
    /// for another format's name, or for a version newer than this one.
    @discardableResult
    public func check(_ value: JSONValue?, path: String) throws -> Int? {
        guard let value else { return nil }
        guard let text = value.stringValue, let slash = text.lastIndex(of: "/"),
              let found = Int(text[text.index(after: slash)...]), found > 0 else {
            throw MTError(.dataError, "\(path): its \"format\" is not \(name)/<version>")
        }
        guard text[..<slash] == name else {
            throw MTError(.dataError, "\(path): format \(Untrusted.text(text)) is not \(name)")
        }
        guard found <= version else {
            throw MTError(.config, "\(path) is format \(name)/\(found), written by a newer mt than this one (which knows \(self))",
                          hint: "run the newer mt, or upgrade this one; this version leaves the file untouched")
        }
        return found
    }
}
