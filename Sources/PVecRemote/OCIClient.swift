import Foundation
import PVecStore
import PVecTensor

/// The HTTP side of an OCI remote: the distribution spec's blob, manifest, tag and referrers
/// routes of one repository, with anonymous, basic and bearer-token authentication.
///
/// Every answer is bounded (`RemoteClient.maxAnswerBytes`, `RemoteClient.requestDeadline`);
/// what comes back is untrusted and checked by the caller (`OCIRemote`) before it is stored.
public final class OCIClient: Sendable {
    /// `http(s)://HOST[:PORT]`.
    public let base: URL
    /// `HOST[:PORT]`, as credentials are keyed.
    public let host: String
    public let repository: String
    let credentials: OCICredentials.Login?
    let transfer = HTTPTransport(limit: RemoteClient.maxAnswerBytes, deadline: RemoteClient.requestDeadline)
    /// The bearer token last granted, and whether the registry asked for basic auth.
    let auth = Locked<(token: String?, basic: Bool)>((nil, false))
    /// Whether the registry has the referrers API: nil until asked, false after a 404 there.
    let referrersAPI = Locked<Bool?>(nil)
    let attempts = 6
    let firstPause: TimeInterval = 0.2
    /// Blobs larger than this go up in `PATCH` chunks of this size (`PVEC_OCI_CHUNK_BYTES`,
    /// default 8 MiB); smaller ones in one `PUT`.
    let chunkBytes: Int
    public static let defaultChunkBytes = 8 << 20

    static let manifestAccept = [OCIMapping.imageManifest, OCIMapping.imageIndex].joined(separator: ", ")

    public init(host: String, repository: String, plainHTTP: Bool, credentials: OCICredentials.Login?) throws {
        guard let base = URL(string: "\(plainHTTP ? "http" : "https")://\(host)") else {
            throw RemoteError.unreachable(url: host, reason: "not a host name")
        }
        self.base = base
        self.host = host
        self.repository = repository
        self.credentials = credentials
        let chunk = ProcessInfo.processInfo.environment["PVEC_OCI_CHUNK_BYTES"].flatMap { Int($0) } ?? Self.defaultChunkBytes
        chunkBytes = min(max(chunk, 1), RemoteClient.maxAnswerBytes)
    }

    /// `oci://HOST[:PORT]/REPO` as printed.
    public var display: String { "oci://\(host)/\(repository)" }

    // MARK: - Blobs

    /// Whether the repository holds the blob (`HEAD`); a 5xx counts as "no", so the upload
    /// goes ahead.
    ///
    /// Why: distribution's filesystem driver writes a repository's blob link in place, so a
    /// registry killed mid-push can keep an empty link, and then answers 500 to `HEAD` for
    /// that blob forever. Uploading it again rewrites the link (measured on 2.8); a registry
    /// that is broken for good refuses the upload itself, with its own error.
    public func hasBlob(_ digest: String) throws -> Bool {
        let a = try send("HEAD", route("blobs/\(digest)"))
        switch a.status {
        case 200: return true
        case 404, 500...599: return false
        default: throw refused(a, "HEAD blob \(digest.prefix(19))")
        }
    }

