import PVecTensor

extension Merge {
    /// Model Stock (Jang et al. 2024, "Model Stock: All we need is just a few fine-tuned
    /// models", eq. 7 and §3.3): N fine-tuned runs of one task, from one init, averaged and
    /// pulled back toward that init by t = N cos θ / (1 + (N − 1) cos θ).
    ///
    /// The operands are the runs' task vectors tau_i = θ_i − θ₀, so the merged weights
    /// θ_H = t · mean(θ_i) + (1 − t) · θ₀ are θ₀ + t · mean(tau_i); this returns t · mean(tau_i),
    /// a vector (`pvec add RESULT --onto INIT` materialises the prompt).
    ///
    /// Exactly, in Double with operands and entries in order: cos θ is the mean over pairs
    /// i < j (i outer) of tau_i·tau_j / (‖tau_i‖ ‖tau_j‖), the paper's choice for N > 2;
    /// t = N c / (1 + (N − 1) c); the result is t · (Σ_i tau_i) / N, rounded to Float.
    ///
    /// - Throws: `AlgebraError.tooFewOperands` (fewer than 2), `.shapeMismatch`, `.nonFinite`,
    ///   `.zeroNorm` for a run equal to the init, and `.invalidParameter` when the mean cosine
    ///   is at or below −1/(N − 1) (the runs point apart, so t is undefined).
    public static func modelStock(_ taus: [Tensor]) throws -> Tensor {
        let op = "merge model-stock"
        let shape = try commonShape(taus, op, minimum: 2)
        try requireFinite(taus, op)
        let xs = taus.map { $0.scalars.map { Double($0) } }
        func dot(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for j in 0..<a.count { s = s + a[j] * b[j] }
            return s
        }
        let norms = xs.map { dot($0, $0).squareRoot() }
        for (i, v) in norms.enumerated() where v == 0 { throw AlgebraError.zeroNorm(operation: op, index: i) }
        let n = xs.count
        var total = 0.0, pairs = 0
        for i in 0..<n {
            for j in (i + 1)..<n {
                total = total + dot(xs[i], xs[j]) / (norms[i] * norms[j])
                pairs += 1
            }
        }
        let cos = total / Double(pairs)
        let denominator = 1 + Double(n - 1) * cos
        guard denominator > 0 else {
            throw AlgebraError.invalidParameter(operation: op, name: "mean cosine of the runs", value: "\(cos)",
                                                expected: "above −1/(N−1) = \(-1 / Double(n - 1)); merge runs of one task from one init")
        }
        let t = modelStockRatio(cosine: cos, count: n)
        var sum = [Double](repeating: 0, count: shape.count)
        for x in xs { for j in 0..<sum.count { sum[j] = sum[j] + x[j] } }
        return Tensor(shape: shape, scalars: sum.map { Float(t * ($0 / Double(n))) })
    }

    /// t = N c / (1 + (N − 1) c), the ratio `modelStock` applies to the mean task vector.
    public static func modelStockRatio(cosine c: Double, count n: Int) -> Double {
        Double(n) * c / (1 + Double(n - 1) * c)
    }
}
