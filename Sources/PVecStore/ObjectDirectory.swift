import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A git-style loose object folder: `<base>/ab/<62 more hex digits>`.
///
/// Writes go to `tmp_<pid>_<random>` in the final folder, are fsynced, renamed into place,
/// and the folder is fsynced, so a crash leaves either the whole object or a stray temp file
/// (found by `staleTempFiles`), never a partial object. An object that already
/// exists is left alone: same name, same content.
struct ObjectDirectory: Sendable {
    let base: URL

    static let tempPrefix = "tmp_"
    /// Files a group write keeps open before it fsyncs and closes them.
    static let maxOpenFiles = 256

    func url(for hex: String) -> URL {
        base.appendingPathComponent(String(hex.prefix(2)), isDirectory: true)
            .appendingPathComponent(String(hex.dropFirst(2)), isDirectory: false)
    }

    func contains(_ hex: String) -> Bool {
        access(url(for: hex).path, F_OK) == 0
    }

    /// Writes the bytes under the id unless the object exists; returns whether it wrote.
    @discardableResult
    func write(_ bytes: [UInt8], as hex: String) throws -> Bool {
        let final = url(for: hex)
        if contains(hex) { return false }
        let folder = final.deletingLastPathComponent()
        try FileIO.makeDirectory(folder, syncParent: true)
        let temp = folder.appendingPathComponent("\(Self.tempPrefix)\(getpid())_\(UInt64.random(in: 0...UInt64.max))")
        do {
            // Objects are immutable: read-only, as git makes them.
            try FileIO.writeNew(bytes, to: temp, mode: 0o444)
            try FileIO.move(temp, to: final)
        } catch {
            _ = unlink(temp.path)
            throw error
        }
        try FileIO.syncDirectory(folder)
        return true
    }

    /// An object to write as part of a group (`writeGroup`).
    struct PendingObject {
        var directory: ObjectDirectory
        var hex: String
        var bytes: [UInt8]
    }

    /// Writes several objects with one fsync pass: every temp file is written, then each is
    /// fsynced, then all are renamed into place, then each folder involved is fsynced once,
    /// as is each parent of a folder made here (`objects/` once, not once per new `ab/`).
    /// Objects already present (or listed twice) are written once or not at all.
    ///
    /// Every object is durable when this returns. If a write or fsync fails, every temp file
    /// is removed and no object appears; a rename that fails part-way leaves the objects
    /// already renamed, which are whole and content-addressed (like a crash would).
    ///
    /// `staged` objects, already written and fsynced under temp names, are renamed with the
    /// others and their folders fsynced with theirs; one already present is removed.
    /// - Returns: how many objects were written.
    @discardableResult
    static func writeGroup(_ objects: [PendingObject], staged: [StagedObject] = []) throws -> Int {
        var seen: Set<String> = []
        var todo: [(final: URL, temp: URL)] = []
        // Files still open: written, not yet fsynced. At most `maxOpenFiles` at a time, so a
        // pull of thousands of objects stays far below a 1024-descriptor limit.
        var unsynced: [(temp: URL, fd: Int32)] = []
        var folders: [String: URL] = [:]
        defer { for f in unsynced { close(f.fd) } }
        func syncOpenFiles() throws {
            try FileIO.syncAll(unsynced)
            for f in unsynced { close(f.fd) }
            unsynced.removeAll()
        }
        do {
            for o in objects {
                let final = o.directory.url(for: o.hex)
                guard seen.insert(final.path).inserted, !o.directory.contains(o.hex) else { continue }
                let folder = final.deletingLastPathComponent()
                if folders[folder.path] == nil {
                    // A folder made here is fsynced into its parent with the others, below.
                    for parent in try FileIO.makeDirectory(folder, syncParent: false) { folders[parent.path] = parent }
                    folders[folder.path] = folder
                }
                let temp = folder.appendingPathComponent("\(tempPrefix)\(getpid())_\(UInt64.random(in: 0...UInt64.max))")
                let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
                guard fd >= 0 else { throw FileIO.error(errno, temp, "create") }
                todo.append((final, temp))
                unsynced.append((temp, fd))
                try FileIO.writeAll(fd, o.bytes, temp)
                if unsynced.count >= Self.maxOpenFiles { try syncOpenFiles() }
            }
            try syncOpenFiles()
        } catch {
            for t in todo { _ = unlink(t.temp.path) }
            throw error
        }
        for (k, t) in todo.enumerated() {
            do {
                try FileIO.move(t.temp, to: t.final)
            } catch {
                for rest in todo[k...] { _ = unlink(rest.temp.path) }
                throw error
            }
        }
        var placed = 0
        for s in staged {
            let final = s.final
            // Present already, or staged twice: the temp file goes now.
            guard seen.insert(final.path).inserted, !s.directory.contains(s.hex) else {
                s.discard()
                continue
            }
            try FileIO.move(s.temp, to: final)
            s.markPlaced()
            placed += 1
            let folder = final.deletingLastPathComponent()
            folders[folder.path] = folder
            for f in s.unsyncedFolders { folders[f.path] = f }
        }
        for folder in folders.values.sorted(by: { $0.path < $1.path }) { try FileIO.syncDirectory(folder) }
        return todo.count + placed
    }

