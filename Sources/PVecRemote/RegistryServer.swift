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
        /// Largest pack (`POST /v1/pack` body, `POST /v1/objects` answer), in bytes: room for
        /// one blob of the largest size and its record.
        public var packBytes: Int = 72 << 20
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

    /// One line per route: method, path, what the token must allow, how the body is read, and
    /// the handler (`RegistryServer+Handlers.swift`).
    func routes(_ router: Router<BasicRequestContext>) {
        let server = self
        let ids = limits.idsPerRequest
        router.get("/v1/health") { _, _ in server.health() }
        router.get("/v1/names") { r, _ in await server.guarded(r, need: .read) { _, _ in try server.listNames() } }
        router.get("/v1/manifests/:id") { r, c in
            let id = c.parameters.get("id")
            return await server.guarded(r, need: .read) { _, _ in try server.getManifest(id) }
        }
        router.get("/v1/blobs/:id") { r, c in
            let id = c.parameters.get("id")
            return await server.guarded(r, need: .read) { _, _ in try server.getBlob(id) }
        }
        router.post("/v1/closure") { r, _ in
            await server.guarded(r, need: .read, body: .json(elements: ids + 16)) { _, input in try server.closure(input.json) }
        }
        router.post("/v1/missing") { r, _ in
            await server.guarded(r, need: .upload, body: .json(elements: 3 * ids + 16)) { t, input in try server.missing(input.json, token: t) }
        }
        router.put("/v1/blobs/:id") { r, c in
            let id = c.parameters.get("id")
            return await server.guarded(r, need: .upload, body: .bytes(limit: server.limits.blobBytes)) { _, input in
                try server.putBlob(id, input.bytes)
            }
        }
        router.put("/v1/manifests/:id") { r, c in
            let id = c.parameters.get("id")
            return await server.guarded(r, need: .upload, body: .bytes(limit: server.limits.jsonBytes)) { t, input in
                try server.putManifest(id, input.bytes, token: t)
            }
        }
        router.post("/v1/pack") { r, _ in
            await server.guarded(r, need: .upload, body: .bytes(limit: server.limits.packBytes)) { t, input in
                try server.postPack(input.bytes, token: t)
            }
        }
        router.post("/v1/objects") { r, _ in
            await server.guarded(r, need: .read, body: .json(elements: 2 * ids + 16)) { _, input in try server.getObjects(input.json) }
        }
        router.post("/v1/signatures") { r, _ in
            await server.guarded(r, need: .upload, body: .json(elements: 5 * ids + 16)) { t, input in try server.postSignatures(input.json, token: t) }
        }
        router.post("/v1/refs") { r, _ in
            await server.guarded(r, need: .read, body: .json(elements: 16)) { t, input in try server.updateRef(input.json, token: t) }
        }
        router.post("/v1/names") { r, _ in
            await server.guarded(r, need: .read, body: .json(elements: 4 * ids + 16)) { t, input in try server.updateRefs(input.json, token: t) }
        }
    }
}
