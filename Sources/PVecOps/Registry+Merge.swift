import PVecAlgebra
import PVecStore
import PVecTensor

extension Registry {
    /// Merges registry artifacts with one of `MergeRecipe`'s methods and stores the result with
    /// its recipe (op `merge`) and parents of role `operand`, in the order given.
    ///
    /// Which tensors are merged:
    /// - `linear` averages the tensors as stored: vectors give a vector, prompts and inits give
    ///   a prompt ("prompt soup"); prompts and vectors are not mixed.
    /// - with `raw`, likewise for any method (meant for `slerp` between two prompts);
    /// - otherwise the operands are task vectors: a vector is itself, and a prompt with a
    ///   recorded init stands for tuned − init, derived and stored with lineage on first use
    ///   (as `addVectors` does). The result is a vector.
    ///
    /// Parameters, kinds, backbones and shapes are checked from manifests before anything is
    /// stored, so a refused merge leaves the registry as it was.
    ///
    /// ```swift
    /// let s = try registry.merge(["mnli", "qnli", "sst2"], recipe: .ties(density: 0.2, lambda: 1),
    ///                            name: "nli-ties", command: "pvec merge ties …")
    /// ```
    ///
    /// - Throws: `AlgebraError` for bad parameters, `OpsError` for operands that do not fit.
    public func merge(_ specs: [String], recipe: MergeRecipe, raw: Bool = false,
                      name: String?, command: String, peftConfig: [String: JSONValue]? = nil) throws -> Stored {
        if let name { try RefName.validate(name) }
        try recipe.check(operandCount: specs.count)
        var asStored = raw
        if case .linear = recipe { asStored = true }
        if asStored {
            let ops = try specs.map { try operand($0) }
            let kind = try storedMergeKind(ops)
            let backbone = try commonBackbone(ops)
            _ = try commonShape(ops)
            return try derive(kind: kind, recipe: recipe, parents: ops.map { (.operand, $0) },
                              backbone: backbone, name: name, command: command, peftConfig: peftConfig)
        }
        try checkVectorOperands(specs, peftConfig: peftConfig)
        let batch = WriteBatch()
        let pairs = try specs.map { try vectorOperand($0, store: true, command: command, peftConfig: peftConfig, batch: batch) }
        let ops = pairs.map(\.0)
        let backbone = try commonBackbone(ops)
        _ = try commonShape(ops)
        return try deriveAndCommit(kind: .vector, recipe: recipe, parents: ops.map { (.operand, $0) }, tensors: pairs.map(\.1),
                                   backbone: backbone, name: name, command: command, peftConfig: peftConfig, batch: batch)
    }

    /// The kind of a merge of stored tensors: vector when every operand is a vector, prompt
    /// when every operand is a prompt or init.
    private func storedMergeKind(_ ops: [Operand]) throws -> ArtifactKind {
        for o in ops where !o.manifest.kind.isPromptShaped {
            throw OpsError.wrongKind(o.spec, o.manifest.kind, expected: "a prompt, init or vector")
        }
        let vectors = ops.filter { $0.manifest.kind == .vector }
        if vectors.isEmpty { return .prompt }
        if vectors.count == ops.count { return .vector }
        let prompt = ops.first { $0.manifest.kind != .vector }!
        throw OpsError.wrongKind(prompt.spec, prompt.manifest.kind,
                                 expected: "a vector like \(vectors[0].spec) (merge prompts with prompts and vectors with vectors)")
    }
}
