import PVecTensor

// MARK: - Shared pieces of the spectral merges (Iso-C, TSV-M)
//
// A prompt-shaped tensor is read as the matrix [rows, width] (`Shape.rows`, `Shape.width`).
// The arithmetic runs in Double with fixed-order loops (no BLAS), and the result is rounded to
// Float once; only the SVD itself comes from LAPACK (`PVecTensor.LAPACK`).

extension Merge {
    /// Σ_i tau_i in Double, operands in the order given.
    static func doubleSum(_ taus: [Tensor]) -> [Double] {
        var acc = [Double](repeating: 0, count: taus[0].count)
        for t in taus {
            t.scalars.withUnsafeBufferPointer { tb in
                for j in 0..<acc.count { acc[j] = acc[j] + Double(tb[j]) }
            }
        }
        return acc
    }

    /// The SVD of a [m, n] matrix, with LAPACK's errors named by the merge.
    static func decompose(_ a: [Double], rows m: Int, columns n: Int, _ operation: String) throws -> SingularValueDecomposition {
        do {
            return try LAPACK.svd(a, rows: m, columns: n)
        } catch let e as TensorError {
            throw AlgebraError.invalidParameter(operation: operation, name: "SVD", value: e.description,
                                                expected: "finite operands of at most \(LAPACK.maxEntries) entries")
        }
    }

    /// λ · U diag(s) Vᵀ for U [m, k], s [k], Vᵀ [k, n], rounded to Float once per entry.
    ///
    /// out_ij = λ · Σ_l (U_il s_l) V_lj, l ascending, in Double.
    static func recombine(u: [Double], s: [Double], vt: [Double], rows m: Int, rank k: Int, columns n: Int,
                          lambda: Double) -> [Float] {
        var out = [Float](repeating: 0, count: m * n)
        var row = [Double](repeating: 0, count: n)
        for i in 0..<m {
            for j in 0..<n { row[j] = 0 }
            for l in 0..<k {
                let c = u[i * k + l] * s[l]
                if c == 0 { continue }
                for j in 0..<n { row[j] = row[j] + c * vt[l * n + j] }
            }
            for j in 0..<n { out[i * n + j] = Float(lambda * row[j]) }
        }
        return out
    }

    /// The orthogonal polar factor P Qᵀ of a [m, n] matrix X = P S Qᵀ (m ≥ n gives orthonormal
    /// columns, m ≤ n orthonormal rows): the nearest matrix with orthonormal columns (rows),
    /// the orthogonal Procrustes solution.
    static func polarFactor(_ x: [Double], rows m: Int, columns n: Int, _ operation: String) throws -> [Double] {
        let d = try decompose(x, rows: m, columns: n, operation)
        var out = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for l in 0..<d.rank {
                let c = d.u[i * d.rank + l]
                for j in 0..<n { out[i * n + j] = out[i * n + j] + c * d.vt[l * n + j] }
            }
        }
        return out
    }
}
