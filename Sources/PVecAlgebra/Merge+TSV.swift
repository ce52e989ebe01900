import PVecTensor

extension Merge {
    /// TSV-Merge (Gargiulo et al. 2025, "Task Singular Vectors: Reducing Task Interference in
    /// Model Merging", §4): each task keeps its top singular directions, and the directions of
    /// all tasks are decorrelated before they are summed.
    ///
    /// Exactly, for T operands read as [rows, width], r = min(rows, width), k = ⌊r / T⌋:
    /// 1. tau_i = U_i diag(σ_i) V_iᵀ (thin SVD in Double, LAPACK dgesdd); keep the first k
    ///    columns of U_i, values of σ_i and rows of V_iᵀ;
    /// 2. U = [U_1,k | … | U_T,k] [rows, T·k], σ = (σ_1,k, …, σ_T,k), Vᵀ = the V_i,kᵀ stacked
    ///    [T·k, width];
    /// 3. U⊥ = P Qᵀ from U = P S Qᵀ, and V⊥ᵀ likewise from Vᵀ (the orthogonal Procrustes /
    ///    polar factor: the nearest matrix with orthonormal columns, resp. rows);
    /// 4. the result is λ · U⊥ diag(σ) V⊥ᵀ, rounded to Float. λ is the paper's α (default 1).
    ///
    /// - Throws: `AlgebraError.tooFewOperands` (fewer than 2), `.shapeMismatch`,
    ///   `.invalidParameter` when there are more operands than r (k would be 0), for a
    ///   non-finite λ, or an SVD LAPACK refuses; `.nonFinite`.
    public static func tsv(_ taus: [Tensor], lambda: Float = 1) throws -> Tensor {
        let op = "merge tsv"
        let shape = try commonShape(taus, op, minimum: 2)
        try requireFiniteParameter(lambda, "lambda", op)
        try requireFinite(taus, op)
        let m = shape.rows, n = shape.width, r = min(m, n), t = taus.count
        let k = r / t
        guard k >= 1 else {
            throw AlgebraError.invalidParameter(operation: op, name: "operands", value: "\(t)",
                                                expected: "at most \(r) (each task keeps rank ⌊\(r)/T⌋ of a [\(m), \(n)] prompt)")
        }
        let c = t * k
        var u = [Double](repeating: 0, count: m * c)
        var vt = [Double](repeating: 0, count: c * n)
        var s = [Double](repeating: 0, count: c)
        for (i, tau) in taus.enumerated() {
            let d = try decompose(tau.scalars.map { Double($0) }, rows: m, columns: n, op)
            for l in 0..<k {
                let col = i * k + l
                s[col] = d.s[l]
                for row in 0..<m { u[row * c + col] = d.u[row * d.rank + l] }
                for j in 0..<n { vt[col * n + j] = d.vt[l * n + j] }
            }
        }
        let uPerp = try polarFactor(u, rows: m, columns: c, op)
        let vtPerp = try polarFactor(vt, rows: c, columns: n, op)
        return Tensor(shape: shape, scalars: recombine(u: uPerp, s: s, vt: vtPerp, rows: m, rank: c, columns: n,
                                                       lambda: Double(lambda)))
    }
}
