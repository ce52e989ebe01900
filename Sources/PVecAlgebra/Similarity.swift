import PVecTensor

/// Cosine similarity and norms of flattened tensors, for analysis.
///
/// Belanec et al. (2024) compare task prompt vectors by the cosine of their flattened
/// entries (their Fig. 2). These values are read, not stored, so they use BLAS: fast, and
/// possibly different in the last bits between CPUs.
public enum Similarity {
    /// ‖t‖₂ of the flattened tensor (BLAS snrm2).
    public static func norm(_ t: Tensor) -> Float {
        t.norm
    }

    /// cos(a, b) = a·b / (‖a‖ ‖b‖) of the flattened tensors (Belanec et al. 2024, §4),
    /// clamped to [−1, 1].
    ///
    /// - Throws: `AlgebraError.shapeMismatch`, or `.zeroNorm` when either is the zero vector.
    public static func cosine(_ a: Tensor, _ b: Tensor) throws -> Float {
        _ = try commonShape([a, b], "cos")
        let na = a.norm, nb = b.norm
        if na == 0 || !na.isFinite { throw AlgebraError.zeroNorm(operation: "cos", index: 0) }
        if nb == 0 || !nb.isFinite { throw AlgebraError.zeroNorm(operation: "cos", index: 1) }
        let c = try a.dot(b) / na / nb
        return min(1, max(-1, c))
    }

    /// The n × n matrix of pairwise cosines (Belanec et al. 2024, Fig. 2).
    ///
    /// Rows of the stacked matrix X [n, D] are the flattened tensors divided by their norms;
    /// the result is X Xᵀ from one syrk (upper triangle, mirrored), clamped to [−1, 1].
    ///
    /// ```swift
    /// let m = try Similarity.cosineMatrix([tauA, tauB, tauC])   // [3, 3]
    /// ```
    ///
    /// - Parameter operation: how errors name the command (`cos` for a pair, the default
    ///   `cos --matrix` for a table).
    /// - Throws: `AlgebraError.tooFewOperands` for none, `.shapeMismatch`, or `.zeroNorm`.
    public static func cosineMatrix(_ tensors: [Tensor], operation: String = "cos --matrix") throws -> Tensor {
        let shape = try commonShape(tensors, operation)
        let n = tensors.count, d = shape.count
        // Norms on every core, checked in order (the first bad one is reported), then each
        // normalised row written once into a buffer that is never zero-filled first.
        let norms = try Parallel.map(n) { tensors[$0].norm }
        if let i = norms.firstIndex(where: { $0 == 0 || !$0.isFinite }) {
            throw AlgebraError.zeroNorm(operation: operation, index: i)
        }
        let x = [Float](unsafeUninitializedCapacity: n * d) { xb, initialized in
            // Never empty: a tensor with no elements has norm 0 and was refused above.
            guard let base = xb.baseAddress else { initialized = 0; return }
            let rows = UncheckedRows(base: base)
            Parallel.forEach(n) { i, _ in
                let norm = norms[i]
                tensors[i].scalars.withUnsafeBufferPointer { tb in
                    let row = rows.base + i * d
                    for j in 0..<d { row[j] = tb[j] / norm }
                }
            }
            initialized = n * d
        }
        return gramOfUnitRows(x, n: n, d: d)
    }

    /// The same matrix for `n` tensors of `d` scalars each, already stacked as the rows of
    /// `x` (as `Registry.stackedSingleTensors` reads them from the store, without a tensor
    /// per operand); the rows are normalised in place, on every core.
    ///
    /// - Throws: `AlgebraError.tooFewOperands` for none, `.zeroNorm` for the first row whose
    ///   norm is 0 or not finite.
    public static func cosineMatrix(stacked x: inout [Float], n: Int, d: Int, operation: String = "cos --matrix") throws -> Tensor {
        guard n > 0 else { throw AlgebraError.tooFewOperands(operation: operation, minimum: 1, found: 0) }
        guard d > 0, x.count == n * d else {
            throw AlgebraError.shapeMismatch(operation: operation, expected: [n, d], found: [x.count], index: 0)
        }
        let norms: [Float] = x.withUnsafeBufferPointer { xb in
            let rows = UncheckedRows(base: UnsafeMutablePointer(mutating: xb.baseAddress!))
            return [Float](unsafeUninitializedCapacity: n) { nb, k in
                let out = UncheckedRows(base: nb.baseAddress!)
                Parallel.forEach(n) { i, _ in out.base[i] = BLAS.snrm2(n: d, x: rows.base + i * d) }
                k = n
            }
        }
        if let i = norms.firstIndex(where: { $0 == 0 || !$0.isFinite }) {
            throw AlgebraError.zeroNorm(operation: operation, index: i)
        }
        x.withUnsafeMutableBufferPointer { xb in
            let rows = UncheckedRows(base: xb.baseAddress!)
            Parallel.forEach(n) { i, _ in
                let row = rows.base + i * d
                let norm = norms[i]
                for j in 0..<d { row[j] = row[j] / norm }
            }
        }
        return gramOfUnitRows(x, n: n, d: d)
    }

    /// X Xᵀ of unit rows, clamped to [−1, 1]: one syrk for the upper triangle, mirrored below.
    static func gramOfUnitRows(_ x: [Float], n: Int, d: Int) -> Tensor {
        var c = [Float](repeating: 0, count: n * n)
        x.withUnsafeBufferPointer { xb in
            c.withUnsafeMutableBufferPointer { cb in
                BLAS.ssyrkUpper(n: n, k: d, a: xb.baseAddress!, c: cb.baseAddress!)
            }
        }
        for i in 0..<n {
            for j in i..<n {
                let v = min(1, max(-1, c[i * n + j]))
                c[i * n + j] = v
                c[j * n + i] = v
            }
        }
        return Tensor(shape: [n, n], scalars: c)
    }
}

/// The stacked matrix's base address, shared by the threads that each fill their own rows.
private struct UncheckedRows: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
}
