import PVecTensor

extension Merge {
    /// Iso-C (Marczak et al. 2025, "No Task Left Behind: Isotropic Model Merging with Common
    /// and Task-Specific Subspaces", §4.1): the task-arithmetic sum with its spectrum made
    /// isotropic.
    ///
    /// Exactly: Δ = Σ_i tau_i in Double (operands in order), read as [rows, width]; its thin SVD
    /// Δ = U diag(σ) Vᵀ (LAPACK dgesdd, r = min(rows, width) values); σ̄ = (Σ_l σ_l) / r, the
    /// mean of all r singular values; the result is λ · σ̄ · U Vᵀ, rounded to Float. λ is the
    /// paper's α (they tune it on validation data; 1 here unless given).
    ///
    /// ```swift
    /// let m = try Merge.isoC([tauA, tauB, tauC], lambda: 1)
    /// ```
    ///
    /// - Throws: `AlgebraError.tooFewOperands` (fewer than 2), `.shapeMismatch`,
    ///   `.invalidParameter` for a non-finite λ or an SVD LAPACK refuses, `.nonFinite`.
    public static func isoC(_ taus: [Tensor], lambda: Float = 1) throws -> Tensor {
        let op = "merge iso-c"
        let shape = try commonShape(taus, op, minimum: 2)
        try requireFiniteParameter(lambda, "lambda", op)
        try requireFinite(taus, op)
        let m = shape.rows, n = shape.width
        let d = try decompose(doubleSum(taus), rows: m, columns: n, op)
        var total = 0.0
        for x in d.s { total = total + x }
        let mean = total / Double(d.rank)
        let flat = [Double](repeating: mean, count: d.rank)
        return Tensor(shape: shape, scalars: recombine(u: d.u, s: flat, vt: d.vt, rows: m, rank: d.rank, columns: n,
                                                       lambda: Double(lambda)))
    }
}
