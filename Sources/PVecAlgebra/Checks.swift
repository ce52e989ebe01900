import PVecTensor

/// The shared shape of `tensors`, which must number at least `minimum`.
func commonShape(_ tensors: [Tensor], _ operation: String, minimum: Int = 1) throws -> Shape {
    guard tensors.count >= minimum, let first = tensors.first else {
        throw AlgebraError.tooFewOperands(operation: operation, minimum: max(minimum, 1), found: tensors.count)
    }
    for (i, t) in tensors.enumerated() where t.shape != first.shape {
        throw AlgebraError.shapeMismatch(operation: operation, expected: first.shape, found: t.shape, index: i)
    }
    return first.shape
}

/// Throws `nonFinite` for the first operand holding NaN or infinity.
func requireFinite(_ tensors: [Tensor], _ operation: String) throws {
    for (i, t) in tensors.enumerated() where !t.isFinite {
        throw AlgebraError.nonFinite(operation: operation, index: i)
    }
}

/// Weights for `count` operands: all ones when nil, else exactly `count` finite values.
func resolveWeights(_ weights: [Float]?, count: Int, _ operation: String) throws -> [Float] {
    guard let weights else { return [Float](repeating: 1, count: count) }
    guard weights.count == count else {
        throw AlgebraError.invalidParameter(operation: operation, name: "weights", value: "\(weights.count) values",
                                            expected: "one weight per operand (\(count))")
    }
    for w in weights where !w.isFinite {
        throw AlgebraError.invalidParameter(operation: operation, name: "weights", value: "\(w)", expected: "finite numbers")
    }
    return weights
}

func requireFiniteParameter(_ value: Float, _ name: String, _ operation: String) throws {
    guard value.isFinite else {
        throw AlgebraError.invalidParameter(operation: operation, name: name, value: "\(value)", expected: "a finite number")
    }
}

// MARK: - Fixed-order kernels
//
// One rounding per operation and a fixed order over operands, with no fused multiply-add
// (Swift does not contract `a * b + c`), so every machine computes the same bits.

/// out = w · x, elementwise.
func scaledCopy(_ x: Tensor, by w: Float) -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    x.scalars.withUnsafeBufferPointer { xb in
        out.withUnsafeMutableBufferPointer { ob in
            for j in 0..<ob.count { ob[j] = w * xb[j] }
        }
    }
    return out
}

/// acc += w · x, elementwise: the product rounds, then the sum rounds.
func accumulate(_ acc: inout [Float], _ x: Tensor, weight w: Float) {
    x.scalars.withUnsafeBufferPointer { xb in
        acc.withUnsafeMutableBufferPointer { ab in
            if w == 1 {
                for j in 0..<ab.count { ab[j] = ab[j] + xb[j] }   // 1 · x == x exactly
            } else {
                for j in 0..<ab.count { ab[j] = ab[j] + w * xb[j] }
            }
        }
    }
}

/// Σ_i w_i x_i, accumulated left to right: ((w₀x₀ + w₁x₁) + w₂x₂) + …
func weightedSum(_ xs: [Tensor], weights: [Float]) -> [Float] {
    var acc = scaledCopy(xs[0], by: weights[0])
    for i in 1..<xs.count { accumulate(&acc, xs[i], weight: weights[i]) }
    return acc
}

/// s · acc, elementwise, in place.
func scaleInPlace(_ acc: inout [Float], by s: Float) {
    if s == 1 { return }
    acc.withUnsafeMutableBufferPointer { ab in
        for j in 0..<ab.count { ab[j] = s * ab[j] }
    }
}
