import PVecAlgebra
import PVecStore
import PVecTensor

/// A registry artifact ranked by its cosine similarity to a query.
public struct SimilarArtifact: Sendable {
    /// The candidate's id.
    public var id: ArtifactID
    /// The candidate's kind: `.prompt` or `.vector`, whichever `similar` ranked.
    public var kind: ArtifactKind
    /// Names currently pointing at it (may be empty).
    public var names: [String]
    /// Cosine similarity to the query in the space ranked, clamped to [−1, 1].
    public var cosine: Float

    /// The first name, else the short id: what to show a person.
    public var label: String { names.first ?? id.short }
}

extension Registry {
    /// Ranks the registry's prompts (or vectors) of the query's backbone and shape by cosine
    /// similarity to the query, best first (SPoT's source-task retrieval, Vu et al. 2022, §4).
    /// Read-only: derived vectors are computed in memory, never stored.
    ///
    /// - Parameters:
    ///   - spec: the query.
    ///   - kind: `.prompt` ranks prompts, `.vector` ranks vector artifacts.
    ///   - space: `.prompt` compares stored prompts (SPoT); `.vector` compares task vectors
    ///     (Belanec et al. 2024): the query's vector, and each candidate vector or prompt's
    ///     tuned − init (prompts without a recorded init are left out). Ranking vectors needs `.vector`.
    ///   - top: keep only the best `top`.
    ///   - tag: only candidates carrying this tag (e.g. a curated set of source prompts).
    /// - Returns: candidates other than the query (and the query's own vector), best first;
    ///   equal cosines by id. Candidates with a zero norm have no direction and are left out.
    /// - Throws: `OpsError.wrongKind`, `AlgebraError.zeroNorm` for a zero query.
    public func similar(to spec: String, kind: ArtifactKind = .prompt, by space: SimilaritySpace = .prompt,
                        top: Int? = nil, tag: String? = nil) throws -> [SimilarArtifact] {
        guard kind == .prompt || kind == .vector else {
            throw OpsError.wrongKind("--kind", kind, expected: "prompt or vector candidates")
        }
        guard kind == .prompt || space == .vector else {
            throw AlgebraError.invalidParameter(operation: "similar", name: "by", value: space.rawValue,
                                                expected: "vector when ranking vectors")
        }
        let q = try operand(spec)
        guard let shape = q.manifest.shape, q.manifest.kind.isPromptShaped else {
            throw OpsError.wrongKind(spec, q.manifest.kind, expected: "a prompt, init or vector")
        }
        var exclude: Set<ArtifactID> = [q.id]
        let query: Tensor
        switch space {
        case .prompt:
            guard q.manifest.kind != .vector else {
                throw OpsError.wrongKind(spec, q.manifest.kind, expected: "a prompt or init (compare vectors with --by vector)")
            }
            query = try tensor(q.id)
        case .vector:
            let (v, t) = try vectorOperand(spec, store: false, command: "")
            exclude.insert(v.id)
            query = t
        }
        var ids: [ArtifactID] = []
        var names: [[String]] = []
        var rows: [Tensor] = []
        for s in try list(kind: kind, tag: tag) where !exclude.contains(s.id) && s.shape == shape {
            guard backboneFits(q.manifest.backbone, s.backbone) else { continue }
            let t: Tensor
            if space == .vector && kind == .prompt {
                guard let initID = try manifest(s.id).parents.first(where: { $0.role == .`init` })?.id,
                      let i = try? tensor(initID), i.shape == shape else { continue }
                t = try tensor(s.id).subtracting(i)
            } else {
                t = try tensor(s.id)
            }
            ids.append(s.id)
            names.append(s.names)
            rows.append(t)
        }
        let cosines = try Self.cosines(query, rows)
        var ranked: [SimilarArtifact] = []
        for (k, c) in cosines.enumerated() {
            guard let c else { continue }
            ranked.append(SimilarArtifact(id: ids[k], kind: kind, names: names[k], cosine: c))
        }
        ranked.sort { $0.cosine != $1.cosine ? $0.cosine > $1.cosine : $0.id.hex < $1.id.hex }
        if let top { ranked = Array(ranked.prefix(max(0, top))) }
        return ranked
    }

