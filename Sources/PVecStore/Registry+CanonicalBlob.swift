import Foundation
import PVecTensor

extension Registry {
    /// Stores a blob received as raw canonical safetensors bytes (an OCI layer), encoded as
    /// this store encodes its own blobs; returns whether it wrote (false: already there).
    ///
    /// The bytes must be canonical and hash to `id`; nothing is written otherwise.
    /// - Throws: `StoreError.hashMismatch`.
    @discardableResult
    public func putCanonicalBlob(_ raw: [UInt8], as id: BlobID) throws -> Bool {
        let actual = Digest.sha256Hex(raw)
        guard actual == id.hex else { throw StoreError.hashMismatch(id: id.hex, what: "blob", actual: actual) }
        try Self.checkCanonicalBlob(raw, as: id)
        return try putEncodedBlob(BlobEncoding.encodeForStore(raw), as: id)
    }

    /// The raw canonical safetensors bytes of a stored blob, checked against its id.
    ///
    /// - Throws: `StoreError.missingObject`, `.hashMismatch`.
    public func canonicalBlob(_ id: BlobID) throws -> [UInt8] {
        try Self.checkEncodedBlob(encodedBlob(id), as: id)
    }
}
