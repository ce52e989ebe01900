import Hummingbird
import PVecStore

/// Answers every request the routes do not take with a JSON error, as the API promises
/// (`registry-schema/openapi.yaml`): 404 for an unknown path, 405 (with `Allow`) for a known
/// path and another method, 413 for a body on a route that takes none. Errors thrown below
/// it become JSON too.
struct APIMiddleware<Context: RequestContext>: RouterMiddleware {
    let limits: RegistryServer.Limits

    /// The API's routes: path segments (`*` is an id) and their methods, and whether they
    /// take a request body.
    static var routes: [(path: [String], methods: [HTTPRequest.Method], body: Bool)] {
        [
            (["v1", "health"], [.get], false),
            (["v1", "names"], [.get, .post], true),
            (["v1", "manifests", "*"], [.get, .put], true),
            (["v1", "blobs", "*"], [.get, .put], true),
            (["v1", "closure"], [.post], true),
            (["v1", "missing"], [.post], true),
            (["v1", "pack"], [.post], true),
            (["v1", "objects"], [.post], true),
            (["v1", "signatures"], [.post], true),
            (["v1", "refs"], [.post], true),
        ]
    }

    static func route(for path: String) -> (path: [String], methods: [HTTPRequest.Method], body: Bool)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        return routes.first { r in
            r.path.count == parts.count && zip(r.path, parts).allSatisfy { $0 == "*" ? !$1.isEmpty : $0 == $1 }
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let shown = TerminalText.clipped(path, limit: 100)
        guard let route = Self.route(for: path) else {
            return RegistryServer.json(["error": .string("no route \(request.method.rawValue) \(shown); the API is under /v1 (registry-schema/openapi.yaml)")],
                                       status: .notFound)
        }
        guard route.methods.contains(request.method) else {
            let allowed = route.methods.map(\.rawValue).joined(separator: ", ")
            var response = RegistryServer.json(["error": .string("\(request.method.rawValue) is not allowed on \(shown); use \(allowed)")],
                                               status: .methodNotAllowed)
            response.headers[.allow] = allowed
            return response
        }
        let bodyLimit = request.method == .put && route.path[1] == "blobs" ? limits.blobBytes
            : route.path[1] == "pack" ? limits.packBytes : limits.jsonBytes
        if let length = request.headers[.contentLength].flatMap(Int.init) {
            let limit = (route.body && request.method != .get) ? bodyLimit : 0
            if length > limit {
                let what = limit == 0 ? "\(request.method.rawValue) \(shown) takes no request body" : "the request body is \(length) bytes; the limit is \(limit)"
                return RegistryServer.json(["error": .string(what)], status: .contentTooLarge)
            }
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            return RegistryServer.json(["error": .string(error.body ?? error.status.reasonPhrase)], status: error.status)
        } catch {
            return RegistryServer.json(["error": .string("internal error: \(error.localizedDescription)")], status: .internalServerError)
        }
    }
}