    /// Uploads a blob: `POST` an upload session (asking to mount it from `mountFrom`, another
    /// repository of this registry, when given), then either the whole body in one `PUT …?digest=`
    /// (up to `chunkBytes`) or `PATCH` chunks with `Content-Range` and a final empty `PUT`,
    /// following each answer's `Location`.
    ///
    /// A chunk whose connection fails is not sent again blindly: the upload session is asked
    /// (`GET`) how much it holds (`Range: 0-N`) and the upload resumes from there; a session the
    /// registry no longer knows (it restarted with another secret) starts over.
    /// - Returns: true when the registry mounted the blob (201 to the mount request), so no
    ///   bytes moved.
    @discardableResult
    public func putBlob(_ bytes: [UInt8], digest: String, mountFrom: String? = nil) throws -> Bool {
        var starts = 0
        while true {
            starts += 1
            var post = "blobs/uploads/"
            if let from = mountFrom, starts == 1 {
                post += "?mount=\(digest)&from=\(from)"
            }
            let start = try send("POST", route(post), body: [])
            if mountFrom != nil, starts == 1, start.status == 201 { return true }
            guard start.status == 202, let location = start.headers["location"] else { throw refused(start, "POST blobs/uploads/") }
            var session = try uploadURL(location, digest: nil)
            if bytes.count <= chunkBytes {
                let done = try send("PUT", try uploadURL(location, digest: digest), body: bytes, type: "application/octet-stream")
                guard done.status == 201 else { throw refused(done, "PUT blob \(digest.prefix(19))") }
                return false
            }
            var offset = 0
            var resumes = 0
            var lost = false
            while offset < bytes.count {
                let end = min(offset + chunkBytes, bytes.count)
                let a: Answer
                do {
                    a = try send("PATCH", session, body: Array(bytes[offset..<end]), type: "application/octet-stream",
                                 headers: ["Content-Range": "\(offset)-\(end - 1)"], retries: false)
                } catch RemoteError.badAnswer(_, _) where resumes < attempts {
                    // The connection failed mid-chunk: ask the session how much it holds.
                    resumes += 1
                    let status = try send("GET", session)
                    guard status.status == 204 || status.status == 200 else { lost = true; break }
                    if let l = status.headers["location"] { session = try uploadURL(l, digest: nil) }
                    offset = try Self.rangeEnd(status.headers["range"], limit: bytes.count, display: display).map { $0 + 1 } ?? 0
                    continue
                }
                guard a.status == 202 else { throw refused(a, "PATCH blob \(digest.prefix(19))") }
                if let l = a.headers["location"] { session = try uploadURL(l, digest: nil) }
                offset = try Self.rangeEnd(a.headers["range"], limit: bytes.count, display: display).map { $0 + 1 } ?? end
            }
            if lost {
                guard starts < attempts else { throw RemoteError.badAnswer(url: display, what: "no upload session that survives for blob \(digest.prefix(19))") }
                continue
            }
            let done = try send("PUT", try uploadURL(session.absoluteString, digest: digest), body: [], type: "application/octet-stream")
            guard done.status == 201 else { throw refused(done, "PUT blob \(digest.prefix(19))") }
            return false
        }
    }

    /// The last byte offset of a `Range: 0-N` answer (nil when absent), within the blob.
    static func rangeEnd(_ header: String?, limit: Int, display: String) throws -> Int? {
        guard let header else { return nil }
        let h = header.hasPrefix("bytes=") ? String(header.dropFirst(6)) : header
        let parts = h.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "0", let end = Int(parts[1]), end >= -1, end < limit else {
            throw RemoteError.badAnswer(url: display, what: "an upload Range \(TerminalText.clipped(header, limit: 40)) outside the blob")
        }
        return end
    }

    /// An upload session's URL from a `Location` header (absolute or relative), with `digest`
    /// added to its query when given.
    func uploadURL(_ location: String, digest: String?) throws -> URL {
        guard var u = URLComponents(string: location) else {
            throw RemoteError.badAnswer(url: display, what: "an upload location that is not a URL")
        }
        if let digest {
            var items = u.queryItems ?? []
            items.append(URLQueryItem(name: "digest", value: digest))
            u.queryItems = items
        }
        // `+` is legal in a query but would be read as a space by some servers.
        u.percentEncodedQuery = u.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        guard let url = u.url(relativeTo: base)?.absoluteURL else { throw RemoteError.badAnswer(url: display, what: "an upload location that is not a URL") }
        return url
    }

    /// A blob's bytes, checked to have `size` bytes and hash to `digest`.
    ///
    /// - Throws: `RemoteError.badAnswer` for anything else (nothing is kept).
    public func blob(_ digest: String, size: Int) throws -> [UInt8] {
        guard size <= RemoteClient.maxAnswerBytes else {
            throw RemoteError.answerTooLarge(url: display, path: "blob \(digest)", limit: RemoteClient.maxAnswerBytes)
        }
        let a = try send("GET", route("blobs/\(digest)"))
        guard a.status == 200 else { throw refused(a, "GET blob \(digest.prefix(19))") }
        guard a.body.count == size else {
            throw RemoteError.badAnswer(url: display, what: "\(a.body.count) bytes for blob \(digest), whose descriptor says \(size)")
        }
        let actual = "sha256:" + Digest.sha256Hex(a.body)
        guard actual == digest else { throw RemoteError.badAnswer(url: display, what: "a blob hashing to \(actual) for \(digest)") }
        return a.body
    }

