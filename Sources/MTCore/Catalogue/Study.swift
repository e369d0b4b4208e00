/// A MindTrails study (`r34`, `r01`, `kaiser`, `templeton`): the servers ran different code, so the same
/// table can have different items, no-answer codes and scores. A server's `STUDY` key, or `--study`, chooses one.
/// Study-level facts beyond the questionnaires hang on this name too.
public struct Study: Sendable, Hashable, CustomStringConvertible {
    public var name: String

    public init(_ name: String) { self.name = name }

    public var description: String { name }
}

/// A study's section of the catalogue (`studies: {r34: {source:, scales:}}`): the scales whose definition
/// differs from the shared base in that study, each replacing the base's whole.
public struct StudyDefinition: Sendable {
    public var study: Study
    public var title: String
    public var source: String?
    public var scales: [ScaleSpec]

    public init(study: Study, title: String, source: String?, scales: [ScaleSpec]) {
        self.study = study
        self.title = title
        self.source = source
        self.scales = scales
    }
}
