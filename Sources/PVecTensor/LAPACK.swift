import Foundation

/// The thin singular value decomposition A = U diag(s) Vᵀ of a row-major matrix, in Double.
///
/// For A [m, n] and k = min(m, n): `u` is [m, k], `s` holds k values in descending order,
/// `vt` is [k, n], all row-major.
public struct SingularValueDecomposition: Sendable {
    public let rows: Int
    public let columns: Int
    /// min(rows, columns).
    public let rank: Int
    /// U [rows, rank], row-major.
    public let u: [Double]
    /// The singular values, largest first.
    public let s: [Double]
    /// Vᵀ [rank, columns], row-major.
    public let vt: [Double]
}

/// Typed wrappers over the LAPACK routines pvec uses (OpenBLAS ships LAPACK; it is opened
/// with the BLAS routines, `BLASLibrary`).
///
/// LAPACK is column-major. A row-major [m, n] buffer is, read column-major, Aᵀ [n, m]; so
/// `svd` factors Aᵀ = U' S V'ᵀ and returns U = V' and Vᵀ = U'ᵀ. The buffers need no copying:
/// V'ᵀ [k, m] column-major is V' [m, k] row-major, and U' [n, k] column-major is U'ᵀ [k, n]
/// row-major.
///
/// Determinism: the call runs with OpenBLAS pinned to one thread (and restored after), so
/// the bits do not depend on the thread count. They can still differ between CPUs (OpenBLAS
/// picks kernels by CPU) and OpenBLAS versions.
public enum LAPACK {
    /// Serialises the thread pinning around LAPACK calls.
    private static let pin = NSLock()

    /// The largest matrix `svd` accepts, in entries (LAPACK indexes with 32-bit integers,
    /// and the workspace grows with the matrix).
    public static let maxEntries = 1 << 26

    /// The thin SVD of the row-major matrix `a` [rows, columns] (`dgesdd`, divide and conquer).
    ///
    /// ```swift
    /// let d = try LAPACK.svd(values, rows: 8, columns: 384)   // d.u [8, 8], d.s [8], d.vt [8, 384]
    /// ```
    ///
    /// - Throws: `TensorError.shapeMismatch` when `a` does not hold rows × columns values or the
    ///   matrix is empty or too large, `.nonFinite` for NaN or infinity in `a`, and
    ///   `.linearAlgebra` when LAPACK is missing, refuses an argument or does not converge.
    public static func svd(_ a: [Double], rows m: Int, columns n: Int) throws -> SingularValueDecomposition {
        guard m > 0, n > 0, a.count == m * n, m * n <= maxEntries else {
            throw TensorError.shapeMismatch("svd needs a non-empty [rows, columns] matrix of at most \(maxEntries) entries; got \(a.count) values for [\(m), \(n)]")
        }
        guard a.allSatisfy(\.isFinite) else { throw TensorError.nonFinite("the matrix to decompose") }
        guard let dgesdd = BLASLibrary.shared.dgesdd else {
            throw TensorError.linearAlgebra(routine: "dgesdd", info: 0,
                                            reason: "this OpenBLAS has no LAPACK; install Debian's libopenblas0 (which bundles it)")
        }
        let k = min(m, n)
        // Column-major view: the matrix is Aᵀ, [n, m].
        var cm = Int32(n), cn = Int32(m), lda = Int32(n), ldu = Int32(n), ldvt = Int32(k)
        var work = a
        var s = [Double](repeating: 0, count: k)
        var uPrime = [Double](repeating: 0, count: n * k)    // U' [n, k] = Vᵀ [k, n] row-major
        var vtPrime = [Double](repeating: 0, count: k * m)   // V'ᵀ [k, m] = U [m, k] row-major
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var info: Int32 = 0
        let jobz: [CChar] = [CChar(UInt8(ascii: "S")), 0]

        pin.lock()
        defer { pin.unlock() }
        let threads = BLASLibrary.shared.getNumThreads()
        BLASLibrary.shared.setNumThreads(1)
        defer { BLASLibrary.shared.setNumThreads(threads) }

        // Workspace query (lwork = -1), then the decomposition.
        var query = [Double](repeating: 0, count: 1)
        var lwork: Int32 = -1
        dgesdd(jobz, &cm, &cn, &work, &lda, &s, &uPrime, &ldu, &vtPrime, &ldvt, &query, &lwork, &iwork, &info, 1)
        guard info == 0, query[0].isFinite, query[0] >= 1, query[0] <= Double(Int32.max) else {
            throw TensorError.linearAlgebra(routine: "dgesdd", info: Int(info), reason: "the workspace query failed for a [\(m), \(n)] matrix")
        }
        lwork = Int32(query[0])
        var space = [Double](repeating: 0, count: Int(lwork))
        dgesdd(jobz, &cm, &cn, &work, &lda, &s, &uPrime, &ldu, &vtPrime, &ldvt, &space, &lwork, &iwork, &info, 1)
        if info < 0 {
            throw TensorError.linearAlgebra(routine: "dgesdd", info: Int(info), reason: "argument \(-info) was invalid (a bug in pvec; please report it)")
        }
        if info > 0 {
            throw TensorError.linearAlgebra(routine: "dgesdd", info: Int(info), reason: "the decomposition did not converge for this [\(m), \(n)] matrix")
        }
        return SingularValueDecomposition(rows: m, columns: n, rank: k, u: vtPrime, s: s, vt: uPrime)
    }
}
