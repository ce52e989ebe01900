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
public struct SpotRecipe: Hashable, Sendable {
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

    public init(scores: [Float], weighted: Bool, space: SimilaritySpace, similarTo: ArtifactID, amongTag: String? = nil) {
        self.scores = scores
        self.weighted = weighted
        self.space = space
        self.similarTo = similarTo
        self.amongTag = amongTag
    }

    public var top: Int { scores.count }
    public var method: String { top == 1 ? "spot-t" : "spot-s" }

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

    public var recipe: Recipe { Recipe(op: "spot", params: params) }

    /// Reads a recorded `spot` recipe.
    ///
    /// - Throws: `OpsError.notRecomputable` naming what is missing.
    public init(params p: [String: JSONValue]) throws {
        guard let a = p["scores"]?.arrayValue else { throw OpsError.notRecomputable("spot recipe lacks 'scores'") }
        let s = a.compactMap(\.doubleValue)
        guard s.count == a.count, !s.isEmpty else { throw OpsError.notRecomputable("spot scores must be a non-empty list of numbers") }
        guard let by = p["by"]?.stringValue, let space = SimilaritySpace(rawValue: by) else {
            throw OpsError.notRecomputable("spot recipe lacks 'by' (prompt or vector)")
        }
        guard let hex = p["similar_to"]?.stringValue, let id = ArtifactID(hex) else {
            throw OpsError.notRecomputable("spot recipe lacks 'similar_to'")
        }
        self.init(scores: s.map { Float($0) }, weighted: p["weighted"]?.boolValue ?? false, space: space, similarTo: id,
                  amongTag: p["among_tag"]?.stringValue)
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
