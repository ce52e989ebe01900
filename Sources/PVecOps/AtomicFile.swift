import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a file by temp file, fsync and rename in the target folder.
public enum AtomicFile {
    /// Writes `bytes` to `url`; on failure nothing is left behind.
    ///
    /// - Throws: `OpsError.unwritable` naming the file and the reason.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try Data(bytes).write(to: tmp)
            let fd = open(tmp.path, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
            if rename(tmp.path, url.path) != 0 {
                throw OpsError.unwritable(url.path, String(cString: strerror(errno)))
            }
        } catch let e as OpsError {
            try? FileManager.default.removeItem(at: tmp)
            throw e
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw OpsError.unwritable(url.path, error.localizedDescription)
        }
    }
}
