import PVecAlgebra
import PVecStore
import PVecTensor

/// The single place where a recipe turns parent tensors into a result.
///
/// Creating an artifact and verifying it later run the same code, so a stored blob can be
/// checked bit for bit against its recipe. The arithmetic is `PVecAlgebra.TaskVector`, whose
/// fixed-order, FMA-free loops give identical bits on every machine.
///
/// Recipes and their parents (in manifest order):
/// - `VectorRecipe`: tuned, init → tuned − init (Belanec et al. 2024, task prompt vector).
/// - `AddRecipe` {lambda}: operand₁…operandₙ [, init] → λ·(((τ₁+τ₂)+τ₃)…) [+ init] (their eq. 6).
/// - `SubRecipe`: operand₁, operand₂ → τ₁ − τ₂.   `NegRecipe`: operand → −τ.
///   `ScaleRecipe` {by}: operand → s·τ.
/// - `InitRecipe` {method: uniform | vocab-sample, …}: no parents.
/// - `MergeRecipe` {method: linear | task-arithmetic | ties | dare | slerp | magnitude-prune, and
///   that method's parameters}: operand₁…operandₙ → the merge. One op with a `method`
///   parameter (not one op per method) so lineage and `ls` group every merge, and a new
///   method is a new `MergeRecipe` case rather than a new op.
/// - `SpotRecipe` {method: spot-t | spot-s, top, by, scores, weighted, similar_to}: source₁…sourceₖ,
///   the chosen prompts best first → source₁ (spot-t) or Σ s_i P_i / Σ s_i (spot-s, weighted)
///   or their mean (spot-s, unweighted). The ranking itself is not recomputed, since it
///   depends on what the registry held; the recorded scores are.
/// - `ComposeRecipe` {weights, per_row[, rows], fit}: init, operand₁…operandₙ →
///   init + Σ w_i τ_i (per vector or per vector and row). The fit that chose the weights is
///   provenance; the recorded weights are recomputed.
public enum Derivation {
    /// The recipe types `compute` knows; every other op (import, train, …) is verified by hash only.
    public static let recomputable: [any TypedRecipe.Type] = [
        VectorRecipe.self, AddRecipe.self, SubRecipe.self, NegRecipe.self, ScaleRecipe.self,
        InitRecipe.self, MergeRecipe.self, SpotRecipe.self, ComposeRecipe.self,
    ]

    /// The ops of `recomputable`.
    public static let recomputableOps: Set<String> = Set(recomputable.map { $0.op })

    private static let decoder = RecipeDecoder(recomputable)

    /// Recomputes a derived tensor from a recorded recipe.
    ///
    /// - Parameters:
    ///   - recipe: the artifact's recipe.
    ///   - parents: the parents' roles and tensors, in manifest order.
    ///   - backbone: the artifact's backbone (inits by `vocab-sample` need its table).
    ///   - embeddingTable: loads a backbone's word-embedding table; nil when no model is at hand.
    /// - Throws: `OpsError.notRecomputable` for ops outside `recomputable` and for recipes
    ///   that cannot be read (a missing or malformed parameter).
    public static func compute(_ recipe: Recipe, parents: [(role: ParentRole, tensor: Tensor)],
                               backbone: Backbone?,
                               embeddingTable: ((Backbone) throws -> Tensor)? = nil) throws -> Tensor {
        guard recomputableOps.contains(recipe.op) else {
            throw OpsError.notRecomputable("op '\(recipe.op)' is not recomputed from its parents")
        }
        let typed: any TypedRecipe
        do {
            // The adapter a result carries (`AdapterProfile`) is not an input of the op.
            typed = try decoder.decode(AdapterProfile.stripped(recipe))
        } catch StoreError.malformedRecipe(let op, let reason) {
            throw OpsError.notRecomputable("recipe \(op): \(reason)")
        }
        return try compute(typed, parents: parents, backbone: backbone, embeddingTable: embeddingTable)
    }

    /// Computes the tensor a typed recipe makes from its parents.
    ///
    /// - Throws: `OpsError.notRecomputable` for recipes outside `recomputable` or parents that
    ///   do not fit the recipe, `AlgebraError` for tensors the arithmetic refuses.
    public static func compute(_ recipe: any TypedRecipe, parents: [(role: ParentRole, tensor: Tensor)],
                               backbone: Backbone?,
                               embeddingTable: ((Backbone) throws -> Tensor)? = nil) throws -> Tensor {
        let operands = parents.filter { $0.role == .operand }.map(\.tensor)
        switch recipe {
        case is VectorRecipe:
            guard let tuned = parents.first(where: { $0.role == .tuned })?.tensor,
                  let ini = parents.first(where: { $0.role == .`init` })?.tensor else {
                throw OpsError.notRecomputable("vector needs a tuned and an init parent")
            }
            return try TaskVector.difference(tuned: tuned, init: ini)
        case let r as AddRecipe:
            let lambda = Float(r.lambda)
            if let base = parents.first(where: { $0.role == .`init` })?.tensor {
                return try TaskVector.onto(init: base, taus: operands, lambda: lambda)
            }
            return try TaskVector.sum(operands, lambda: lambda)
        case is SubRecipe:
            guard operands.count == 2 else { throw OpsError.notRecomputable("sub needs two operands") }
            return try TaskVector.subtract(operands[0], operands[1])
        case is NegRecipe:
            guard operands.count == 1 else { throw OpsError.notRecomputable("neg needs one operand") }
            return TaskVector.negate(operands[0])
        case let r as ScaleRecipe:
            guard operands.count == 1 else { throw OpsError.notRecomputable("scale needs one operand") }
            return TaskVector.scale(operands[0], by: Float(r.by))
        case let r as InitRecipe:
            return try r.generate(backbone: backbone, embeddingTable: embeddingTable)
        case let r as MergeRecipe:
            return try r.apply(operands)
        case let r as SpotRecipe:
            let sources = parents.filter { $0.role == .source }.map(\.tensor)
            return try r.apply(sources)
        case let r as ComposeRecipe:
            return try r.apply(init: parents.first(where: { $0.role == .`init` })?.tensor, vectors: operands)
        default:
            throw OpsError.notRecomputable("op '\(type(of: recipe).op)' is not recomputed from its parents")
        }
    }
}
