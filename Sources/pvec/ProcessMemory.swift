#if canImport(Glibc)
import Glibc
#endif

/// glibc hands every allocation above 128 KiB to mmap and gives it back on free, so a command
/// that decodes many blobs (each several arrays of a few hundred KiB) spends much of its time
/// in page faults zeroing fresh pages. A CLI process lives for one command: keeping freed
/// memory for reuse is the better trade (`cos --matrix` over 200 stored vectors: about 20 %
/// less wall time). `pvec serve` is long-lived and does not call this.
enum ProcessMemory {
    static func keepFreedMemoryForReuse() {
        #if canImport(Glibc)
        // mallopt is in <malloc.h>, which the Glibc module does not export; look it up.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(sym, to: Mallopt.self)
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3   // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, 64 << 20)
        _ = mallopt(trimThreshold, 256 << 20)
        #endif
    }
}
