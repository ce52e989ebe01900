import CBLAS

/// Thin, typed wrappers over the OpenBLAS routines pvec uses.
///
/// All matrices are row-major Float32. Leading dimensions default to the packed width.
/// OpenBLAS is opened by the first call (`BLASLibrary`), not at process start.
public enum BLAS {
    /// C[m, n] = alpha * op(A) op(B) + beta * C, where op(A) is [m, k] and op(B) is [k, n].
    ///
    /// - Parameters:
    ///   - transA: use Aᵀ (A is stored [k, m]).
    ///   - transB: use Bᵀ (B is stored [n, k]).
    @inlinable
    public static func sgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int? = nil
    ) {
        let lda = lda ?? (transA ? m : k)
        let ldb = ldb ?? (transB ? k : n)
        let ldc = ldc ?? n
        BLASLibrary.shared.sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k),
                    alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }

    /// The upper triangle of C[n, n] = alpha · A Aᵀ (A stored [n, k] row-major); the strict
    /// lower triangle of C is left as it was. Half the flops of the same sgemm.
    @inlinable
    public static func ssyrkUpper(n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>,
                                  c: UnsafeMutablePointer<Float>) {
        BLASLibrary.shared.ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, blasint(n), blasint(k),
                    alpha, a, blasint(k), 0, c, blasint(n))
    }

    /// y[m] = alpha * op(A) x + beta * y, A stored [m, n] row-major.
    @inlinable
    public static func sgemv(
        trans: Bool = false, m: Int, n: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int? = nil,
        x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        BLASLibrary.shared.sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), alpha, a, blasint(lda ?? n), x, 1, beta, y, 1)
    }

    /// y += alpha * x over n elements.
    @inlinable
    public static func saxpy(n: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        BLASLibrary.shared.saxpy(blasint(n), alpha, x, 1, y, 1)
    }

    /// x *= alpha over n elements.
    @inlinable
    public static func sscal(n: Int, alpha: Float, x: UnsafeMutablePointer<Float>) {
        BLASLibrary.shared.sscal(blasint(n), alpha, x, 1)
    }

    /// Σ x_i y_i over n elements.
    @inlinable
    public static func sdot(n: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
        BLASLibrary.shared.sdot(blasint(n), x, 1, y, 1)
    }

    /// sqrt(Σ x_i²) over n elements.
    @inlinable
    public static func snrm2(n: Int, x: UnsafePointer<Float>) -> Float {
        BLASLibrary.shared.snrm2(blasint(n), x, 1)
    }

    /// The OpenBLAS build and the kernel it selected (e.g. "Haswell"), for benchmark notes.
    public static var configuration: String {
        let cfg = BLASLibrary.shared.getConfig().map { String(cString: $0) } ?? "unknown"
        let core = BLASLibrary.shared.getCorename().map { String(cString: $0) } ?? "unknown"
        return "\(cfg); core \(core); threads \(BLASLibrary.shared.getNumThreads())"
    }

    /// Sets the OpenBLAS thread count (benchmarks and the trainer choose; tests leave the default).
    public static func setThreads(_ n: Int) { BLASLibrary.shared.setNumThreads(Int32(n)) }

    /// The OpenBLAS thread count.
    public static var threads: Int { Int(BLASLibrary.shared.getNumThreads()) }

    /// Runs `body` with OpenBLAS on one thread per call, then restores the thread count: for
    /// callers that run several sgemms at once on their own threads, one per core.
    public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        let before = threads
        if before == 1 { return try body() }
        setThreads(1)
        defer { setThreads(before) }
        return try body()
    }
}
