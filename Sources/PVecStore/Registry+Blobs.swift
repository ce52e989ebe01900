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
