import Foundation
import GRDB
import PVecTensor

extension Registry {
    // MARK: - Manifests

    /// Validates a manifest, stores it as an object and indexes it in the catalog.
    ///
    /// Its blob and parents must already be in the registry. Writing a manifest that is
    /// already there succeeds and returns the same id. The object is written before the
    /// catalog row commits, so a crash in between leaves an object that `checkIntegrity`
    /// reports and `rebuildCatalog` (or writing it again) indexes.
    /// - Throws: `StoreError.malformedManifest`, `.missingObject` (blob), `.missingParent`,
    ///   `.notWritable`.
    @discardableResult
    public func writeManifest(_ m: Manifest) throws -> ArtifactID {
        try requireWritable()
        try m.validate()
        let id = m.id
        let bytes = m.canonicalBytes
        let parentIDs = Set(m.parents.map(\.id))
        // Checks and writes happen under the catalog's write lock, so a concurrent `gc`
        // (which deletes files under the same lock) cannot remove the blob or the manifest
        // object between the check and the catalog row.
        try catalogWrite { db in
            if let blob = m.blob, !hasBlob(blob) {
                throw StoreError.missingObject(id: blob.hex, what: "blob")
            }
            let present = try Set(String.fetchAll(db, sql: "SELECT id FROM artifacts WHERE id IN (SELECT value FROM json_each(?))",
                                                  arguments: [JSONValue.array(parentIDs.map { .string($0.hex) }).canonicalString]))
            if let missing = parentIDs.sorted().first(where: { !present.contains($0.hex) }) {
                throw StoreError.missingParent(child: id.hex, parent: missing.hex)
            }
            try manifestObjects.write(bytes, as: id.hex)
            try Self.index(m, id: id, bytes: bytes, createdAt: Date(), in: db)
        }
        return id
    }

    /// Inserts the catalog rows of a manifest unless present; returns whether it inserted.
    @discardableResult
    static func index(_ m: Manifest, id: ArtifactID, bytes: [UInt8], createdAt: Date, in db: Database) throws -> Bool {
        let shape = m.shape.map { JSONValue.array($0.dims.map { .int(Int64($0)) }).canonicalString }
        try db.execute(sql: """
            INSERT OR IGNORE INTO artifacts
                (id, kind, blob, shape, backbone_model, backbone_width, backbone_embedding, recipe_op, created_at, manifest)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [id.hex, m.kind.rawValue, m.blob?.hex, shape, m.backbone?.model, m.backbone?.width,
                             m.backbone?.embedding, m.recipe.op, createdAt.timeIntervalSince1970,
                             String(decoding: bytes, as: UTF8.self)])
        guard db.changesCount > 0 else { return false }
        for (i, p) in m.parents.enumerated() {
            try db.execute(sql: "INSERT INTO edges (child, parent, role, position) VALUES (?, ?, ?, ?)",
                           arguments: [id.hex, p.id.hex, p.role.rawValue, i])
        }
        return true
    }

    /// The manifest of an artifact, read from its object and checked against its id.
    ///
    /// - Throws: `StoreError.missingObject` or `.corruptObject` naming the manifest.
    public func manifest(_ id: ArtifactID) throws -> Manifest {
        let path = manifestObjects.url(for: id.hex).path
        guard let bytes = try manifestObjects.read(id.hex) else {
            throw StoreError.missingObject(id: id.hex, what: "manifest")
        }
        let actual = Digest.sha256Hex(bytes)
        guard actual == id.hex else {
            throw StoreError.corruptObject(id: id.hex, path: path, reason: "content hashes to \(actual.prefix(12))")
        }
        do {
            return try Manifest(json: JSONValue.parse(bytes))
        } catch {
            throw StoreError.corruptObject(id: id.hex, path: path, reason: "not a valid manifest: \(error.localizedDescription)")
        }
    }

    /// The main tensor of an artifact (the `"tensor"` entry of its blob).
    ///
    /// - Throws: `StoreError.noTensor` for evaluations; blob errors as in `blob(_:)`.
    public func tensor(_ id: ArtifactID) throws -> Tensor {
        let m = try manifest(id)
        guard let b = m.blob else { throw StoreError.noTensor(id) }
        guard let t = try blob(b)["tensor"] else { throw StoreError.noTensor(id) }
        return t
    }

    /// True when the catalog indexes the artifact.
    public func hasArtifact(_ id: ArtifactID) -> Bool {
        let found = try? catalogRead { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM artifacts WHERE id = ?)", arguments: [id.hex])
        }
        return found.flatMap { $0 } ?? false
    }
}