    /// The object's bytes; nil if it does not exist.
    func read(_ hex: String) throws -> [UInt8]? {
        let u = url(for: hex)
        guard contains(hex) else { return nil }
        return try FileIO.readFile(u)
    }

    /// Every object id present (files named like objects in two-hex-digit folders).
    func allIDs() throws -> [String] {
        var ids: [String] = []
        let fm = FileManager.default
        guard let folders = try? fm.contentsOfDirectory(atPath: base.path) else { return [] }
        for f in folders.sorted() where f.count == 2 && ObjectID.isHexDigits(f) {
            let names = (try? fm.contentsOfDirectory(atPath: base.appendingPathComponent(f).path)) ?? []
            for n in names.sorted() where n.count == 62 && ObjectID.isHexDigits(n) {
                ids.append(f + n)
            }
        }
        return ids
    }

    /// Size of the object file in bytes (0 if missing).
    func size(_ hex: String) -> Int64 {
        var st = stat()
        guard stat(url(for: hex).path, &st) == 0 else { return 0 }
        return Int64(st.st_size)
    }

    func remove(_ hex: String) throws {
        let u = url(for: hex)
        if unlink(u.path) != 0 && errno != ENOENT {
            throw FileIO.error(errno, u, "remove")
        }
    }

    /// Temp files left by writers that died: their pid is gone, or they are older than
    /// `maxAge` (the pid may have been reused, or belong to another machine sharing the disk).
    func staleTempFiles(maxAge: TimeInterval, now: Date = Date()) -> [URL] {
        var out: [URL] = []
        let fm = FileManager.default
        guard let folders = try? fm.contentsOfDirectory(atPath: base.path) else { return [] }
        for f in folders where f.count == 2 {
            let folder = base.appendingPathComponent(f, isDirectory: true)
            for n in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] where n.hasPrefix(Self.tempPrefix) {
                let u = folder.appendingPathComponent(n)
                if Self.isStale(u, maxAge: maxAge, now: now) { out.append(u) }
            }
        }
        return out.sorted { $0.path < $1.path }
    }

    static func isStale(_ u: URL, maxAge: TimeInterval, now: Date) -> Bool {
        let parts = u.lastPathComponent.split(separator: "_")
        if parts.count >= 2, let pid = Int32(parts[1]), pid > 0, pid != getpid() {
            if kill(pid, 0) != 0 && errno == ESRCH { return true }
        }
        guard let mtime = (try? FileManager.default.attributesOfItem(atPath: u.path))?[.modificationDate] as? Date else {
            return false
        }
        return now.timeIntervalSince(mtime) > maxAge
    }
}

