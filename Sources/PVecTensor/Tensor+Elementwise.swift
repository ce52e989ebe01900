/// Elementwise arithmetic with a fixed evaluation order and no fused multiply-add,
/// so results are bit-identical on every machine (stored artifacts depend on it).
extension Tensor {
    /// self + other.
    public func adding(_ other: Tensor) throws -> Tensor {
        try zipped(other, "add") { $0 + $1 }
    }

    /// self - other.
    public func subtracting(_ other: Tensor) throws -> Tensor {
        try zipped(other, "subtract") { $0 - $1 }
    }

    /// s * self.
    public func scaled(by s: Float) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map { s * $0 })
    }

    /// -self.
    public func negated() -> Tensor {
        Tensor(shape: shape, scalars: scalars.map { -$0 })
    }

    /// Elementwise f(self_i, other_i); shapes must be equal.
    public func zipped(_ other: Tensor, _ what: String, _ f: (Float, Float) -> Float) throws -> Tensor {
        guard shape == other.shape else {
            throw TensorError.shapeMismatch("cannot \(what) \(shape) and \(other.shape)")
        }
        var out = [Float](repeating: 0, count: count)
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<o.count { o[i] = f(a[i], b[i]) }
                }
            }
        }
        return Tensor(shape: shape, scalars: out)
    }
}
