import PVecAlgebra
import PVecStore
import PVecTensor

/// The task vectors and the init of a composition, resolved and checked before anything is fitted.
public struct CompositionInputs: Sendable {
    /// The vectors, in the order given (a prompt given as a source stands for its stored vector).
    public var vectors: [Operand]
    public var tensors: [Tensor]
    /// What the user typed for each vector.
    public var specs: [String]
    /// The backbone every vector shares.
    public var backbone: Backbone?
    /// Their shape.
    public var shape: Shape
}

extension Registry {
    /// Resolves the sources of `pvec compose`: each a vector, or a prompt with a recorded init
    /// (its vector is found or derived and stored, as `pvec add` does), all of one backbone and
    /// shape, from PEFT adapters that agree. Checked from manifests before any vector is derived.
    ///
    /// - Throws: `OpsError.tooFewOperands` for no source, `.wrongKind`, `.noRecordedInit`,
    ///   `.backboneMismatch`, `.shapeMismatch`, `.peftMismatch`; store errors for unknown names.
    public func compositionInputs(_ specs: [String], command: String) throws -> CompositionInputs {
        guard !specs.isEmpty else { throw OpsError.tooFewOperands(1) }
        try checkVectorOperands(specs)
        let resolved = try specs.map { try vectorOperand($0, store: true, command: command) }
        let ops = resolved.map(\.0)
        let backbone = try commonBackbone(ops)
        let shape = try commonShape(ops)
        return CompositionInputs(vectors: ops, tensors: resolved.map(\.1), specs: specs, backbone: backbone, shape: shape)
    }

    /// Stores init + Σ w_i τ_i as a prompt (op `compose`, parents the init, role `init`, and the
    /// vectors, role `operand`, in order), computed by `Derivation` as `verify` will recompute it.
    ///
    /// - Parameters:
    ///   - initSpec: a stored init or prompt of the vectors' shape and backbone.
    ///   - recipe: the weights and how they were fitted.
    /// - Throws: `OpsError.wrongKind` for an init that is a vector (or no prompt), shape,
    ///   backbone and PEFT mismatches, `AlgebraError` for weights that do not fit.
    public func storeComposition(_ inputs: CompositionInputs, init initSpec: String, recipe: ComposeRecipe,
                                 name: String?, command: String) throws -> (stored: Stored, tensor: Tensor) {
        if let name { try RefName.validate(name) }
        let base = try operand(initSpec)
        guard base.manifest.kind.isPromptShaped, base.manifest.kind != .vector else {
            throw OpsError.wrongKind(initSpec, base.manifest.kind, expected: "an init or prompt to compose onto")
        }
        let ops = inputs.vectors + [base]
        let backbone = try commonBackbone(ops)
        _ = try commonShape(ops)
        let parents: [(role: ParentRole, operand: Operand)] = [(.`init`, base)] + inputs.vectors.map { (.operand, $0) }
        return try derive(kind: .prompt, recipe: recipe, parents: parents, tensors: [try tensor(base.id)] + inputs.tensors,
                          backbone: backbone, name: name, command: command)
    }
}
