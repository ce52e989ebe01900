import Foundation
import GRDB
import PVecTensor

extension Registry {
    // MARK: - Grouped writes

    /// Stages tensors as one blob and returns its id; written by `commit(batch)`.
    public func putBlob(_ tensors: [String: Tensor], in batch: WriteBatch) throws -> BlobID {
        try requireWritable()
        let raw = Safetensors.encode(tensors)
        let hex = Digest.sha256Hex(raw)
        if batch.blobIndex.insert(hex).inserted {
            batch.blobs.append(.init(hex: hex, canonical: raw))
            if tensors.count == 1, let t = tensors["tensor"] { batch.tensors[hex] = t }
        }
        return BlobID(unchecked: hex)
    }

    /// Stages a single tensor under the key `"tensor"`.
    public func putBlob(_ tensor: Tensor, in batch: WriteBatch) throws -> BlobID {
        try putBlob(["tensor": tensor], in: batch)
    }

    /// Validates a manifest and stages it; its blob and parents must be in the registry or
    /// staged before it in the same batch. Checked now, so a refused manifest stops the
    /// command before anything is written (and checked again at commit).
    ///
    /// - Throws: `StoreError.malformedManifest`, `.missingObject` (blob), `.missingParent`.
    @discardableResult
    public func writeManifest(_ m: Manifest, in batch: WriteBatch) throws -> ArtifactID {
        try requireWritable()
        try m.validate()
        let bytes = m.canonicalBytes
        let id = ArtifactID(unchecked: Digest.sha256Hex(bytes))
        if batch.manifestIndex[id] != nil { return id }
        if let blob = m.blob, !batch.blobIndex.contains(blob.hex), !hasBlob(blob) {
            throw StoreError.missingObject(id: blob.hex, what: "blob")
        }
        let outside = Set(m.parents.map(\.id)).filter { batch.manifestIndex[$0] == nil }
        if !outside.isEmpty {
            let present = try catalogRead { db in
                try Set(String.fetchAll(db, sql: "SELECT id FROM artifacts WHERE id IN (SELECT value FROM json_each(?))",
                                        arguments: [JSONValue.array(outside.map { .string($0.hex) }).canonicalString]))
            }
            if let missing = outside.sorted().first(where: { !present.contains($0.hex) }) {
                throw StoreError.missingParent(child: id.hex, parent: missing.hex)
            }
        }
        batch.manifestIndex[id] = batch.manifests.count
        batch.manifests.append((id, m, bytes))
        return id
    }

    /// Stages a name change (as `updateRef`); `commit` returns the version it got.
    ///
    /// - Throws: `StoreError.invalidName`.
    public func updateRef(_ name: String, to id: ArtifactID, expected: ArtifactID?? = nil, command: String,
                          actor: String? = nil, in batch: WriteBatch) throws {
        try RefName.validate(name)
        batch.refs.append(.init(name: name, id: id, expected: expected, command: command, actor: actor))
    }

    /// Writes everything staged: the missing object files in one group (`ObjectDirectory.writeGroup`:
    /// one fsync pass, one fsync per folder), then, in the same IMMEDIATE transaction, the
    /// catalog rows of every manifest and every name change, with one ref-log record.
    ///
    /// The objects are written under the catalog's write lock, after checking them there,
    /// so a concurrent `gc` cannot remove a blob the batch relies on between the check and
    /// the rows. On any error nothing is indexed and no name moves.
    /// - Returns: the version each staged name change left its name at, in staging order.
    /// - Throws: `StoreError.missingObject`, `.missingParent`, `.refConflict`, `.notWritable`.
    @discardableResult
    public func commit(_ batch: WriteBatch) throws -> [Int] {
        try requireWritable()
        guard !batch.committed else { throw StoreError.catalog("a write batch was committed twice") }
        batch.committed = true
        guard !batch.isEmpty else { return [] }
        return try catalogWrite { db in
            var pending: [ObjectDirectory.PendingObject] = []
            for b in batch.blobs where !objects.contains(b.hex) {
                pending.append(.init(directory: objects, hex: b.hex, bytes: BlobEncoding.encodeForStore(b.canonical)))
            }
            let outside = Set(batch.manifests.flatMap { $0.manifest.parents.map(\.id) }).filter { batch.manifestIndex[$0] == nil }
            let present = try Set(String.fetchAll(db, sql: "SELECT id FROM artifacts WHERE id IN (SELECT value FROM json_each(?))",
                                                  arguments: [JSONValue.array(outside.map { .string($0.hex) }).canonicalString]))
            for (id, m, bytes) in batch.manifests {
                if let blob = m.blob, !batch.blobIndex.contains(blob.hex), !hasBlob(blob) {
                    throw StoreError.missingObject(id: blob.hex, what: "blob")
                }
                if let p = m.parents.first(where: { batch.manifestIndex[$0.id] == nil && !present.contains($0.id.hex) }) {
                    throw StoreError.missingParent(child: id.hex, parent: p.id.hex)
                }
                if !manifestObjects.contains(id.hex) {
                    pending.append(.init(directory: manifestObjects, hex: id.hex, bytes: bytes))
                }
            }
            try ObjectDirectory.writeGroup(pending)
            let now = Date()
            for (id, m, bytes) in batch.manifests {
                try Self.index(m, id: id, bytes: bytes, createdAt: now, in: db)
            }
            return try batch.refs.map { r in
                try updateRef(r.name, to: r.id, expected: r.expected, command: r.command, actor: r.actor, in: db)
            }
        }
    }
}
