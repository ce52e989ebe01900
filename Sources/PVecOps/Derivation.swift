import PVecAlgebra
import PVecStore
import PVecTensor

/// The single place where a recipe turns parent tensors into a result.
///
/// Creating an artifact and verifying it later run the same code, so a stored blob can be
/// checked bit for bit against its recipe. The arithmetic is `PVecAlgebra.TaskVector`, whose
/// fixed-order, FMA-free loops give identical bits on every machine.
///
/// Ops and their parents (in manifest order):
/// - `vector`: tuned, init → tuned − init (Belanec et al. 2024, task prompt vector).
/// - `add` {lambda}: operand₁…operandₙ [, init] → λ·(((τ₁+τ₂)+τ₃)…) [+ init] (their eq. 6).
/// - `sub`: operand₁, operand₂ → τ₁ − τ₂.   `neg`: operand → −τ.   `scale` {by}: operand → s·τ.
/// - `init` {method: uniform | vocab-sample, …}: no parents; see `InitRecipe`.
/// - `merge` {method: linear | task-arithmetic | ties | dare | slerp | magnitude-prune, and
///   that method's parameters}: operand₁…operandₙ → the merge; see `MergeRecipe`. One op with
///   a `method` parameter (not one op per method) so lineage and `ls` group every merge, and
///   a new method is a new `MergeRecipe` case rather than a new op.
/// - `spot` {method: spot-t | spot-s, top, by, scores, weighted, similar_to}: source₁…sourceₖ,
///   the chosen prompts best first → source₁ (spot-t) or Σ s_i P_i / Σ s_i (spot-s, weighted)
///   or their mean (spot-s, unweighted); see `SpotRecipe`. The ranking itself is not
///   recomputed, since it depends on what the registry held; the recorded scores are.
public enum Derivation {
    /// Ops that `compute` knows; everything else (import, train) is verified by hash only.
    public static let recomputableOps: Set<String> = ["vector", "add", "sub", "neg", "scale", "init", "merge", "spot"]

    /// Recomputes a derived tensor.
    ///
    /// - Parameters:
    ///   - recipe: the artifact's recipe.
    ///   - parents: the parents' roles and tensors, in manifest order.
    ///   - backbone: the artifact's backbone (inits by `vocab-sample` need its table).
    ///   - embeddingTable: loads a backbone's word-embedding table; nil when no model is at hand.
    /// - Throws: `OpsError.notRecomputable` for unknown ops or missing parameters.
    public static func compute(_ recipe: Recipe, parents: [(role: ParentRole, tensor: Tensor)],
                               backbone: Backbone?,
                               embeddingTable: ((Backbone) throws -> Tensor)? = nil) throws -> Tensor {
        let operands = parents.filter { $0.role == .operand }.map(\.tensor)
        func param(_ key: String) throws -> Double {
            guard let v = recipe.params[key]?.doubleValue else {
                throw OpsError.notRecomputable("recipe \(recipe.op) lacks numeric parameter '\(key)'")
            }
            return v
        }
        switch recipe.op {
        case "vector":
            guard let tuned = parents.first(where: { $0.role == .tuned })?.tensor,
                  let ini = parents.first(where: { $0.role == .`init` })?.tensor else {
                throw OpsError.notRecomputable("vector needs a tuned and an init parent")
            }
            return try TaskVector.difference(tuned: tuned, init: ini)
        case "add":
            let lambda = Float(try param("lambda"))
            if let base = parents.first(where: { $0.role == .`init` })?.tensor {
                return try TaskVector.onto(init: base, taus: operands, lambda: lambda)
            }
            return try TaskVector.sum(operands, lambda: lambda)
        case "sub":
            guard operands.count == 2 else { throw OpsError.notRecomputable("sub needs two operands") }
            return try TaskVector.subtract(operands[0], operands[1])
        case "neg":
            guard operands.count == 1 else { throw OpsError.notRecomputable("neg needs one operand") }
            return TaskVector.negate(operands[0])
        case "scale":
            guard operands.count == 1 else { throw OpsError.notRecomputable("scale needs one operand") }
            return TaskVector.scale(operands[0], by: Float(try param("by")))
        case "init":
            let spec = try InitRecipe(params: recipe.params)
            return try spec.generate(backbone: backbone, embeddingTable: embeddingTable)
        case "merge":
            return try MergeRecipe(params: recipe.params).apply(operands)
        case "spot":
            let sources = parents.filter { $0.role == .source }.map(\.tensor)
            return try SpotRecipe(params: recipe.params).apply(sources)
        default:
            throw OpsError.notRecomputable("op '\(recipe.op)' is not recomputed from its parents")
        }
    }
}
