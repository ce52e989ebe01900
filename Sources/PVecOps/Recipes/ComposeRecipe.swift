import PVecAlgebra
import PVecStore
import PVecTensor

/// The recipe of a prompt composed from task vectors with recorded weights (op `compose`):
/// P = init + Σ_i w_i τ_i, from the `init` parent and the `operand` parents in order, with one
/// weight per vector or, `per_row`, one per vector and prompt row.
///
/// The weights are what `pvec compose` fitted on a few target examples (gradient steps or a
/// gradient-free search, with the backbone and the vectors frozen); they are recorded exactly
/// (Doubles holding the Float weights), so `verify` recomputes the prompt bit for bit without
/// the model. How they were fitted is provenance only: `fit` (task, data hash, shots, seed,
/// steps, rates, the loss before and after) is recorded but not an input of the arithmetic.
public struct ComposeRecipe: TypedRecipe {
    /// The op name recorded in manifests: `compose`.
    public static let op = "compose"

    /// The weights, vector-major when per row.
    public var weights: CompositionWeights
    /// How the weights were found (provenance; not read by the arithmetic).
    public var fit: [String: JSONValue]

    public init(weights: CompositionWeights, fit: [String: JSONValue] = [:]) {
        self.weights = weights
        self.fit = fit
    }

    /// `{"weights": [...], "per_row": bool, "rows": r (per row only), "fit": {...}}`.
    public var params: [String: JSONValue] {
        var p: [String: JSONValue] = ["weights": .array(weights.values.map { .double(Double($0)) })]
        switch weights {
        case .perSource:
            p["per_row"] = .bool(false)
        case .perRow(_, let rows):
            p["per_row"] = .bool(true)
            p["rows"] = .int(Int64(rows))
        }
        if !fit.isEmpty { p["fit"] = .object(fit) }
        return p
    }

    /// Reads a recorded `compose` recipe.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming the parameter: `weights` not a non-empty
    ///   list of finite numbers that are Floats, `per_row` not a boolean, `rows` missing or not
    ///   positive for a per-row recipe or not dividing the weights, `fit` not an object.
    public init(params p: [String: JSONValue]) throws {
        let op = Self.op
        let raw = try RecipeField.doubles(p, "weights", op: op)
        guard !raw.isEmpty else { throw StoreError.malformedRecipe(op: op, reason: "parameter 'weights' is empty") }
        let w = raw.map { Float($0) }
        for (d, f) in zip(raw, w) where !f.isFinite || Double(f) != d {
            throw StoreError.malformedRecipe(op: op, reason: "parameter 'weights' holds \(d), not a finite Float32 value")
        }
        if try RecipeField.bool(p, "per_row", op: op) {
            let rows = try RecipeField.int(p, "rows", op: op)
            guard rows > 0, rows <= Int64(w.count), w.count % Int(rows) == 0 else {
                throw StoreError.malformedRecipe(op: op, reason: "parameter 'rows' is \(rows), which does not divide the \(w.count) weights")
            }
            weights = .perRow(w, rows: Int(rows))
        } else {
            weights = .perSource(w)
        }
        fit = try RecipeField.optional(p, "fit", op: op, RecipeField.object) ?? [:]
    }

    /// The number of task vectors the weights are for.
    public var vectorCount: Int {
        switch weights {
        case .perSource(let w): return w.count
        case .perRow(let w, let rows): return w.count / rows
        }
    }

    /// init + Σ w_i τ_i.
    ///
    /// - Throws: `OpsError.notRecomputable` when the parents do not fit the weights (no init,
    ///   another number of vectors), `AlgebraError` for shapes the arithmetic refuses.
    public func apply(init initial: Tensor?, vectors: [Tensor]) throws -> Tensor {
        guard let initial else { throw OpsError.notRecomputable("compose needs an init parent") }
        guard vectors.count == vectorCount else {
            throw OpsError.notRecomputable("compose recorded weights for \(vectorCount) vectors but has \(vectors.count) operands")
        }
        return try TaskVector.composed(init: initial, taus: vectors, weights: weights)
    }
}
