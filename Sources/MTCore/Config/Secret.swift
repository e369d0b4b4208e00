/// A password: printing it, interpolating it or logging it shows `<redacted>`, never the text.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let reveal: String
    public init(_ value: String) { reveal = value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
