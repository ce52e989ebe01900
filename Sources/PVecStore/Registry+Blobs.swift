import Foundation
import PVecTensor

extension Registry {
    // MARK: - Blobs

    /// Stores tensors as one blob and returns its id (the SHA-256 of the canonical encoding).
    ///
    /// Writing a blob that is already there does nothing and succeeds.
    /// - Throws: `StoreError.notWritable` when the objects folder cannot be written.
    public func putBlob(_ tensors: [String: Tensor]) throws -> BlobID {
        try requireWritable()
        let raw = Safetensors.encode(tensors)
        let hex = Digest.sha256Hex(raw)
        if !objects.contains(hex) {
            try objects.write(BlobEncoding.encodeForStore(raw), as: hex)
        }
        return BlobID(unchecked: hex)
    }

    /// Stores a single tensor under the key `"tensor"`.
    public func putBlob(_ tensor: Tensor) throws -> BlobID {
        try putBlob(["tensor": tensor])
    }

    /// The tensors of a blob, after checking that its bytes still hash to its id.
    ///
    /// - Throws: `StoreError.missingObject` or `StoreError.corruptObject` naming the blob.
    public func blob(_ id: BlobID) throws -> [String: Tensor] {
        if let t = try singleTensor(id) { return ["tensor": t] }
        let raw = try canonicalBlobBytes(id)
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(bytes: raw)
        } catch {
            throw StoreError.corruptObject(id: id.hex, path: objects.url(for: id.hex).path, reason: error.localizedDescription)
        }
        var out: [String: Tensor] = [:]
        for key in file.keys {
            do {
                out[key] = try file.tensor(key)
            } catch {
                throw StoreError.corruptObject(id: id.hex, path: objects.url(for: id.hex).path, reason: error.localizedDescription)
            }
        }
        return out
    }

    /// The tensor of a blob holding exactly one F32 tensor under `tensor` (every prompt and
    /// vector), read in one pass: the stored bytes are hashed where they lie and copied
    /// once into the tensor; a compressed object is inflated into one buffer and un-shuffled
    /// straight into the tensor's scalars, and the canonical bytes are never assembled.
    /// Nil when the blob has another layout (`blob(_:)` then parses it in full).
    ///
    /// - Throws: `StoreError.missingObject`, `.corruptObject` (bytes that do not hash to the id).
    func singleTensor(_ id: BlobID) throws -> Tensor? {
        let path = objects.url(for: id.hex).path
        guard let encoded = try objects.read(id.hex) else {
            throw StoreError.missingObject(id: id.hex, what: "blob")
        }
        let decoded: (Tensor, String)?
        do {
            decoded = try BlobEncoding.singleTensor(encoded)
        } catch {
            throw StoreError.corruptObject(id: id.hex, path: path, reason: error.reason)
        }
        guard let (tensor, actual) = decoded else { return nil }
        guard actual == id.hex else {
            throw StoreError.corruptObject(id: id.hex, path: path, reason: "content hashes to \(actual.prefix(12))")
        }
        return tensor
    }

    /// The single F32 tensors of `blobs`, each of `count` scalars, decoded straight into
    /// consecutive rows of one `[blobs.count × count]` buffer on every core (each thread
    /// reading its files into one reused buffer), each checked against its id: what
    /// `cos --matrix` stacks, without a tensor (and its allocation) per blob.
    ///
    /// - Returns: nil when a blob holds another layout or size (the caller reads them one by
    ///   one with `blob(_:)`, which reports what is wrong).
    /// - Throws: `StoreError.missingObject`, `.corruptObject`, for the first bad blob in order.
    public func stackedSingleTensors(_ blobs: [BlobID], count: Int) throws -> [Float]? {
        let n = blobs.count
        guard n > 0, count > 0, n <= Int.max / count else { return n == 0 ? [] : nil }
        // A stored prompt is its canonical bytes plus headers; compressed ones are smaller.
        let limit = BlobEncoding.headerSize + 2048 + 4 * count + 64
        let workers = min(n, ProcessInfo.processInfo.activeProcessorCount)
        let failures = BlobReadFailures()
        let out = [Float](unsafeUninitializedCapacity: n * count) { buf, initialized in
            guard let base = buf.baseAddress else { initialized = 0; return }
            let rows = UncheckedFloatRows(base: base)
            var scratch = (0..<workers).map { _ in UncheckedScratch() }
            scratch.withUnsafeMutableBufferPointer { scratch in
                let pads = UncheckedScratchArray(base: scratch.baseAddress!)
                Parallel.forEach(n, workers: workers) { i, w in
                    let id = blobs[i]
                    let url = objects.url(for: id.hex)
                    do {
                        guard let size = try FileIO.readFile(url, into: &pads.base[w].buffer, limit: limit) else {
                            failures.set(i, .notSingle)
                            return
                        }
                        let digest = try BlobEncoding.singleTensor(UnsafeRawBufferPointer(rebasing: pads.base[w].buffer[..<size]),
                                                                   count: count, into: rows.base + i * count)
                        guard let digest else { failures.set(i, .notSingle); return }
                        if digest != id.hex {
                            failures.set(i, .error(StoreError.corruptObject(id: id.hex, path: url.path, reason: "content hashes to \(digest.prefix(12))")))
                        }
                    } catch let e as StoreError {
                        if case .ioFailure = e, !objects.contains(id.hex) {
                            failures.set(i, .error(StoreError.missingObject(id: id.hex, what: "blob")))
                        } else {
                            failures.set(i, .error(e))
                        }
                    } catch let e as BlobDecodingError {
                        failures.set(i, .error(StoreError.corruptObject(id: id.hex, path: url.path, reason: e.reason)))
                    } catch {
                        failures.set(i, .error(StoreError.corruptObject(id: id.hex, path: url.path, reason: "\(error)")))
                    }
                }
            }
            for s in scratch { s.buffer.deallocate() }
            initialized = n * count
        }
        switch failures.first {
        case nil: return out
        case .notSingle?: return nil
        case .error(let e)?: throw e
        }
    }

    /// True when the blob's object file is present; its bytes are not re-hashed (`blob(_:)` does that).
    public func hasBlob(_ id: BlobID) -> Bool {
        objects.contains(id.hex)
    }

    /// The canonical safetensors bytes of a blob, verified against its id.
    func canonicalBlobBytes(_ id: BlobID) throws -> [UInt8] {
        let path = objects.url(for: id.hex).path
        guard let encoded = try objects.read(id.hex) else {
            throw StoreError.missingObject(id: id.hex, what: "blob")
        }
        let raw: [UInt8]
        do {
            raw = try BlobEncoding.decode(encoded)
        } catch {
            throw StoreError.corruptObject(id: id.hex, path: path, reason: error.reason)
        }
        let actual = Digest.sha256Hex(raw)
        guard actual == id.hex else {
            throw StoreError.corruptObject(id: id.hex, path: path, reason: "content hashes to \(actual.prefix(12))")
        }
        return raw
    }
}

/// Why one blob of `stackedSingleTensors` could not go into its row.
private enum BlobReadFailure: @unchecked Sendable {
    case notSingle
    case error(Error)
}

/// The failures of a parallel read, by index; the lowest one is reported.
private final class BlobReadFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var byIndex: [Int: BlobReadFailure] = [:]

    func set(_ i: Int, _ f: BlobReadFailure) {
        lock.lock()
        byIndex[i] = f
        lock.unlock()
    }

    var first: BlobReadFailure? {
        lock.lock()
        defer { lock.unlock() }
        return byIndex.min { $0.key < $1.key }?.value
    }
}

/// The stacked buffer's base address, shared by the threads that each fill their own rows.
private struct UncheckedFloatRows: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
}

/// One thread's read buffer.
private struct UncheckedScratch {
    var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 16)
}

/// The per-thread read buffers; thread w touches only element w.
private struct UncheckedScratchArray: @unchecked Sendable {
    let base: UnsafeMutablePointer<UncheckedScratch>
}
