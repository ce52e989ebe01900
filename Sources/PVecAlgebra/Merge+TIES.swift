import PVecTensor

extension Merge {
    /// Keeps the `density` fraction of entries with the largest magnitudes and zeroes the rest
    /// (the "trim" step of TIES, Yadav et al. 2023, §3; magnitude pruning).
    ///
    /// Exactly: D = tau.count, k = round(density · D) computed in Double with ties away from
    /// zero (`(Double(density) * Double(D)).rounded()`); entries are ranked by |x| descending,
    /// equal magnitudes by index ascending (row-major), and the first k keep their value.
    ///
    /// - Parameter density: the fraction kept, in [0, 1].
    /// - Throws: `AlgebraError.invalidParameter` for a density outside [0, 1], `.nonFinite`
    ///   when tau holds NaN or infinity (they cannot be ranked).
    public static func magnitudePrune(_ tau: Tensor, density: Float) throws -> Tensor {
        try checkDensity(density, "prune")
        try requireFinite([tau], "prune")
        return Tensor(shape: tau.shape, scalars: trimmed(tau.scalars, density: density))
    }

    /// TIES-merging (Yadav et al. 2023, "TIES-Merging: Resolving Interference When Merging
    /// Models", Algorithm 1): trim, elect sign, disjoint merge, scale.
    ///
    /// Exactly, for each entry j:
    /// 1. trim: t_i = `magnitudePrune(tau_i, density)` for every i;
    /// 2. elect: γ_j = sign(((t_1j + t_2j) + t_3j) + …) summed in Float in operand order;
    /// 3. disjoint mean: over the i with t_ij ≠ 0 and sign(t_ij) = γ_j, s_j = their sum in
    ///    operand order and c_j = their count; m_j = s_j / c_j, or 0 when c_j = 0 (this
    ///    includes γ_j = 0);
    /// 4. result λ · m_j (0 stays +0 when c_j = 0).
    ///
    /// - Parameters:
    ///   - density: fraction of entries each tau keeps in the trim step, in [0, 1] (the paper's k/100).
    ///   - lambda: the final scale (the paper's λ).
    /// - Throws: `AlgebraError.tooFewOperands`, `.shapeMismatch`, `.invalidParameter`, `.nonFinite`.
    public static func ties(_ taus: [Tensor], density: Float, lambda: Float = 1) throws -> Tensor {
        let shape = try commonShape(taus, "merge ties")
        try checkDensity(density, "merge ties")
        try requireFiniteParameter(lambda, "lambda", "merge ties")
        try requireFinite(taus, "merge ties")
        let trimmedTaus = taus.map { trimmed($0.scalars, density: density) }
        return Tensor(shape: shape, scalars: electAndMerge(trimmedTaus, count: shape.count, lambda: lambda))
    }

    static func checkDensity(_ density: Float, _ operation: String) throws {
        guard density >= 0, density <= 1 else {
            throw AlgebraError.invalidParameter(operation: operation, name: "density", value: "\(density)",
                                                expected: "a fraction in [0, 1]")
        }
    }

    /// x with all but its top-k magnitudes zeroed; see `magnitudePrune`.
    static func trimmed(_ x: [Float], density: Float) -> [Float] {
        let d = x.count
        let k = min(d, Int((Double(density) * Double(d)).rounded()))
        if k == d { return x }
        var out = [Float](repeating: 0, count: d)
        if k == 0 { return out }
        precondition(d <= Int(UInt32.max), "tensor too large to rank")
        // One sortable key per entry: high half orders |x| descending (the bit pattern of a
        // non-negative finite Float orders like its value), low half the index ascending.
        var keys = [UInt64](repeating: 0, count: d)
        x.withUnsafeBufferPointer { xb in
            keys.withUnsafeMutableBufferPointer { kb in
                for j in 0..<d {
                    let magnitude = xb[j].magnitude.bitPattern
                    kb[j] = UInt64(UInt32.max - magnitude) << 32 | UInt64(j)
                }
            }
        }
        // Keys are distinct, so "key ≤ the k-th smallest key" selects exactly the top k;
        // quickselect finds that key in O(d) where a full sort took O(d log d).
        let threshold = kthSmallest(keys, k - 1)
        x.withUnsafeBufferPointer { xb in
            keys.withUnsafeBufferPointer { kb in
                out.withUnsafeMutableBufferPointer { ob in
                    for j in 0..<d where kb[j] <= threshold { ob[j] = xb[j] }
                }
            }
        }
        return out
    }

    /// The element of rank `r` (0-based) in ascending order; Hoare partition around a
    /// median-of-three pivot, iterating into the side that holds rank r.
    static func kthSmallest(_ values: [UInt64], _ r: Int) -> UInt64 {
        var a = values
        return a.withUnsafeMutableBufferPointer { v -> UInt64 in
            var lo = 0, hi = v.count - 1
            while lo < hi {
                let mid = lo + (hi - lo) / 2
                if v[mid] < v[lo] { v.swapAt(mid, lo) }
                if v[hi] < v[lo] { v.swapAt(hi, lo) }
                if v[hi] < v[mid] { v.swapAt(hi, mid) }
                let pivot = v[mid]
                var i = lo, j = hi
                while i <= j {
                    while v[i] < pivot { i += 1 }
                    while v[j] > pivot { j -= 1 }
                    if i <= j { v.swapAt(i, j); i += 1; j -= 1 }
                }
                if r <= j { hi = j } else if r >= i { lo = i } else { return v[r] }
            }
            return v[r]
        }
    }

    /// Steps 2–4 of TIES on already sparsified operands.
    static func electAndMerge(_ xs: [[Float]], count d: Int, lambda: Float) -> [Float] {
        var out = [Float](repeating: 0, count: d)
        out.withUnsafeMutableBufferPointer { ob in
            for j in 0..<d {
                var total: Float = 0
                for x in xs { total = total + x[j] }
                if total == 0 { continue }
                let positive = total > 0
                var s: Float = 0
                var c = 0
                for x in xs {
                    let v = x[j]
                    if positive ? v > 0 : v < 0 {
                        s = s + v
                        c += 1
                    }
                }
                if c > 0 { ob[j] = lambda * (s / Float(c)) }
            }
        }
        return out
    }
}
