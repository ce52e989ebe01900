import Foundation
import PVecTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An object written and fsynced under a temp name in its final folder, not yet renamed into
/// place: a transfer writes each object as soon as it arrives and passes its checks, while
/// later ones are still on the wire, and a group write (`ObjectDirectory.writeGroup`) renames
/// them all at once when the whole transfer has passed.
///
/// Until then the object is not in the registry (nothing reads temp names), and one that is
/// never placed is removed when the last reference to it goes: a transfer that fails half
/// way leaves nothing behind. A crash leaves a temp file that `staleTempFiles` finds.
final class StagedObject: @unchecked Sendable {
    let directory: ObjectDirectory
    let hex: String
    let temp: URL
    /// The parents of folders made for it, whose new entries are not fsynced yet (the
    /// object's own folder is fsynced after the rename in any case).
    let unsyncedFolders: [URL]
    private let lock = NSLock()
    private var placed = false

    /// Writes `bytes` under a temp name in the object's folder and fsyncs the file.
    init(directory: ObjectDirectory, hex: String, bytes: [UInt8]) throws {
        self.directory = directory
        self.hex = hex
        let folder = directory.url(for: hex).deletingLastPathComponent()
        unsyncedFolders = try FileIO.makeDirectory(folder, syncParent: false)
        temp = folder.appendingPathComponent("\(ObjectDirectory.tempPrefix)\(getpid())_\(UInt64.random(in: 0...UInt64.max))")
        // Objects are immutable: read-only, as git makes them.
        try FileIO.writeNew(bytes, to: temp, mode: 0o444)
    }

    var final: URL { directory.url(for: hex) }

    /// Marks the temp file as renamed (or to be left alone); it is no longer removed on release.
    func markPlaced() {
        lock.lock()
        placed = true
        lock.unlock()
    }

    /// Removes the temp file now (its object is already stored).
    func discard() {
        lock.lock()
        defer { lock.unlock() }
        guard !placed else { return }
        placed = true
        _ = unlink(temp.path)
    }

    deinit {
        if !placed { _ = unlink(temp.path) }
    }
}

/// A blob staged by `Registry.stageCanonicalBlob`: checked (hash and canonical layout) and
/// written under a temp name, waiting for `Registry.receive` to make it part of the registry.
public struct StagedBlob: Sendable {
    public let id: BlobID
    let object: StagedObject
}

extension Registry {
    /// Checks canonical blob bytes received from elsewhere (they hash to `id`, canonical
    /// safetensors layout) and writes them, in the registry's stored encoding, under a temp
    /// name in their final folder (fsynced), so that a transfer's disk writes overlap the
    /// rest of its network work. The blob becomes part of the registry only when the
    /// `StagedBlob` goes into `receive` (`IncomingBlob.staged`); a staged blob dropped
    /// without it leaves nothing.
    ///
    /// - Throws: `StoreError.hashMismatch` (nothing is written), or a write error.
    public func stageCanonicalBlob(_ raw: [UInt8], as id: BlobID) throws -> StagedBlob {
        try requireWritable()
        let actual = Digest.sha256Hex(raw)
        guard actual == id.hex else { throw StoreError.hashMismatch(id: id.hex, what: "blob", actual: actual) }
        try Self.checkCanonicalBlob(raw, as: id)
        return StagedBlob(id: id, object: try StagedObject(directory: objects, hex: id.hex, bytes: BlobEncoding.encodeForStore(raw)))
    }
}
