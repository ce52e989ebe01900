import PVecTensor

/// How a composition weighs its task vectors: one weight per vector, or one per vector and
/// prompt row (`pvec compose --per-row`).
public enum CompositionWeights: Sendable, Hashable {
    /// w_i for vector i.
    case perSource([Float])
    /// w_{i,r} for vector i, row r: `n · rows` values, vector-major (all rows of vector 0 first).
    case perRow([Float], rows: Int)

    /// The flat values as recorded.
    public var values: [Float] {
        switch self {
        case .perSource(let w): return w
        case .perRow(let w, _): return w
        }
    }

    /// The same layout (per source, or per row with the same row count) holding `values`.
    public func with(values: [Float]) -> CompositionWeights {
        switch self {
        case .perSource: return .perSource(values)
        case .perRow(_, let rows): return .perRow(values, rows: rows)
        }
    }

    /// The weight of vector `i` at row `r`.
    @inline(__always)
    func weight(_ i: Int, row r: Int) -> Float {
        switch self {
        case .perSource(let w): return w[i]
        case .perRow(let w, let rows): return w[i * rows + r]
        }
    }
}

extension TaskVector {
    /// init + Σ_i w_i τ_i: a prompt composed from task vectors with one weight per vector, or
    /// per vector and row (the fitted coefficients of `pvec compose`, as LoraHub weighs LoRA
    /// modules; here over prompt vectors).
    ///
    /// Order, for bit-exact reproduction: per element, s = ((w₀τ₀ + w₁τ₁) + w₂τ₂) + …, each
    /// product and each sum rounded once, then init + s.
    ///
    /// - Throws: `AlgebraError.tooFewOperands` for no vectors, `.shapeMismatch` when a vector or
    ///   the init differs in shape, `.invalidParameter` for a weight count that does not fit or a
    ///   non-finite weight.
    public static func composed(init initial: Tensor, taus: [Tensor], weights: CompositionWeights) throws -> Tensor {
        guard !taus.isEmpty else { throw AlgebraError.tooFewOperands(operation: "compose", minimum: 1, found: 0) }
        let shape = try commonShape(taus + [initial], "compose")
        let n = taus.count, rows = shape.rank == 2 ? shape.rows : 1
        let width = rows > 0 ? initial.count / rows : 0
        let expected: Int
        switch weights {
        case .perSource: expected = n
        case .perRow(_, let r):
            guard r == rows else {
                throw AlgebraError.invalidParameter(operation: "compose", name: "weights", value: "\(r) rows",
                                                    expected: "one weight per vector and prompt row (\(rows) rows)")
            }
            expected = n * rows
        }
        guard weights.values.count == expected else {
            throw AlgebraError.invalidParameter(operation: "compose", name: "weights", value: "\(weights.values.count) values",
                                                expected: "\(expected) (\(n) vectors\(expected == n ? "" : " × \(rows) rows"))")
        }
        for w in weights.values where !w.isFinite {
            throw AlgebraError.invalidParameter(operation: "compose", name: "weights", value: "\(w)", expected: "finite numbers")
        }
        var acc = [Float](repeating: 0, count: initial.count)
        acc.withUnsafeMutableBufferPointer { ab in
            for i in 0..<n {
                taus[i].scalars.withUnsafeBufferPointer { xb in
                    for r in 0..<rows {
                        let w = weights.weight(i, row: r)
                        let base = r * width
                        if i == 0 {
                            for c in 0..<width { ab[base + c] = w * xb[base + c] }
                        } else {
                            for c in 0..<width { ab[base + c] = ab[base + c] + w * xb[base + c] }
                        }
                    }
                }
            }
        }
        return try initial.adding(Tensor(shape: shape, scalars: acc))
    }
}
