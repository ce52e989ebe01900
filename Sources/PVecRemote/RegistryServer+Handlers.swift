import Foundation
import Hummingbird
import PVecStore

/// One handler per route of `registry-schema/openapi.yaml`. Each runs after `guarded` has
/// checked the token and read the body; a thrown `APIError` or `StoreError` becomes the JSON
/// error answer.
extension RegistryServer {
    // MARK: - Reading

    /// `GET /v1/health`: needs no token.
    func health() -> Response {
        Self.json(["ok": true, "api": "pvec/1"])
    }

    /// `GET /v1/names`: every name with its id and version.
    func listNames() throws -> Response {
        let refs = try catalog.refs()
        return Self.json(["names": .array(refs.map {
            ["name": .string($0.name), "id": .string($0.id.hex), "version": .int(Int64($0.version))]
        })])
    }

    /// `GET /v1/manifests/:id`: the canonical manifest bytes.
    func getManifest(_ idText: String?) throws -> Response {
        let id = try Self.artifactID(idText)
        guard catalog.hasArtifact(id) else { throw APIError(.notFound, "no manifest \(id.short) here") }
        return Self.bytes(try catalog.manifestBytes(id), type: "application/json")
    }

    /// `GET /v1/blobs/:id`: the stored object bytes (PVB1 + zlib).
    func getBlob(_ idText: String?) throws -> Response {
        let id = try Self.blobID(idText)
        guard blobs.hasBlob(id) else { throw APIError(.notFound, "no blob \(id.short) here") }
        return Self.bytes(try blobs.encodedBlob(id), type: "application/octet-stream")
    }

    /// `POST /v1/closure` `{"ids": [...]}`: the manifests and blobs to fetch so the ids arrive
    /// with their lineage, and the signatures on them. Duplicate ids count once; the answer
    /// is capped at `limits.closureArtifacts`.
    func closure(_ body: JSONValue) throws -> Response {
        var seen: Set<String> = []
        let ids = try idList(body["ids"], artifact: true).filter { seen.insert($0).inserted }.compactMap { ArtifactID($0) }
        let c: TransferClosure
        do {
            c = try catalog.closure(of: ids)
        } catch StoreError.unknownName(let hex) {
            throw APIError(.notFound, "no artifact \(hex.prefix(12)) here")
        }
        guard c.manifests.count <= limits.closureArtifacts else {
            throw APIError(.contentTooLarge, "the closure of these \(ids.count) ids has \(c.manifests.count) artifacts; the limit is \(limits.closureArtifacts) per request, ask for fewer ids at a time")
        }
        var sigs: [JSONValue] = []
        for m in c.manifests { sigs += try catalog.signatures(of: m).map(PromptBundle.signatureJSON) }
        return Self.json(["manifests": .array(c.manifests.map { .string($0.hex) }),
                          "blobs": .array(c.blobs.map { .string($0.hex) }), "signatures": .array(sigs)])
    }

    // MARK: - Uploading

    /// `POST /v1/missing` `{"manifests", "blobs", "names"}`: which objects the server lacks.
    /// A push names what it will move, so a token for another namespace is refused before
    /// any object is sent.
    func missing(_ body: JSONValue, token: AccessToken) throws -> Response {
        let manifests = try idList(body["manifests"], artifact: true)
        let blobIDs = try idList(body["blobs"], artifact: false)
        let names = body["names"]?.arrayValue ?? []
        guard names.count <= limits.idsPerRequest else {
            throw APIError(.contentTooLarge, "at most \(limits.idsPerRequest) names per request")
        }
        for n in names {
            guard let name = n.stringValue, token.canWrite(name: name) else {
                throw APIError(.forbidden, "token '\(token.name)' may not write \(TerminalText.quoted(n.stringValue ?? n.canonicalString)) (scopes: \(token.scopes.joined(separator: " ")))")
            }
        }
        return Self.json([
            "manifests": .array(manifests.filter { ArtifactID($0).map { !catalog.hasArtifact($0) } ?? false }.map { .string($0) }),
            "blobs": .array(blobIDs.filter { BlobID($0).map { !blobs.hasBlob($0) } ?? false }.map { .string($0) }),
        ])
    }

