import PVecTensor

extension Merge {
    /// The DARE step alone (Yu et al. 2023, "Language Models are Super Mario: Absorbing
    /// Abilities from Homologous Models as a Free Lunch", eq. 1: Drop And REscale).
    ///
    /// Exactly: one `SplitMix64(seed: seed)` for the whole call; for tau i in the order given,
    /// for entry j in row-major order, draw u = `nextFloat01()`; if u < p the entry becomes 0,
    /// otherwise x_ij · r with r = `1 / (1 - p)` computed once in Float. A draw is made for
    /// every entry, dropped or not, so the mask does not depend on the values.
    ///
    /// - Parameter dropRate: p, the drop probability, in [0, 1).
    /// - Throws: `AlgebraError.tooFewOperands`, `.shapeMismatch`, `.invalidParameter`.
    public static func dareSparsify(_ taus: [Tensor], dropRate p: Float, seed: UInt64) throws -> [Tensor] {
        _ = try commonShape(taus, "merge dare")
        guard p >= 0, p < 1 else {
            throw AlgebraError.invalidParameter(operation: "merge dare", name: "drop rate", value: "\(p)",
                                                expected: "a probability in [0, 1)")
        }
        let rescale: Float = 1 / (1 - p)
        var rng = SplitMix64(seed: seed)
        return taus.map { tau in
            var out = [Float](repeating: 0, count: tau.count)
            tau.scalars.withUnsafeBufferPointer { xb in
                out.withUnsafeMutableBufferPointer { ob in
                    for j in 0..<ob.count {
                        let u = rng.nextFloat01()
                        ob[j] = u < p ? 0 : xb[j] * rescale
                    }
                }
            }
            return Tensor(shape: tau.shape, scalars: out)
        }
    }

    /// DARE merging (Yu et al. 2023): `dareSparsify`, then either task arithmetic
    /// λ Σ tau'_i (order as in `taskArithmetic`), or with `ties: true` the sign election and
    /// disjoint mean of TIES (Yadav et al. 2023) on the sparsified taus with no further
    /// trimming (DARE's random drop replaces TIES's magnitude trim, as in DARE-TIES).
    ///
    /// ```swift
    /// let m = try Merge.dare([tauA, tauB], dropRate: 0.9, seed: 7, lambda: 1, ties: true)
    /// ```
    ///
    /// - Throws: as `dareSparsify`, plus `.invalidParameter` for a non-finite λ and, with
    ///   `ties`, `.nonFinite` for NaN or infinity in an operand.
    public static func dare(_ taus: [Tensor], dropRate p: Float, seed: UInt64, lambda: Float = 1,
                            ties: Bool = false) throws -> Tensor {
        try requireFiniteParameter(lambda, "lambda", "merge dare")
        let sparse = try dareSparsify(taus, dropRate: p, seed: seed)
        if ties {
            try requireFinite(taus, "merge dare")
            return Tensor(shape: taus[0].shape,
                          scalars: electAndMerge(sparse.map(\.scalars), count: taus[0].count, lambda: lambda))
        }
        return try taskArithmetic(sparse, lambda: lambda)
    }
}
