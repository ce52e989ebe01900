import Foundation
import Hummingbird
import PVecStore

/// What every route shares: authentication, reading the body within its limits, running the
/// handler off the event loop, and turning every error into a JSON answer.
extension RegistryServer {

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
            guard let bearer = request.headers[.authorization].flatMap(BearerToken.parse(header:)) else {
                throw APIError(.unauthorized, "a bearer token is required (Authorization: Bearer pvec_...)")
            }
            let catalog = self.catalog
            guard let token = try await Self.offload({ try catalog.token(id: bearer.id, secret: bearer.secret) }) else {
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
