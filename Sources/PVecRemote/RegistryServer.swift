import Foundation
import Hummingbird
import PVecStore
import PVecTensor

/// The registry server: a small HTTP/JSON API over one registry (`registry-schema/openapi.yaml`).
///
/// Every route but `/v1/health` needs a bearer token (`pvec token create`). Objects are checked
/// against their ids on receipt; names move by compare-and-swap, and each accepted change is in
/// the registry's audit log with the token holder as actor. Manifests received before the name
/// that reaches them are pinned, so `gc` leaves a push in progress alone.
public struct RegistryServer: Sendable {
    /// What one client may cost the server: request sizes, work per request, connections
    /// and time (docs/security.md lists them).
    public struct Limits: Sendable {
        /// Largest blob upload, in bytes.
        public var blobBytes: Int = 64 << 20
        /// Largest manifest upload or JSON request, in bytes.
        public var jsonBytes: Int = 4 << 20
        /// Most ids (or names, or signatures) in one `missing`, `closure` or `signatures` request.
        public var idsPerRequest: Int = 10_000
        /// Most artifacts one `closure` answer may list; ask for fewer roots beyond that.
        public var closureArtifacts: Int = 100_000
        /// Deepest nesting of arrays and objects in a JSON request (a manifest may nest up to 32).
        public var jsonDepth: Int = 8
        /// Most JSON elements (array elements and object members) in one request or manifest.
        public var jsonElements: Int = 100_000
        /// Most connections open at once; further ones wait to be accepted.
        public var maxConnections: Int = 256
        /// Seconds a connection may send nothing before it is closed: between requests
        /// (keep-alive), and while a request head or body is arriving.
        public var idleTimeout: TimeInterval = 30
        /// Seconds a request's body may take to arrive in all, from its head on.
        public var requestTimeout: TimeInterval = 300

        public init() {}
    }

    /// Blob bytes (the registry's objects folder by default).
    public let blobs: any BlobStore
    /// Manifests, names, signatures, tokens, audit (the registry's catalog by default).
    public let catalog: any CatalogStore
    public var limits: Limits
    /// How long received objects stay pinned without a name (seconds).
    public var pinLifetime: TimeInterval = 3600

    /// Serves one registry: its objects folder and its catalog.
    public init(registry: Registry, limits: Limits = Limits()) {
        self.init(blobs: registry, catalog: registry, limits: limits)
    }

    /// Serves any storage pair (e.g. a PostgreSQL catalog with blobs in an S3-compatible bucket).
    public init(blobs: any BlobStore, catalog: any CatalogStore, limits: Limits = Limits()) {
        self.blobs = blobs
        self.catalog = catalog
        self.limits = limits
    }

    /// Serves until the process gets SIGINT or SIGTERM.
    ///
    /// - Parameter onBound: called with the port once listening (useful with port 0).
    public func run(host: String, port: Int, onBound: @escaping @Sendable (Int) -> Void) async throws {
        let router = Router()
        router.add(middleware: APIMiddleware(limits: limits))
        routes(router)
        let app = Application(router: router, server: limits.httpServer,
                              configuration: .init(address: .hostname(host, port: port), serverName: "pvec",
                                                   availableConnectionsDelegate: limits.connectionLimit),
                              onServerRunning: { channel in onBound(channel.localAddress?.port ?? port) })
        try await app.runService()
    }

    // MARK: - Routes