    /// Creates an init from the registry prompts most similar to `spec` (SPoT, Vu et al. 2022):
    /// the top-1 prompt (SPoT-t, `top` 1) or the average of the top K, weighted by cosine when
    /// `weighted` (SPoT-s). Recipe op `spot` (see `SpotRecipe`), parents of role `source`,
    /// best first. Nothing is stored when fewer than `top` prompts qualify.
    ///
    /// ```swift
    /// let s = try registry.initFromSimilar("rte-probe", top: 3, by: .vector, weighted: true,
    ///                                      name: "rte-init", command: "pvec init-from …")
    /// ```
    ///
    /// - Throws: as `similar`, and `AlgebraError.invalidParameter` when too few prompts qualify
    ///   or a weighted average meets a non-positive cosine.
    public func initFromSimilar(_ spec: String, top: Int, by space: SimilaritySpace, weighted: Bool,
                                tag: String? = nil, name: String?, command: String,
                                peftConfig: [String: JSONValue]? = nil) throws -> Stored {
        if let name { try RefName.validate(name) }
        let op = "init-from"
        guard top >= 1 else {
            throw AlgebraError.invalidParameter(operation: op, name: "top", value: "\(top)", expected: "at least 1")
        }
        let ranked = try similar(to: spec, kind: .prompt, by: space, top: top, tag: tag)
        guard ranked.count == top else {
            throw AlgebraError.invalidParameter(operation: op, name: "top", value: "\(top)",
                                                expected: "at most \(ranked.count), the registry prompts comparable with \(spec)\(space == .vector ? " that record an init" : "")\(tag.map { " tagged \($0)" } ?? "")")
        }
        if weighted && top > 1, let bad = ranked.first(where: { !($0.cosine > 0) }) {
            throw AlgebraError.invalidParameter(operation: op, name: "similarity of \(bad.label)", value: "\(bad.cosine)",
                                                expected: "positive cosines for a weighted average; lower --top or drop --weighted")
        }
        let q = try operand(spec)
        let sources = try ranked.map { r in Operand(spec: r.label, id: r.id, manifest: try manifest(r.id)) }
        let backbone = try commonBackbone(sources)
        _ = try commonShape(sources)
        let recipe = SpotRecipe(scores: ranked.map(\.cosine), weighted: weighted, space: space, similarTo: q.id, amongTag: tag)
        return try derive(kind: .`init`, recipe: recipe, parents: sources.map { (.source, $0) },
                          backbone: backbone, name: name, command: command, peftConfig: peftConfig)
    }

    private func backboneFits(_ a: Backbone?, _ b: Backbone?) -> Bool {
        switch (a, b) {
        case (let a?, let b?): return a.isCompatible(with: b)
        case (nil, nil): return true
        default: return false
        }
    }

    /// cos(q, x_k) for each row, from one gemv over the stacked rows X [n, D]; nil for a zero
    /// or non-finite row.
    static func cosines(_ q: Tensor, _ rows: [Tensor]) throws -> [Float?] {
        let qn = q.norm
        guard qn > 0, qn.isFinite else { throw AlgebraError.zeroNorm(operation: "similar", index: 0) }
        let n = rows.count, d = q.count
        if n == 0 { return [] }
        var x = [Float](repeating: 0, count: n * d)
        x.withUnsafeMutableBufferPointer { xb in
            for (k, r) in rows.enumerated() {
                r.scalars.withUnsafeBufferPointer { rb in
                    for j in 0..<d { xb[k * d + j] = rb[j] }
                }
            }
        }
        var dots = [Float](repeating: 0, count: n)
        x.withUnsafeBufferPointer { xb in
            q.scalars.withUnsafeBufferPointer { qb in
                dots.withUnsafeMutableBufferPointer { yb in
                    BLAS.sgemv(m: n, n: d, a: xb.baseAddress!, x: qb.baseAddress!, y: yb.baseAddress!)
                }
            }
        }
        return rows.enumerated().map { k, r in
            let rn = r.norm
            guard rn > 0, rn.isFinite else { return nil }
            return min(1, max(-1, dots[k] / rn / qn))
        }
    }
}