extension ObjectID {
    static func isHexDigits(_ s: String) -> Bool {
        s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// POSIX file operations with errors mapped to `StoreError` (the registry cares about
/// fsync and rename semantics, which Foundation does not expose).
enum FileIO {
    static func error(_ code: Int32, _ url: URL, _ op: String) -> StoreError {
        let reason = "\(op) failed: \(String(cString: strerror(code)))"
        switch code {
        case EACCES, EPERM, EROFS, ENOTDIR, EISDIR, EEXIST:
            return .notWritable(path: url.path, reason: reason)
        default:
            return .ioFailure(path: url.path, reason: reason)
        }
    }

    /// mkdir -p; fsyncs the parent of each folder it creates so the new entry is durable.
    /// With `syncParent` false nothing is fsynced and the parents to fsync are returned
    /// instead (a group write fsyncs each of them once, after its renames).
    @discardableResult
    static func makeDirectory(_ url: URL, syncParent: Bool) throws -> [URL] {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw StoreError.notWritable(path: url.path, reason: "a file is in the way where a folder should be")
            }
            return []
        }
        let parent = url.deletingLastPathComponent()
        var unsynced: [URL] = []
        if parent.path != url.path { unsynced = try makeDirectory(parent, syncParent: syncParent) }
        if mkdir(url.path, 0o755) != 0 && errno != EEXIST {
            throw error(errno, url, "mkdir")
        }
        if syncParent { try syncDirectory(parent) } else { unsynced.append(parent) }
        return unsynced
    }