    /// `PUT /v1/blobs/:id`: stores a blob that decodes, hashes to its id and is canonical
    /// safetensors of F32 tensors (anything else would give one set of tensors two ids, or hold
    /// bytes no manifest can describe); pinned until a name reaches it.
    func putBlob(_ idText: String?, _ bytes: [UInt8]) throws -> Response {
        let id = try Self.blobID(idText)
        if blobs.hasBlob(id) {
            return Self.json(["id": .string(id.hex), "stored": .bool(false)], status: .ok)
        }
        let raw = try Registry.checkEncodedBlob(bytes, as: id)
        try Registry.checkCanonicalBlob(raw, as: id)
        let wrote = try blobs.putEncodedBlob(bytes, as: id)
        try catalog.pin([id.hex], for: pinLifetime)
        return Self.json(["id": .string(id.hex), "stored": .bool(wrote)], status: wrote ? .created : .ok)
    }

    /// `PUT /v1/manifests/:id`: indexes a canonical manifest once everything it names is here
    /// and agrees with it: its blob (present, canonical, of the dtype and shape it says) and
    /// its parents. The catalog checks again in its transaction.
    func putManifest(_ idText: String?, _ bytes: [UInt8], token: AccessToken) throws -> Response {
        let id = try Self.artifactID(idText)
        try checkJSONLimits(bytes, maxDepth: 32)
        let manifest = try Registry.incomingManifest(bytes, as: id).1
        if catalog.hasArtifact(id) {
            return Self.json(["id": .string(id.hex), "stored": .bool(false)], status: .ok)
        }
        if let b = manifest.blob {
            guard blobs.hasBlob(b) else {
                throw APIError(.unprocessableContent, "manifest \(id.short) needs blob \(b.short), which was not uploaded; PUT /v1/blobs/\(b.hex) first")
            }
            let raw = try Registry.checkEncodedBlob(blobs.encodedBlob(b), as: b)
            try Registry.checkCanonicalBlob(raw, as: b)
            try Registry.checkManifest(manifest, id: id, againstBlob: raw)
        }
        for p in manifest.parents where !catalog.hasArtifact(p.id) {
            throw APIError(.unprocessableContent, "manifest \(id.short) names parent \(p.id.short), which is not on this server; PUT the parent first")
        }
        let fresh = try catalog.receive(IncomingBatch(manifests: [bytes], pinFor: pinLifetime),
                                        source: "push", command: "push manifest \(id.short)", actor: "token:\(token.name)")
        return Self.json(["id": .string(id.hex), "stored": .bool(!fresh.isEmpty)], status: fresh.isEmpty ? .ok : .created)
    }

    /// `POST /v1/signatures` `{"signatures": [...]}`: records signatures that verify.
    func postSignatures(_ body: JSONValue, token: AccessToken) throws -> Response {
        guard let list = body["signatures"]?.arrayValue else { throw APIError(.badRequest, "expected {\"signatures\": [...]}") }
        guard list.count <= limits.idsPerRequest else {
            throw APIError(.contentTooLarge, "at most \(limits.idsPerRequest) signatures per request")
        }
        var sigs: [ArtifactSignature] = []
        for s in list {
            guard let a = s["artifact"]?.stringValue.flatMap(ArtifactID.init), let key = s["key"]?.stringValue,
                  let sig = s["signature"]?.stringValue else { throw APIError(.badRequest, "a signature needs artifact, key and signature") }
            let signature = ArtifactSignature(artifact: a, key: key, signature: sig, signer: s["signer"]?.stringValue)
            guard signature.isValid else { throw APIError(.unprocessableContent, "the signature on \(a.short) does not verify") }
            sigs.append(signature)
        }
        try catalog.receive(IncomingBatch(signatures: sigs), source: "push", command: "push signatures", actor: "token:\(token.name)")
        return Self.json(["stored": .int(Int64(sigs.count))])
    }

    // MARK: - Names