    func routes(_ router: Router<BasicRequestContext>) {
        let server = self
        router.get("/v1/health") { _, _ in
            Self.json(["ok": true, "api": "pvec/1"])
        }
        router.get("/v1/names") { request, _ in
            await server.guarded(request, need: .read) { _, _ in
                let refs = try server.catalog.refs()
                return Self.json(["names": .array(refs.map {
                    ["name": .string($0.name), "id": .string($0.id.hex), "version": .int(Int64($0.version))]
                })])
            }
        }
        router.get("/v1/manifests/:id") { request, context in
            let id = context.parameters.get("id")
            return await server.guarded(request, need: .read) { _, _ in
                let id = try Self.artifactID(id)
                guard server.catalog.hasArtifact(id) else { throw APIError(.notFound, "no manifest \(id.short) here") }
                return Self.bytes(try server.catalog.manifestBytes(id), type: "application/json")
            }
        }
        router.get("/v1/blobs/:id") { request, context in
            let id = context.parameters.get("id")
            return await server.guarded(request, need: .read) { _, _ in
                let id = try Self.blobID(id)
                guard server.blobs.hasBlob(id) else { throw APIError(.notFound, "no blob \(id.short) here") }
                return Self.bytes(try server.blobs.encodedBlob(id), type: "application/octet-stream")
            }
        }
        router.post("/v1/closure") { request, _ in
            await server.guarded(request, need: .read, body: .json(elements: server.limits.idsPerRequest + 16)) { token, input in
                let body = input.json
                var seen: Set<String> = []
                let ids = try server.idList(body["ids"], artifact: true).filter { seen.insert($0).inserted }.compactMap { ArtifactID($0) }
                let c: TransferClosure
                do {
                    c = try server.catalog.closure(of: ids)
                } catch StoreError.unknownName(let hex) {
                    throw APIError(.notFound, "no artifact \(hex.prefix(12)) here")
                }
                guard c.manifests.count <= server.limits.closureArtifacts else {
                    throw APIError(.contentTooLarge, "the closure of these \(ids.count) ids has \(c.manifests.count) artifacts; the limit is \(server.limits.closureArtifacts) per request, ask for fewer ids at a time")
                }
                var sigs: [JSONValue] = []
                for m in c.manifests { sigs += try server.catalog.signatures(of: m).map(PromptBundle.signatureJSON) }
                return Self.json(["manifests": .array(c.manifests.map { .string($0.hex) }),
                                  "blobs": .array(c.blobs.map { .string($0.hex) }), "signatures": .array(sigs)])
            }
        }
        router.post("/v1/missing") { request, _ in
            await server.guarded(request, need: .upload, body: .json(elements: 3 * server.limits.idsPerRequest + 16)) { token, input in
                let body = input.json
                let manifests = try server.idList(body["manifests"], artifact: true)
                let blobs = try server.idList(body["blobs"], artifact: false)
                // A push names what it will move, so a token for another namespace is refused
                // before any object is sent.
                let names = body["names"]?.arrayValue ?? []
                guard names.count <= server.limits.idsPerRequest else {
                    throw APIError(.contentTooLarge, "at most \(server.limits.idsPerRequest) names per request")
                }
                for n in names {
                    guard let name = n.stringValue, token.canWrite(name: name) else {
                        throw APIError(.forbidden, "token '\(token.name)' may not write \(TerminalText.quoted(n.stringValue ?? n.canonicalString)) (scopes: \(token.scopes.joined(separator: " ")))")
                    }
                }
                return Self.json([
                    "manifests": .array(manifests.filter { !server.catalog.hasArtifact(ArtifactID($0)!) }.map { .string($0) }),
                    "blobs": .array(blobs.filter { !server.blobs.hasBlob(BlobID($0)!) }.map { .string($0) }),
                ])
            }
        }
        router.put("/v1/blobs/:id") { request, context in
            let id = context.parameters.get("id")
            return await server.guarded(request, need: .upload, body: .bytes(limit: server.limits.blobBytes)) { _, input in
                let id = try Self.blobID(id)
                let bytes = input.bytes
                if server.blobs.hasBlob(id) {
                    return Self.json(["id": .string(id.hex), "stored": .bool(false)], status: .ok)
                }
                // Only canonical safetensors of F32 tensors is a blob: anything else would give
                // one set of tensors two ids, or hold bytes no manifest can describe.
                let raw = try Registry.checkEncodedBlob(bytes, as: id)
                try Registry.checkCanonicalBlob(raw, as: id)
                let wrote = try server.blobs.putEncodedBlob(bytes, as: id)
                try server.catalog.pin([id.hex], for: server.pinLifetime)
                return Self.json(["id": .string(id.hex), "stored": .bool(wrote)], status: wrote ? .created : .ok)
            }
        }
        router.put("/v1/manifests/:id") { request, context in
            let id = context.parameters.get("id")
            return await server.guarded(request, need: .upload, body: .bytes(limit: server.limits.jsonBytes)) { token, input in
                let id = try Self.artifactID(id)
                let bytes = input.bytes
                try server.checkJSONLimits(bytes, maxDepth: 32)
                let manifest = try Registry.incomingManifest(bytes, as: id).1
                if server.catalog.hasArtifact(id) {
                    return Self.json(["id": .string(id.hex), "stored": .bool(false)], status: .ok)
                }
                // Everything a manifest names must be here and agree with it before it is
                // visible: its blob (present, canonical, of the dtype and shape it says) and
                // its parents. The catalog checks again in its transaction.
                if let b = manifest.blob {
                    guard server.blobs.hasBlob(b) else {
                        throw APIError(.unprocessableContent, "manifest \(id.short) needs blob \(b.short), which was not uploaded; PUT /v1/blobs/\(b.hex) first")
                    }
                    let raw = try Registry.checkEncodedBlob(server.blobs.encodedBlob(b), as: b)
                    try Registry.checkCanonicalBlob(raw, as: b)
                    try Registry.checkManifest(manifest, id: id, againstBlob: raw)
                }
                for p in manifest.parents where !server.catalog.hasArtifact(p.id) {
                    throw APIError(.unprocessableContent, "manifest \(id.short) names parent \(p.id.short), which is not on this server; PUT the parent first")
                }
                let fresh = try server.catalog.receive(IncomingBatch(manifests: [bytes], pinFor: server.pinLifetime),
                                                        source: "push", command: "push manifest \(id.short)",
                                                        actor: "token:\(token.name)")
                return Self.json(["id": .string(id.hex), "stored": .bool(!fresh.isEmpty)], status: fresh.isEmpty ? .ok : .created)
            }
        }
        router.post("/v1/signatures") { request, _ in
            await server.guarded(request, need: .upload, body: .json(elements: 5 * server.limits.idsPerRequest + 16)) { token, input in
                let body = input.json
                guard let list = body["signatures"]?.arrayValue else { throw APIError(.badRequest, "expected {\"signatures\": [...]}") }
                guard list.count <= server.limits.idsPerRequest else {
                    throw APIError(.contentTooLarge, "at most \(server.limits.idsPerRequest) signatures per request")
                }
                var sigs: [ArtifactSignature] = []
                for s in list {
                    guard let a = s["artifact"]?.stringValue.flatMap(ArtifactID.init), let key = s["key"]?.stringValue,
                          let sig = s["signature"]?.stringValue else { throw APIError(.badRequest, "a signature needs artifact, key and signature") }
                    let signature = ArtifactSignature(artifact: a, key: key, signature: sig, signer: s["signer"]?.stringValue)
                    guard signature.isValid else { throw APIError(.unprocessableContent, "the signature on \(a.short) does not verify") }
                    sigs.append(signature)
                }
                try server.catalog.receive(IncomingBatch(signatures: sigs), source: "push", command: "push signatures",
                                            actor: "token:\(token.name)")
                return Self.json(["stored": .int(Int64(sigs.count))])
            }
        }
        router.post("/v1/refs") { request, _ in
            await server.guarded(request, need: .read, body: .json(elements: 16)) { token, input in
                let body = input.json
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
                    throw APIError(.forbidden, "token '\(token.name)' may not write '\(name)' (scopes: \(token.scopes.joined(separator: " ")))")
                }
                do {
                    let version = try server.catalog.updateRef(name, to: id, expected: .some(expected),
                                                                command: "push \(name) (token \(token.name))", actor: "token:\(token.name)")
                    return Self.json(["name": .string(name), "id": .string(id.hex), "version": .int(Int64(version))])
                } catch StoreError.refConflict(_, _, let actual) {
                    return Self.json(["error": .string("'\(name)' is at \(actual?.short ?? "(no ref)"), not at \(expected?.short ?? "(no ref)")"),
                                      "current": actual.map { .string($0.hex) } ?? .null], status: .conflict)
                }
            }
        }
    }

    // MARK: - Helpers

    enum Need { case read, upload }

    struct APIError: Error {
        var status: HTTPResponse.Status
        var message: String
        init(_ status: HTTPResponse.Status, _ message: String) {
            self.status = status
            self.message = message
        }
    }

    /// What a handler gets of the request body, read before the handler runs.
    enum Input: Sendable {
        case none
        case json(JSONValue)
        case bytes([UInt8])

        var json: JSONValue { if case .json(let v) = self { return v } else { return .null } }
        var bytes: [UInt8] { if case .bytes(let b) = self { return b } else { return [] } }
    }

    /// A JSON body allows at most `elements` elements (and `limits.jsonElements`), so the
    /// work of parsing it stays in proportion to what the route can use.
    enum BodyKind { case none, json(elements: Int), bytes(limit: Int) }

    /// Authenticates, reads the body, runs the handler, and turns every error into a JSON
    /// 4xx/5xx answer, so a bad request never takes the server down.
    ///
    /// Storage calls block (file I/O, fsync, SQLite waiting for its write lock), so they run on
    /// Dispatch threads, never on the few threads that serve every request's async work.
    func guarded(_ request: Request, need: Need, body kind: BodyKind = .none,
                 _ handler: @escaping @Sendable (AccessToken, Input) throws -> Response) async -> Response {
        do {
            guard let bearer = request.headers[.authorization].flatMap(Self.bearerToken) else {
                throw APIError(.unauthorized, "a bearer token is required (Authorization: Bearer pvec_...)")
            }
            let catalog = self.catalog
            guard let token = try await Self.offload({ try catalog.token(bearer: bearer) }) else {
                throw APIError(.unauthorized, "the token is not valid on this server (unknown, revoked or expired)")
            }
            switch need {
            case .read:
                guard token.canRead else { throw APIError(.forbidden, "token '\(token.name)' has no read scope") }
            case .upload:
                guard token.canUpload else { throw APIError(.forbidden, "token '\(token.name)' may not write (scopes: \(token.scopes.joined(separator: " ")))") }
            }
            let input: Input
            switch kind {
            case .none: input = .none
            case .json(let elements): input = .json(try await jsonBody(request, elements: min(elements, limits.jsonElements)))
            case .bytes(let limit): input = .bytes(try await body(request, limit: limit))
            }
            return try await Self.offload { try handler(token, input) }
        } catch let e as APIError {
            return Self.json(["error": .string(e.message)], status: e.status)
        } catch let e as StoreError {
            return Self.json(["error": .string(e.localizedDescription)], status: Self.status(for: e))
        } catch let e as JSONValue.LimitError {
            return Self.json(["error": .string("the request body is refused: \(e.localizedDescription)")], status: .contentTooLarge)
        } catch {
            return Self.json(["error": .string("\(error)")], status: .internalServerError)
        }
    }

    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async { c.resume(with: Result { try body() }) }
        }
    }

    static func status(for e: StoreError) -> HTTPResponse.Status {
        switch e {
        case .hashMismatch, .malformedManifest, .unsupportedSchema, .badSignature, .invalidKey, .invalidName:
            return .unprocessableContent
        case .missingObject, .missingParent:
            return .unprocessableContent
        case .unknownName:
            return .notFound
        case .refConflict:
            return .conflict
        default:
            return .internalServerError
        }
    }

    func body(_ request: Request, limit: Int) async throws -> [UInt8] {
        if let len = request.headers[.contentLength].flatMap(Int.init), len > limit {
            throw APIError(.contentTooLarge, "the request body is \(len) bytes; the limit is \(limit)")
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch {
            throw APIError(.contentTooLarge, "the request body is larger than \(limit) bytes")
        }
    }

    func jsonBody(_ request: Request, elements: Int) async throws -> JSONValue {
        let bytes = try await body(request, limit: limits.jsonBytes)
        try checkJSONLimits(bytes, maxDepth: limits.jsonDepth, maxElements: elements)
        guard let v = try? JSONValue.parse(bytes, maxDepth: limits.jsonDepth, maxElements: elements), case .object = v else {
            throw APIError(.badRequest, "the request body is not a JSON object")
        }
        return v
    }

    /// Refuses JSON nested deeper than `maxDepth` or with more than `maxElements` (default
    /// `limits.jsonElements`) elements (413), before any parsing work.
    func checkJSONLimits(_ bytes: [UInt8], maxDepth: Int, maxElements: Int? = nil) throws {
        do {
            try JSONValue.checkLimits(bytes, maxDepth: maxDepth, maxElements: maxElements ?? limits.jsonElements)
        } catch let e as JSONValue.LimitError {
            throw APIError(.contentTooLarge, "the JSON body is refused: \(e.localizedDescription)")
        }
    }

    /// The token of an `Authorization` value: the scheme `Bearer` in any case (RFC 7235),
    /// one or more spaces, then the token.
    static func bearerToken(_ header: String) -> String? {
        guard let space = header.firstIndex(of: " ") else { return nil }
        guard header[..<space].lowercased() == "bearer" else { return nil }
        let token = header[space...].trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
        return token.isEmpty ? nil : token
    }

    func idList(_ value: JSONValue?, artifact: Bool) throws -> [String] {
        guard let list = value?.arrayValue else { throw APIError(.badRequest, "expected a list of ids") }
        guard list.count <= limits.idsPerRequest else { throw APIError(.contentTooLarge, "at most \(limits.idsPerRequest) ids per request") }
        return try list.map {
            guard let s = $0.stringValue, ArtifactID(s) != nil else { throw APIError(.badRequest, "'\($0.canonicalString.prefix(70))' is not a 64-hex id") }
            return s
        }
    }

    static func artifactID(_ text: String?) throws -> ArtifactID {
        guard let text, let id = ArtifactID(text) else { throw APIError(.badRequest, "'\(text ?? "")' is not a 64-hex id") }
        return id
    }

    static func blobID(_ text: String?) throws -> BlobID {
        guard let text, let id = BlobID(text) else { throw APIError(.badRequest, "'\(text ?? "")' is not a 64-hex id") }
        return id
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        bytes(value.canonicalBytes, type: "application/json", status: status)
    }

    static func bytes(_ b: [UInt8], type: String, status: HTTPResponse.Status = .ok) -> Response {
        var buffer = ByteBuffer()
        buffer.writeBytes(b)
        return Response(status: status, headers: [.contentType: type], body: ResponseBody(byteBuffer: buffer))
    }
}