    /// Creates a new file (O_EXCL), writes everything and fsyncs it.
    static func writeNew(_ bytes: [UInt8], to url: URL, mode: mode_t = 0o644) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw error(errno, url, "create") }
        defer { close(fd) }
        try writeAll(fd, bytes, url)
        guard fsync(fd) == 0 else { throw error(errno, url, "fsync") }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ url: URL) throws {
        var done = 0
        try bytes.withUnsafeBytes { buf in
            while done < buf.count {
                let n = write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw error(errno, url, "write")
                }
                done += n
            }
        }
    }

    /// fsyncs every file, several at a time: the file system commits concurrent fsyncs
    /// together (8 in flight take half the time of one after another here). Throws for the
    /// first file, in order, whose fsync failed, after all have finished.
    static func syncAll(_ files: [(temp: URL, fd: Int32)], threads: Int = 8) throws {
        let width = min(threads, files.count)
        if width <= 2 {
            for f in files where fsync(f.fd) != 0 { throw error(errno, f.temp, "fsync") }
            return
        }
        let failures = SyncFailures(count: files.count)
        let group = DispatchGroup()
        let fds = files.map(\.fd)
        for w in 0..<width {
            group.enter()
            // Threads, not concurrentPerform: fsync blocks, and concurrentPerform runs one
            // item per core.
            Thread {
                for i in stride(from: w, to: fds.count, by: width) where fsync(fds[i]) != 0 {
                    failures.record(i, errno)
                }
                group.leave()
            }.start()
        }
        group.wait()
        if let (i, code) = failures.first { throw error(code, files[i].temp, "fsync") }
    }

    /// Appends a line with O_APPEND and fsyncs it (the ref log).
    static func appendLine(_ bytes: [UInt8], to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw error(errno, url, "open for append") }
        defer { close(fd) }
        try writeAll(fd, bytes + [0x0A], url)
        guard fsync(fd) == 0 else { throw error(errno, url, "fsync") }
    }

    static func move(_ from: URL, to: URL) throws {
        guard rename(from.path, to.path) == 0 else { throw error(errno, to, "rename") }
    }

    static func syncDirectory(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw error(errno, url, "open folder") }
        defer { close(fd) }
        // Some file systems refuse fsync on folders (EINVAL); the rename is then as durable as it gets.
        if fsync(fd) != 0 && errno != EINVAL { throw error(errno, url, "fsync folder") }
    }

    /// An open descriptor for reading and the size `fstat` reports (0 for what is not a
    /// regular file); the caller closes it.
    static func openForReading(_ url: URL) throws -> (fd: Int32, size: Int) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw error(errno, url, "open") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw error(code, url, "stat")
        }
        return (fd, st.st_mode & S_IFMT == S_IFREG ? max(Int(st.st_size), 0) : 0)
    }

    /// The whole file, read with one buffer of the size `fstat` reports (a file that grows
    /// meanwhile is read to its end all the same).
    static func readFile(_ url: URL) throws -> [UInt8] {
        let (fd, size) = try openForReading(url)
        defer { close(fd) }
        var failure: Int32 = 0
        var out = [UInt8](unsafeUninitializedCapacity: size) { buf, count in
            (count, failure) = size == 0 ? (0, 0) : readUpTo(fd, into: UnsafeMutableRawPointer(buf.baseAddress!), size)
        }
        if failure != 0 { throw error(failure, url, "read") }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw error(errno, url, "read")
            }
            if n == 0 { break }
            out += chunk[0..<n]
        }
        return out
    }

    /// Reads the whole file into `scratch`, reallocating it only when the file is larger than
    /// it, and returns how many bytes came: a thread reading many objects in turn allocates
    /// (and faults in) one buffer, not one per object. Nil (nothing read) for a file larger
    /// than `limit`.
    static func readFile(_ url: URL, into scratch: inout UnsafeMutableRawBufferPointer, limit: Int) throws -> Int? {
        let (fd, size) = try openForReading(url)
        defer { close(fd) }
        guard size <= limit else { return nil }
        if scratch.count < size {
            scratch.deallocate()
            scratch = .allocate(byteCount: size, alignment: 16)
        }
        guard size > 0, let base = scratch.baseAddress else { return 0 }
        let (count, failure) = readUpTo(fd, into: base, size)
        if failure != 0 { throw error(failure, url, "read") }
        return count
    }

    /// Reads until `size` bytes have come or the file ends (retrying on EINTR); the count
    /// read, and the errno of a failed read (0 when none failed).
    static func readUpTo(_ fd: Int32, into base: UnsafeMutableRawPointer, _ size: Int) -> (count: Int, failure: Int32) {
        var count = 0
        while count < size {
            let n = read(fd, base + count, size - count)
            if n < 0 {
                if errno == EINTR { continue }
                return (count, errno)
            }
            if n == 0 { break }
            count += n
        }
        return (count, 0)
    }

    /// Writes a small file atomically (temp, fsync, rename, fsync folder), replacing it.
    static func replace(_ url: URL, with bytes: [UInt8]) throws {
        let folder = url.deletingLastPathComponent()
        let temp = folder.appendingPathComponent("\(ObjectDirectory.tempPrefix)\(getpid())_\(UInt64.random(in: 0...UInt64.max))")
        do {
            try writeNew(bytes, to: temp)
            try move(temp, to: url)
        } catch {
            _ = unlink(temp.path)
            throw error
        }
        try syncDirectory(folder)
    }

    /// Runs `body` holding an exclusive flock on `url` (created if needed).
    static func withLock<T>(_ url: URL, _ body: () throws -> T) throws -> T {
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw error(errno, url, "open lock file") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw error(errno, url, "lock") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

/// The errno of each failed fsync of a `FileIO.syncAll`, by index.
private final class SyncFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var codes: [Int: Int32] = [:]

    init(count: Int) { codes.reserveCapacity(min(count, 16)) }

    func record(_ index: Int, _ code: Int32) {
        lock.lock()
        codes[index] = code
        lock.unlock()
    }

    /// The failure of the lowest index.
    var first: (Int, Int32)? {
        lock.lock()
        defer { lock.unlock() }
        return codes.min { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
