import PVecAlgebra
import PVecStore
import PVecTensor

/// Where similarity between prompts is measured.
///
/// SPoT (Vu et al. 2022) compares prompts themselves; Belanec et al. (2024) compare task
/// prompt vectors (tuned − init), which removes the shared random init from the comparison.
public enum SimilaritySpace: String, Sendable, CaseIterable {
    /// Cosine of the stored prompts, flattened.
    case prompt
    /// Cosine of task vectors: vectors as stored, prompts with a recorded init as tuned − init.
    case vector
}

/// The recipe of an init built from similar registry prompts (recipe op `spot`), after SPoT
/// (Vu et al. 2022, "SPoT: Better Frozen Model Adaptation through Soft Prompt Transfer", §4).
///
/// - `spot-t` (K = 1): the most similar source prompt itself (their targeted transfer).
/// - `spot-s` (K > 1): the average of the top K source prompts, weighted by their cosine
///   similarity (Σ s_i P_i / Σ s_i) when `weighted`, else the plain mean.
///
/// The scores are recorded (as the Float cosines, exactly) with the chosen sources as parents of
/// role `source`, best first, so the tensor is recomputed bit for bit from them with
/// `Merge.linear`; the ranking that chose them depended on the registry at the time and is
/// recorded, not recomputed.
public struct SpotRecipe: TypedRecipe {
    /// The op name recorded in manifests: `spot`.
    public static let op = "spot"

    /// Cosines of the chosen sources, best first.
    public var scores: [Float]
    /// Average weighted by `scores` (only matters for K > 1).
    public var weighted: Bool
    /// Which space the similarity was measured in.
    public var space: SimilaritySpace
    /// The artifact the sources were similar to (provenance only; not a parent, as no byte of
    /// it reaches the result).
    public var similarTo: ArtifactID
    /// Candidates were limited to artifacts with this tag (provenance only).
    public var amongTag: String?

    /// A spot recipe, as `initFromSimilar` makes it from its ranking.
    ///
    /// An empty `scores` is not refused here; `init(params:)` refuses it when read back.
    ///
    /// - Parameters:
    ///   - scores: the chosen sources' cosines, best first, one per `source` parent.
    ///   - weighted: weight the average by `scores` (matters only for more than one source).
    ///   - space: where the cosines were measured.
    ///   - similarTo: the query the sources were ranked against.
    ///   - amongTag: the tag candidates were limited to, if any.
    public init(scores: [Float], weighted: Bool, space: SimilaritySpace, similarTo: ArtifactID, amongTag: String? = nil) {
        self.scores = scores
        self.weighted = weighted
        self.space = space
        self.similarTo = similarTo
        self.amongTag = amongTag
    }

    /// K, the number of sources chosen (one per score).
    public var top: Int { scores.count }
    /// The recorded method, which K decides: `spot-t` for one source, `spot-s` for more.
    public var method: String { top == 1 ? "spot-t" : "spot-s" }

    /// The parameters as recorded: `method`, `top`, `by`, `scores` (Doubles holding the Float
    /// cosines exactly), `weighted`, `similar_to` (hex id), and `among_tag` when set.
    public var params: [String: JSONValue] {
        var p: [String: JSONValue] = [
            "method": .string(method),
            "top": .int(Int64(top)),
            "by": .string(space.rawValue),
            "scores": .array(scores.map { .double(Double($0)) }),
            "weighted": .bool(weighted),
            "similar_to": .string(similarTo.hex),
        ]
        if let amongTag { p["among_tag"] = .string(amongTag) }
        return p
    }

    /// Reads a recorded `spot` recipe.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming the parameter: `scores` not a non-empty
    ///   list of numbers, `by` not prompt or vector, `similar_to` not an id, `weighted` or
    ///   `among_tag` of the wrong kind, `method` or `top` not what the scores make (spot-t for
    ///   one score, spot-s for more; top the number of scores).
    public init(params p: [String: JSONValue]) throws {
        let op = Self.op
        let s = try RecipeField.doubles(p, "scores", op: op)
        guard !s.isEmpty else { throw StoreError.malformedRecipe(op: op, reason: "parameter 'scores' is empty") }
        let by = try RecipeField.string(p, "by", op: op)
        guard let space = SimilaritySpace(rawValue: by) else {
            throw StoreError.malformedRecipe(op: op, reason: "parameter 'by' is \(TerminalText.quoted(by)), not prompt or vector")
        }
        let hex = try RecipeField.string(p, "similar_to", op: op)
        guard let id = ArtifactID(hex) else {
            throw StoreError.malformedRecipe(op: op, reason: "parameter 'similar_to' is \(TerminalText.quoted(hex)), not an artifact id")
        }
        self.init(scores: s.map { Float($0) }, weighted: try RecipeField.optional(p, "weighted", op: op, RecipeField.bool) ?? false,
                  space: space, similarTo: id, amongTag: try RecipeField.optional(p, "among_tag", op: op, RecipeField.string))
        if let m = try RecipeField.optional(p, "method", op: op, RecipeField.string), m != method {
            throw StoreError.malformedRecipe(op: op, reason: "parameter 'method' is \(TerminalText.quoted(m)) but \(top) score\(top == 1 ? "" : "s") make \(method)")
        }
        if let t = try RecipeField.optional(p, "top", op: op, RecipeField.int), t != Int64(top) {
            throw StoreError.malformedRecipe(op: op, reason: "parameter 'top' is \(t) but \(top) score\(top == 1 ? " is" : "s are") recorded")
        }
    }

    /// The init from the chosen source prompts, best first.
    ///
    /// - Throws: `OpsError.notRecomputable` when the sources do not match the scores,
    ///   `AlgebraError` for shapes or weights `Merge.linear` refuses.
    public func apply(_ sources: [Tensor]) throws -> Tensor {
        guard sources.count == scores.count else {
            throw OpsError.notRecomputable("spot recorded \(scores.count) scores but has \(sources.count) sources")
        }
        if sources.count == 1 { return sources[0] }
        return try Merge.linear(sources, weights: weighted ? scores : nil)
    }
}
