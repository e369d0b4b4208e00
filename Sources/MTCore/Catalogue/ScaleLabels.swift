import Foundation
import Yams

/// What a study's question page shows of a scale (config/labels.yaml, written by scripts/labels.py from
/// `<study>/src/main/resources/templates/questions/<Scale>.html` in TeachmanLab/MT-Java): each item's question
/// text, each coded answer's label, the page's no-answer codes, and where the page and its Java class disagree.
public struct ScaleLabels: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var text: String?
        /// Coded answer → label, by code.
        public var values: [(Int, String)]

        public static func == (a: Item, b: Item) -> Bool {
            a.text == b.text && a.values.map(\.0) == b.values.map(\.0) && a.values.map(\.1) == b.values.map(\.1)
        }
    }

    public var study: String
    /// The page the labels were read from, as a path inside MT-Java.
    public var source: String
    public var items: [String: Item]
    /// No-answer code → label ("Prefer not to answer"), by code.
    public var noAnswer: [(Int, String)]
    public var disagrees: String?

    public static func == (a: ScaleLabels, b: ScaleLabels) -> Bool {
        a.study == b.study && a.source == b.source && a.items == b.items && a.disagrees == b.disagrees
            && a.noAnswer.map(\.0) == b.noAnswer.map(\.0) && a.noAnswer.map(\.1) == b.noAnswer.map(\.1)
    }

    /// The label of a coded answer or a no-answer code of `item`.
    public func label(_ item: String, _ code: Int) -> String? {
        items[item]?.values.first { $0.0 == code }?.1 ?? noAnswer.first { $0.0 == code }?.1
    }

    /// study → scale → labels, from a labels file.
    public static func load(path: String) throws -> [String: [String: ScaleLabels]] {
        let text = try FileSystem.readString(path)
        func fail(_ n: Node?, _ what: String) -> MTError {
            MTError(.config, "\(path):\(n?.mark?.line ?? 0): \(what)", hint: "rewrite it with scripts/labels.py PATH/TO/MT-Java")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw MTError(.config, "\(path): not valid YAML: \(error)") }
        guard case .mapping(let top)? = root, case .mapping(let studies)? = top["studies"] else {
            throw fail(root, "expected `studies:` mapping study names to scales")
        }
        func codes(_ n: Node?) throws -> [(Int, String)] {
            guard let n else { return [] }
            guard case .mapping(let m) = n else { throw fail(n, "labels map codes to text") }
            return try m.map { k, v in
                guard let code = k.string.flatMap(Int.init), let label = v.string else { throw fail(k, "a label is a whole-number code and its text") }
                return (code, label)
            }.sorted { $0.0 < $1.0 }
        }
        var out: [String: [String: ScaleLabels]] = [:]
        for (sk, sv) in studies {
            guard let study = sk.string, case .mapping(let scales) = sv else { throw fail(sk, "each study maps scale names to labels") }
            for (k, v) in scales {
                guard let scale = k.string, case .mapping(let f) = v, let source = f["source"]?.string else {
                    throw fail(k, "each scale needs its source page")
                }
                var items: [String: Item] = [:]
                if case .mapping(let im)? = f["items"] {
                    for (ik, iv) in im {
                        guard let name = ik.string else { throw fail(ik, "item names are text") }
                        items[name] = Item(text: iv["text"]?.string, values: try codes(iv["labels"]))
                    }
                }
                out[study, default: [:]][scale] = ScaleLabels(study: study, source: source, items: items,
                                                              noAnswer: try codes(f["noAnswer"]), disagrees: f["disagrees"]?.string)
            }
        }
        return out
    }
}

extension ScaleCatalogue {
    /// The catalogue with each scale's labels: the chosen study's page, or, for the shared base, the page of
    /// the study its definition was read from (`source: MindTrails r01 …`).
    public func labelled(by sets: [String: [String: ScaleLabels]]) -> ScaleCatalogue {
        var out = self
        for i in out.scales.indices {
            let s = out.scales[i]
            let study = study?.name ?? s.source.flatMap(Self.citedStudy)
            out.scales[i].labels = study.flatMap { sets[$0]?[s.name] }
        }
        return out
    }

    /// `MindTrails r01 and kaiser persistence/…` → r01.
    static func citedStudy(_ source: String) -> String? {
        let words = source.split(separator: " ")
        guard let i = words.firstIndex(of: "MindTrails"), i + 1 < words.count else { return nil }
        return String(words[i + 1])
    }

    /// Where the labels of a catalogue file are: `labels.yaml` beside it.
    public static func labelsPath(besides catalogue: String) -> String {
        (catalogue as NSString).deletingLastPathComponent.isEmpty ? "labels.yaml"
            : (catalogue as NSString).deletingLastPathComponent + "/labels.yaml"
    }
}
