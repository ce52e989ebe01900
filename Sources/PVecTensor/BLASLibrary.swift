import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// OpenBLAS, opened on first use rather than linked.
///
/// Linking libopenblas makes every process pay for loading it and starting its thread pool
/// (about 27 ms on the project's machine, most of `pvec --version`), though most commands
/// never multiply a matrix. pvec takes only the types from `cblas.h` (the `CBLAS` system
/// library) and looks the routines up with `dlopen` the first time one is called, so only
/// commands that compute pay. If OpenBLAS cannot be opened, the process stops with one line
/// that says what to install.
@usableFromInline
struct BLASLibrary: @unchecked Sendable {
    @usableFromInline typealias Sgemm = @convention(c) (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint,
                                      Float, UnsafePointer<Float>?, blasint, UnsafePointer<Float>?, blasint,
                                      Float, UnsafeMutablePointer<Float>?, blasint) -> Void
    @usableFromInline typealias Ssyrk = @convention(c) (CBLAS_ORDER, CBLAS_UPLO, CBLAS_TRANSPOSE, blasint, blasint,
                                      Float, UnsafePointer<Float>?, blasint, Float, UnsafeMutablePointer<Float>?, blasint) -> Void
    @usableFromInline typealias Sgemv = @convention(c) (CBLAS_ORDER, CBLAS_TRANSPOSE, blasint, blasint, Float, UnsafePointer<Float>?, blasint,
                                      UnsafePointer<Float>?, blasint, Float, UnsafeMutablePointer<Float>?, blasint) -> Void
    @usableFromInline typealias Saxpy = @convention(c) (blasint, Float, UnsafePointer<Float>?, blasint, UnsafeMutablePointer<Float>?, blasint) -> Void
    @usableFromInline typealias Sscal = @convention(c) (blasint, Float, UnsafeMutablePointer<Float>?, blasint) -> Void
    @usableFromInline typealias Sdot = @convention(c) (blasint, UnsafePointer<Float>?, blasint, UnsafePointer<Float>?, blasint) -> Float
    @usableFromInline typealias Snrm2 = @convention(c) (blasint, UnsafePointer<Float>?, blasint) -> Float
    typealias GetString = @convention(c) () -> UnsafeMutablePointer<CChar>?
    typealias GetInt = @convention(c) () -> Int32
    typealias SetInt = @convention(c) (Int32) -> Void
    /// LAPACK's Fortran `dgesdd_` (OpenBLAS bundles LAPACK): every argument by reference, 32-bit
    /// integers (Debian's OpenBLAS is not built with INTERFACE64), and gfortran's hidden length
    /// of the `jobz` string last. Column-major; `LAPACK.swift` does the row-major bookkeeping.
    typealias Dgesdd = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?,
                                       UnsafeMutablePointer<Double>?, UnsafePointer<Int32>?, UnsafeMutablePointer<Double>?,
                                       UnsafeMutablePointer<Double>?, UnsafePointer<Int32>?,
                                       UnsafeMutablePointer<Double>?, UnsafePointer<Int32>?,
                                       UnsafeMutablePointer<Double>?, UnsafePointer<Int32>?,
                                       UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?, Int) -> Void

    @usableFromInline let sgemm: Sgemm
    @usableFromInline let ssyrk: Ssyrk
    @usableFromInline let sgemv: Sgemv
    @usableFromInline let saxpy: Saxpy
    @usableFromInline let sscal: Sscal
    @usableFromInline let sdot: Sdot
    @usableFromInline let snrm2: Snrm2
    let getConfig: GetString
    let getCorename: GetString
    let getNumThreads: GetInt
    let setNumThreads: SetInt
    /// nil when the library was built without LAPACK; `LAPACK.svd` then throws instead.
    let dgesdd: Dgesdd?

    /// The names tried, in order: Debian's runtime package (libopenblas0) installs the first.
    static let candidates = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]

    /// The routines, loaded by the first call that needs one.
    @usableFromInline
    static let shared: BLASLibrary = {
        switch load() {
        case .success(let lib): return lib
        case .failure(let message):
            let line = Array("pvec: \(message)\n".utf8)
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            exit(70)
        }
    }()

    enum LoadResult { case success(BLASLibrary), failure(String) }

    static func load() -> LoadResult {
        var reasons: [String] = []
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                reasons.append(dlerror().map { String(cString: $0) } ?? name)
                continue
            }
            var missing: [String] = []
            func symbol<T>(_ s: String, as: T.Type) -> T? {
                guard let p = dlsym(handle, s) else { missing.append(s); return nil }
                return unsafeBitCast(p, to: T.self)
            }
            let lib = (symbol("cblas_sgemm", as: Sgemm.self), symbol("cblas_ssyrk", as: Ssyrk.self),
                       symbol("cblas_sgemv", as: Sgemv.self), symbol("cblas_saxpy", as: Saxpy.self),
                       symbol("cblas_sscal", as: Sscal.self), symbol("cblas_sdot", as: Sdot.self),
                       symbol("cblas_snrm2", as: Snrm2.self), symbol("openblas_get_config", as: GetString.self),
                       symbol("openblas_get_corename", as: GetString.self),
                       symbol("openblas_get_num_threads", as: GetInt.self),
                       symbol("openblas_set_num_threads", as: SetInt.self))
            guard let a = lib.0, let b = lib.1, let c = lib.2, let d = lib.3, let e = lib.4, let f = lib.5,
                  let g = lib.6, let h = lib.7, let i = lib.8, let j = lib.9, let k = lib.10 else {
                reasons.append("\(name) lacks \(missing.joined(separator: ", "))")
                dlclose(handle)
                continue
            }
            // Optional: only the spectral merges need it, so its absence is their error, not every command's.
            let dgesdd = dlsym(handle, "dgesdd_").map { unsafeBitCast($0, to: Dgesdd.self) }
            return .success(BLASLibrary(sgemm: a, ssyrk: b, sgemv: c, saxpy: d, sscal: e, sdot: f, snrm2: g,
                                        getConfig: h, getCorename: i, getNumThreads: j, setNumThreads: k,
                                        dgesdd: dgesdd))
        }
        return .failure("OpenBLAS could not be opened (\(reasons.joined(separator: "; "))); "
            + "install it with scripts/bootstrap (Debian: apt-get install libopenblas-dev)")
    }
}
