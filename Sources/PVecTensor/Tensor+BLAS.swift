/// BLAS-backed operations for analysis (norms, cosines, products).
///
/// Results that become stored artifacts use `Tensor+Elementwise` instead: OpenBLAS picks
/// a kernel per CPU, and kernels with and without FMA round differently, which would break
/// "same recipe, same id on any machine".
extension Tensor {
    /// Σ self_i other_i over the flattened tensors.
    public func dot(_ other: Tensor) throws -> Float {
        guard count == other.count else {
            throw TensorError.shapeMismatch("dot of \(shape) and \(other.shape)")
        }
        if count == 0 { return 0 }  // BLAS needs real pointers, and an empty array may have none
        return scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                BLAS.sdot(n: count, x: a.baseAddress!, y: b.baseAddress!)
            }
        }
    }

    /// The L2 norm of the flattened tensor.
    public var norm: Float {
        if count == 0 { return 0 }
        return scalars.withUnsafeBufferPointer { BLAS.snrm2(n: count, x: $0.baseAddress!) }
    }

    /// self += alpha * x (BLAS saxpy); for scratch work, not stored artifacts.
    public mutating func axpy(_ alpha: Float, _ x: Tensor) throws {
        guard count == x.count else {
            throw TensorError.shapeMismatch("axpy of \(x.shape) into \(shape)")
        }
        let n = count
        if n == 0 { return }
        x.scalars.withUnsafeBufferPointer { xb in
            scalars.withUnsafeMutableBufferPointer { yb in
                BLAS.saxpy(n: n, alpha: alpha, x: xb.baseAddress!, y: yb.baseAddress!)
            }
        }
    }

    /// self *= alpha (BLAS sscal); for scratch work, not stored artifacts.
    public mutating func scal(_ alpha: Float) {
        let n = count
        if n == 0 { return }
        scalars.withUnsafeMutableBufferPointer { BLAS.sscal(n: n, alpha: alpha, x: $0.baseAddress!) }
    }

    /// Matrix product of 2-D views: self [m, k] × other [k, n] (or otherᵀ when `transposeOther`).
    public func matmul(_ other: Tensor, transposeOther: Bool = false) throws -> Tensor {
        let m = shape.rows, k = shape.width
        let (ok, n) = transposeOther ? (other.shape.width, other.shape.rows) : (other.shape.rows, other.shape.width)
        guard k == ok else {
            throw TensorError.shapeMismatch("matmul of \(shape) and \(transposeOther ? "transposed " : "")\(other.shape)")
        }
        var out = Tensor(zeros: [m, n])
        if m == 0 || n == 0 || k == 0 { return out }  // BLAS rejects zero leading dimensions
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                out.scalars.withUnsafeMutableBufferPointer { c in
                    BLAS.sgemm(transB: transposeOther, m: m, n: n, k: k,
                               a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                }
            }
        }
        return out
    }
}
