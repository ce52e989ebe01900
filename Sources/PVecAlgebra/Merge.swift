import PVecTensor

/// Merges of several tensors (soft prompts or task prompt vectors) into one.
///
/// Every merge here gives bit-identical results on every machine: elementwise loops with
/// one rounding per operation, operands visited in the order given, entries in row-major
/// order, and randomness only from `SplitMix64`. The methods follow mergekit's family
/// (linear, task arithmetic, TIES, DARE, SLERP), applied to prompt-shaped tensors, plus Model
/// Stock. The spectral merges (Iso-C, TSV-M) are the exception: their SVDs come from LAPACK,
/// reproducible run to run on one machine but not promised across CPUs (docs/merges.md).
///
/// ```swift
/// let merged = try Merge.ties([tauA, tauB, tauC], density: 0.2, lambda: 1)
/// ```
public enum Merge {
    /// The weighted average Σ w_i x_i / Σ w_i ("model soups", Wortsman et al. 2022).
    ///
    /// Order: s = ((w₁x₁ + w₂x₂) + w₃x₃) + … elementwise, W = ((w₁ + w₂) + w₃) + …, then s_j / W.
    ///
    /// - Parameter weights: one per tensor; nil means all 1 (the plain mean).
    /// - Throws: `AlgebraError.tooFewOperands`, `.shapeMismatch`, or `.invalidParameter` when
    ///   the weights are not one finite value per tensor or sum to zero.
    public static func linear(_ tensors: [Tensor], weights: [Float]? = nil) throws -> Tensor {
        let shape = try commonShape(tensors, "merge linear")
        let w = try resolveWeights(weights, count: tensors.count, "merge linear")
        var total: Float = 0
        for x in w { total = total + x }
        guard total != 0, total.isFinite else {
            throw AlgebraError.invalidParameter(operation: "merge linear", name: "weights", value: "sum \(total)",
                                                expected: "weights with a non-zero sum")
        }
        var acc = weightedSum(tensors, weights: w)
        acc.withUnsafeMutableBufferPointer { ab in
            for j in 0..<ab.count { ab[j] = ab[j] / total }
        }
        return Tensor(shape: shape, scalars: acc)
    }

    /// Task arithmetic: λ Σ w_i tau_i (Ilharco et al. 2023, "Editing Models with Task
    /// Arithmetic"; for prompts, Belanec et al. 2024, eq. 6).
    ///
    /// Order: s = ((w₁tau₁ + w₂tau₂) + w₃tau₃) + … elementwise, then λ s_j. With all
    /// weights 1 this equals `TaskVector.sum(_:lambda:)` bit for bit.
    ///
    /// - Throws: `AlgebraError.tooFewOperands`, `.shapeMismatch`, `.invalidParameter`.
    public static func taskArithmetic(_ taus: [Tensor], weights: [Float]? = nil, lambda: Float = 1) throws -> Tensor {
        let shape = try commonShape(taus, "merge task-arithmetic")
        let w = try resolveWeights(weights, count: taus.count, "merge task-arithmetic")
        try requireFiniteParameter(lambda, "lambda", "merge task-arithmetic")
        var acc = weightedSum(taus, weights: w)
        scaleInPlace(&acc, by: lambda)
        return Tensor(shape: shape, scalars: acc)
    }
}