    /// `POST /v1/refs` `{"name", "id", "expected"}`: compare-and-swap on a name inside the
    /// token's write scope; 409 with the current id when it has moved.
    func updateRef(_ body: JSONValue, token: AccessToken) throws -> Response {
        let (name, id, expected) = try refMove(body, token: token)
        do {
            let version = try catalog.updateRef(name, to: id, expected: .some(expected),
                                                command: "push \(name) (token \(token.name))", actor: "token:\(token.name)")
            return Self.json(["name": .string(name), "id": .string(id.hex), "version": .int(Int64(version))])
        } catch StoreError.refConflict(_, _, let actual) {
            return Self.json(["error": .string("\(TerminalText.quoted(name)) is at \(actual?.short ?? "(no ref)"), not at \(expected?.short ?? "(no ref)")"),
                              "current": actual.map { .string($0.hex) } ?? .null], status: .conflict)
        }
    }

    /// `POST /v1/names` `{"refs": [{"name", "id", "expected"}, ...]}`: many compare-and-swaps in
    /// one request. Every entry is checked (and the token's scope for every name) before any
    /// name moves; then all move in one transaction, or, if one has moved on the server, each
    /// on its own, so the others still move. The answer lists each name with its id, or with
    /// `"conflict": true` and the id it has now.
    func updateRefs(_ body: JSONValue, token: AccessToken) throws -> Response {
        guard let list = body["refs"]?.arrayValue else { throw APIError(.badRequest, "expected {\"refs\": [{\"name\", \"id\", \"expected\"}, ...]}") }
        guard list.count <= limits.idsPerRequest else {
            throw APIError(.contentTooLarge, "at most \(limits.idsPerRequest) names per request")
        }
        let moves = try list.map { try refMove($0, token: token) }
        guard Set(moves.map(\.name)).count == moves.count else { throw APIError(.badRequest, "a name appears twice in one request") }
        let command = "push \(moves.count) name\(moves.count == 1 ? "" : "s") (token \(token.name))"
        var conflicts: [String: ArtifactID?] = [:]
        do {
            try catalog.receive(IncomingBatch(refs: moves.map { ($0.name, $0.id, .some($0.expected)) }),
                                source: "push", command: command, actor: "token:\(token.name)")
        } catch StoreError.refConflict {
            for m in moves {
                do {
                    _ = try catalog.updateRef(m.name, to: m.id, expected: .some(m.expected), command: command, actor: "token:\(token.name)")
                } catch StoreError.refConflict(_, _, let actual) {
                    conflicts[m.name] = .some(actual)
                }
            }
        }
        return Self.json(["refs": .array(moves.map { m in
            guard let current = conflicts[m.name] else { return ["name": .string(m.name), "id": .string(m.id.hex)] }
            return ["name": .string(m.name), "conflict": true, "current": current.map { .string($0.hex) } ?? .null,
                    "error": .string("\(TerminalText.quoted(m.name)) is at \(current?.short ?? "(no ref)"), not at \(m.expected?.short ?? "(no ref)")")]
        })])
    }

    /// One name move of a request: its fields checked, and the token's scope for the name.
    func refMove(_ body: JSONValue, token: AccessToken) throws -> (name: String, id: ArtifactID, expected: ArtifactID?) {
        guard let name = body["name"]?.stringValue, let id = body["id"]?.stringValue.flatMap(ArtifactID.init) else {
            throw APIError(.badRequest, "expected {\"name\": ..., \"id\": <64 hex>, \"expected\": <64 hex> or null}")
        }
        guard let e = body["expected"] else {
            throw APIError(.badRequest, "\"expected\" is required (the id the name has now, or null for a new name)")
        }
        let expected: ArtifactID?
        if case .null = e { expected = nil } else {
            guard let x = e.stringValue.flatMap(ArtifactID.init) else { throw APIError(.badRequest, "\"expected\" is not an id") }
            expected = x
        }
        guard token.canWrite(name: name) else {
            throw APIError(.forbidden, "token '\(token.name)' may not write \(TerminalText.quoted(name)) (scopes: \(token.scopes.joined(separator: " ")))")
        }
        return (name, id, expected)
    }
}
