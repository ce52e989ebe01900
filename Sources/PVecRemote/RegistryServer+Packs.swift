import Foundation
import Hummingbird
import PVecStore
import PVecTensor

/// The two pack routes: many objects per request each way (`ObjectPack`), checked exactly as
/// the one-object routes check them, with one fsync pass and one transaction per pack.
extension RegistryServer {
    /// `POST /v1/pack`: stores the blobs and manifests of a pack, all or nothing.
    ///
    /// Every blob must decode, hash to its id and be canonical; every manifest must be
    /// canonical, hash to its id, agree with its blob (in this pack or already here) and name
    /// only parents that are here or earlier in the pack. If any object fails, nothing of the
    /// pack is written. What arrives is pinned, as with the one-object routes.
    func postPack(_ body: [UInt8], token: AccessToken) throws -> Response {
        let pack: ObjectPack
        do {
            pack = try ObjectPack.decode(body, maxEntries: limits.idsPerRequest)
        } catch let e as ObjectPack.FormatError {
            throw APIError(.badRequest, "the pack is refused: \(e.description)")
        }
        let incoming = pack.blobs
        var inPack: [BlobID: Int] = [:]
        for (k, b) in incoming.enumerated() { inPack[b.id] = k }
        let manifests = pack.manifests
        let parsed: [Manifest] = try Parallel.map(manifests.count) { k in
            let (id, bytes) = manifests[k]
            try checkJSONLimits(bytes, maxDepth: 32)
            let manifest = try Registry.incomingManifest(bytes, as: id).1
            if let b = manifest.blob {
                let raw: [UInt8]
                if let i = inPack[b] {
                    raw = try Registry.checkEncodedBlob(incoming[i].encoded, as: b)
                    try Registry.checkCanonicalBlob(raw, as: b)
                } else {
                    guard blobs.hasBlob(b) else {
                        throw APIError(.unprocessableContent, "manifest \(id.short) needs blob \(b.short), which is neither in the pack nor on this server; send the blob first")
                    }
                    raw = try Registry.checkEncodedBlob(blobs.encodedBlob(b), as: b)
                    try Registry.checkCanonicalBlob(raw, as: b)
                }
                try Registry.checkManifest(manifest, id: id, againstBlob: raw)
            }
            return manifest
        }
        var known: Set<ArtifactID> = []
        for (k, m) in parsed.enumerated() {
            let id = manifests[k].id
            for p in m.parents where !known.contains(p.id) && !catalog.hasArtifact(p.id) {
                throw APIError(.unprocessableContent, "manifest \(id.short) names parent \(p.id.short), which is neither earlier in the pack nor on this server; send the parent first")
            }
            known.insert(id)
        }
        // Blobs next (each checked by the store, all before any is written, durable before a
        // manifest names them), then the manifests in one transaction, which checks parents
        // and blobs again.
        let stored = try blobs.putEncodedBlobs(incoming)
        if !incoming.isEmpty { try catalog.pin(incoming.map(\.id.hex), for: pinLifetime) }
        var fresh: [ArtifactID] = []
        if !manifests.isEmpty {
            fresh = try catalog.receive(IncomingBatch(manifests: manifests.map(\.bytes), pinFor: pinLifetime), source: "push",
                                        command: "push pack [\(manifests.count) manifest\(manifests.count == 1 ? "" : "s")]",
                                        actor: "token:\(token.name)")
        }
        return Self.json(["blobs": .int(Int64(stored)), "manifests": .int(Int64(fresh.count))],
                         status: stored + fresh.count > 0 ? .created : .ok)
    }

    /// `POST /v1/objects` `{"manifests": [...], "blobs": [...], "max_bytes": N}`: a pack of the
    /// asked objects, manifests first, each in the order asked, as many as fit in `max_bytes`
    /// (capped at `limits.packBytes`; at least one); the client asks again for the rest. 404
    /// for an id the server does not have.
    func getObjects(_ body: JSONValue) throws -> Response {
        let manifestIDs = try idList(body["manifests"] ?? .array([]), artifact: true).compactMap(ArtifactID.init)
        let blobIDs = try idList(body["blobs"] ?? .array([]), artifact: false).compactMap(BlobID.init)
        guard manifestIDs.count + blobIDs.count <= limits.idsPerRequest else {
            throw APIError(.contentTooLarge, "at most \(limits.idsPerRequest) ids per request")
        }
        var cap = limits.packBytes
        if let asked = body["max_bytes"] {
            guard let n = asked.intValue, n > 0 else { throw APIError(.badRequest, "\"max_bytes\" must be a positive integer") }
            cap = Int(min(n, Int64(cap)))
        }
        // One loader per asked object, manifests first; stop at the first that does not fit.
        let loaders: [() throws -> ObjectPack.Entry] = manifestIDs.map { id in {
            guard catalog.hasArtifact(id) else { throw APIError(.notFound, "no manifest \(id.short) here") }
            return .manifest(id, try catalog.manifestBytes(id))
        } } + blobIDs.map { id in {
            guard blobs.hasBlob(id) else { throw APIError(.notFound, "no blob \(id.short) here") }
            return .blob(id, try blobs.encodedBlob(id))
        } }
        var pack = ObjectPack()
        var size = ObjectPack.magic.count
        for load in loaders {
            let entry = try load()
            let n = ObjectPack.recordOverhead + entry.bytes.count
            guard pack.entries.isEmpty || size + n <= cap else { break }
            pack.entries.append(entry)
            size += n
        }
        return Self.bytes(pack.encoded(), type: ObjectPack.mediaType)
    }
}

extension BlobStore {
    /// Checks every blob (decodes, hashes to its id, canonical), then stores them; if any
    /// fails, nothing is written. A store that can write several objects with one fsync pass
    /// (the registry's objects folder) does so.
    @discardableResult
    public func putEncodedBlobs(_ list: [(id: BlobID, encoded: [UInt8])]) throws -> Int {
        for (id, encoded) in list { try Registry.checkCanonicalBlob(Registry.checkEncodedBlob(encoded, as: id), as: id) }
        var n = 0
        for (id, encoded) in list where try putEncodedBlob(encoded, as: id) { n += 1 }
        return n
    }
}