    // MARK: - Manifests

    /// The digest a manifest reference (tag or digest) names, nil when there is none (`HEAD`).
    public func manifestDigest(_ reference: String) throws -> String? {
        let a = try send("HEAD", route("manifests/\(reference)"), accept: Self.manifestAccept)
        switch a.status {
        case 200:
            if let d = a.headers["docker-content-digest"], OCIMapping.hex(ofDigest: d) != nil { return d }
            return try manifest(reference)?.digest
        case 404: return nil
        default: throw refused(a, "HEAD manifest \(reference.prefix(80))")
        }
    }

    /// `manifestDigest`, but nil for a 5xx as for a 404: for "put it unless it is there"
    /// checks, where putting it again repairs a broken tag link (see `hasBlob`).
    func manifestDigestIfReadable(_ reference: String) throws -> String? {
        do {
            return try manifestDigest(reference)
        } catch RemoteError.server(_, let status, _) where status >= 500 {
            return nil
        }
    }

    /// A manifest's bytes and digest, nil when there is none. Asked by digest, the bytes must
    /// hash to it; asked by tag, the digest is computed from the bytes.
    public func manifest(_ reference: String) throws -> (digest: String, bytes: [UInt8])? {
        let a = try send("GET", route("manifests/\(reference)"), accept: Self.manifestAccept)
        if a.status == 404 { return nil }
        guard a.status == 200 else { throw refused(a, "GET manifest \(reference.prefix(80))") }
        guard a.body.count <= OCIMapping.maxManifestBytes else {
            throw RemoteError.answerTooLarge(url: display, path: "manifest \(reference.prefix(80))", limit: OCIMapping.maxManifestBytes)
        }
        let digest = "sha256:" + Digest.sha256Hex(a.body)
        if OCIMapping.hex(ofDigest: reference) != nil, digest != reference {
            throw RemoteError.badAnswer(url: display, what: "a manifest hashing to \(digest) for \(reference)")
        }
        return (digest, a.body)
    }

    /// Puts a manifest under a tag or its digest; returns the answer's headers.
    @discardableResult
    public func putManifest(_ bytes: [UInt8], reference: String, type: String = OCIMapping.imageManifest) throws -> [String: String] {
        let a = try send("PUT", route("manifests/\(reference)"), body: bytes, type: type)
        guard a.status == 201 || a.status == 200 else { throw refused(a, "PUT manifest \(reference.prefix(80))") }
        return a.headers
    }

    // MARK: - Tags and referrers

    /// Every tag of the repository (empty when it does not exist yet), following `Link` pages.
    public func tags() throws -> [String] {
        var out: [String] = []
        var next: URL? = route("tags/list?n=1000")
        var pages = 0
        while let url = next, pages < 10_000 {
            pages += 1
            let a = try send("GET", url)
            if a.status == 404 { return out }
            guard a.status == 200, let v = try? JSONValue.parse(a.body) else { throw refused(a, "GET tags/list") }
            out += (v["tags"]?.arrayValue ?? []).compactMap(\.stringValue)
            next = a.headers["link"].flatMap(Self.nextLink).flatMap { URL(string: $0, relativeTo: base)?.absoluteURL }
        }
        return out
    }

    /// `<url>; rel="next"` from a `Link` header.
    static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") where part.contains("rel=\"next\"") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else { continue }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }

    /// The referrers of a manifest: from the referrers API, or (when the registry answers 404
    /// there) from the fallback tag `sha256-<hex>`; empty when there are none.
    ///
    /// A registry with the referrers API never answers 404 there (distribution spec), so after
    /// one 404 this client goes straight to the fallback. When `tags` (the repository's tag
    /// list, read by the caller) is given, a fallback tag missing from it is not asked for.
    public func referrers(of digest: String, tags: Set<String>? = nil) throws -> [OCIMapping.Descriptor] {
        if referrersAPI.with({ $0 }) != false {
            let a = try send("GET", route("referrers/\(digest)"), accept: OCIMapping.imageIndex)
            if a.status == 200, let list = OCIMapping.indexEntries(a.body) {
                referrersAPI.with { $0 = true }
                return list
            }
            guard a.status == 404 || a.status == 400 || a.status == 405 else { throw refused(a, "GET referrers") }
            referrersAPI.with { $0 = false }
        }
        if let tags, !tags.contains(OCIMapping.referrersTag(digest)) { return [] }
        return try fallbackReferrers(of: digest)
    }

    /// The descriptors listed under the fallback tag of `digest`.
    public func fallbackReferrers(of digest: String) throws -> [OCIMapping.Descriptor] {
        guard let (_, bytes) = try manifest(OCIMapping.referrersTag(digest)) else { return [] }
        guard let list = OCIMapping.indexEntries(bytes) else {
            throw RemoteError.badAnswer(url: display, what: "a referrers index that is not an image index")
        }
        return list
    }

    // MARK: - Login

    /// Checks a login against the registry's version check (`GET /v2/`), answering its
    /// challenge (basic, or a bearer token from its realm, without a scope).
    ///
    /// - Throws: `RemoteError.loginRefused` when the registry refuses the credentials,
    ///   `.badAnswer` when it does not answer or is not an OCI registry.
    public static func checkLogin(host: String, plainHTTP: Bool, login: OCICredentials.Login) throws {
        let client = try OCIClient(host: host, repository: "", plainHTTP: plainHTTP, credentials: login)
        guard let url = URL(string: "\(client.base.absoluteString)/v2/") else {
            throw RemoteError.unreachable(url: host, reason: "not a host name")
        }
        let a: Answer
        do {
            a = try client.send("GET", url)
        } catch RemoteError.unauthorized(_, let reason) {
            throw RemoteError.loginRefused(host: host, reason: reason)
        }
        guard a.status == 200 else {
            if a.status == 404 { throw RemoteError.badAnswer(url: client.base.absoluteString, what: "404 to GET /v2/: it is not an OCI registry") }
            throw client.refused(a, "GET /v2/")
        }
    }

    // MARK: - Transport

    func route(_ path: String) -> URL {
        URL(string: "\(base.absoluteString)/v2/\(repository)/\(path)")!
    }

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    func refused(_ a: Answer, _ what: String) -> RemoteError {
        // The distribution spec's error body: {"errors": [{"code": ..., "message": ...}]}.
        let v = try? JSONValue.parse(a.body)
        let e = v?["errors"]?.arrayValue?.first
        let message = [e?["code"]?.stringValue, e?["message"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
        return RemoteError.server(url: display, status: a.status, message: "\(what): " + (message.isEmpty ? String(decoding: a.body.prefix(200), as: UTF8.self) : message))
    }

    /// Sends one request; on 401 answers the registry's challenge once (basic credentials, or a
    /// bearer token from its realm) and sends it again. Other statuses are returned.
    /// `retries: false` sends it once (a chunk that may have partly arrived is not sent twice).
    func send(_ method: String, _ url: URL, body: [UInt8]? = nil, type: String? = nil, accept: String? = nil,
              headers: [String: String] = [:], retries: Bool = true) throws -> Answer {
        var challenged = false
        while true {
            var req = ClientRequest(method: method, url: url)
            if let accept { req.set("Accept", accept) }
            for (k, v) in headers { req.set(k, v) }
            if let body {
                req.body = body
                req.set("Content-Type", type ?? "application/octet-stream")
            }
            let state = auth.with { $0 }
            if let token = state.token {
                req.set("Authorization", "Bearer \(token)")
            } else if state.basic, let c = credentials {
                req.set("Authorization", "Basic \(c.basic)")
            }
            let a = try transport(req, what: "\(method) \(url.path)", attempts: retries ? attempts : 1)
            guard a.status == 401, !challenged else {
                if a.status == 401 { throw RemoteError.unauthorized(host: host, reason: credentials == nil ? "it needs credentials and none are configured" : "wrong username or password") }
                return a
            }
            challenged = true
            try answerChallenge(a.headers["www-authenticate"] ?? "")
        }
    }

    func answerChallenge(_ header: String) throws {
        let (scheme, params) = Self.challenge(header)
        switch scheme {
        case "basic":
            guard credentials != nil else { throw RemoteError.unauthorized(host: host, reason: "it needs credentials and none are configured") }
            auth.with { $0.basic = true }
        case "bearer":
            guard let realm = params["realm"], var u = URLComponents(string: realm), u.scheme == "https" || u.scheme == "http" else {
                throw RemoteError.badAnswer(url: display, what: "a bearer challenge without a usable realm")
            }
            var items: [URLQueryItem] = []
            if let service = params["service"] { items.append(URLQueryItem(name: "service", value: service)) }
            // A login check (no repository) asks for a token without a scope, as `docker login` does.
            if let scope = params["scope"] ?? (repository.isEmpty ? nil : "repository:\(repository):pull,push") {
                items.append(URLQueryItem(name: "scope", value: scope))
            }
            u.queryItems = items
            guard let url = u.url else { throw RemoteError.badAnswer(url: display, what: "a bearer realm that is not a URL") }
            var req = ClientRequest(method: "GET", url: url)
            if let c = credentials { req.set("Authorization", "Basic \(c.basic)") }
            let a = try transport(req, what: "GET token")
            if a.status == 401 || a.status == 403 {
                throw RemoteError.unauthorized(host: host, reason: credentials == nil ? "its token service needs credentials and none are configured" : "wrong username or password")
            }
            guard a.status == 200, let v = try? JSONValue.parse(a.body),
                  let token = v["token"]?.stringValue ?? v["access_token"]?.stringValue, !token.isEmpty,
                  token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw RemoteError.badAnswer(url: realm, what: "a token answer (HTTP \(a.status)) without a usable token")
            }
            auth.with { $0.token = token }
        default:
            throw RemoteError.unauthorized(host: host, reason: "it asks for an authentication scheme pvec does not speak (\(TerminalText.clipped(header, limit: 40)))")
        }
    }

    /// The scheme (lowercased) and parameters of a `WWW-Authenticate` header:
    /// `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull,push"`.
    static func challenge(_ header: String) -> (scheme: String, params: [String: String]) {
        let s = Array(header.unicodeScalars)
        var i = 0
        var scheme = ""
        while i < s.count, s[i] != " " { scheme.unicodeScalars.append(s[i]); i += 1 }
        var params: [String: String] = [:]
        while i < s.count {
            while i < s.count, s[i] == " " || s[i] == "," { i += 1 }
            var key = ""
            while i < s.count, s[i] != "=", s[i] != "," { key.unicodeScalars.append(s[i]); i += 1 }
            guard i < s.count, s[i] == "=" else { break }
            i += 1
            var value = ""
            if i < s.count, s[i] == "\"" {
                i += 1
                while i < s.count, s[i] != "\"" {
                    if s[i] == "\\", i + 1 < s.count { i += 1 }
                    value.unicodeScalars.append(s[i])
                    i += 1
                }
                i += 1
            } else {
                while i < s.count, s[i] != "," { value.unicodeScalars.append(s[i]); i += 1 }
            }
            params[key.trimmingCharacters(in: .whitespaces).lowercased()] = value
        }
        return (scheme.lowercased(), params)
    }

    /// One request with transport retries (connection refused or reset); HTTP answers are returned.
    func transport(_ req: ClientRequest, what: String, attempts: Int? = nil) throws -> Answer {
        let attempts = attempts ?? self.attempts
        var pause = firstPause
        var lastError = ""
        for attempt in 1...attempts {
            switch transfer.send(req) {
            case .answer(let a):
                return Answer(status: a.status, headers: a.headers, body: a.body)
            case .tooLarge(let limit):
                throw RemoteError.answerTooLarge(url: display, path: what, limit: limit)
            case .failure(let reason):
                lastError = reason
                if attempt < attempts {
                    Thread.sleep(forTimeInterval: pause)
                    pause *= 2
                }
            }
        }
        throw RemoteError.badAnswer(url: display, what: "no answer (\(lastError)); is the registry running there? (use --plain-http for a registry without TLS)")
    }
}
