import Foundation
import PVecStore

/// The HTTP side of `push`, `pull` and `clone`: one call per API route, JSON in and out.
///
/// Transport failures (connection refused or reset while a server restarts) are retried a few
/// times with a growing pause; HTTP errors are not, they are answers.
public final class RemoteClient: Sendable {
    public let base: URL
    let token: String?
    /// Transport retries per request, and the first pause between them (doubled each time).
    let attempts = 6
    let firstPause: TimeInterval = 0.2

    /// The largest answer accepted: a blob upload's limit on the server (64 MiB) with room
    /// for a large closure listing.
    public static let maxAnswerBytes = 80 << 20
    /// No request may take longer than this in all, however slowly a server drips bytes.
    public static let requestDeadline: TimeInterval = 300
    let transport = HTTPTransport(limit: RemoteClient.maxAnswerBytes, deadline: RemoteClient.requestDeadline)

    public init(base: URL, token: String?) {
        self.base = base
        self.token = token
    }

    // MARK: - Routes

    public func names() throws -> [(name: String, id: ArtifactID, version: Int)] {
        let v = try json("GET", "v1/names")
        return (v["names"]?.arrayValue ?? []).compactMap { n in
            guard let name = n["name"]?.stringValue, let id = n["id"]?.stringValue.flatMap(ArtifactID.init) else { return nil }
            return (name, id, Int(n["version"]?.intValue ?? 0))
        }
    }

    public func manifest(_ id: ArtifactID) throws -> [UInt8] {
        try request("GET", "v1/manifests/\(id.hex)").body
    }

    public func blob(_ id: BlobID) throws -> [UInt8] {
        try request("GET", "v1/blobs/\(id.hex)").body
    }

    /// Ids (or names, or signatures) per request: well under the server's limit
    /// (`RegistryServer.Limits.idsPerRequest`), so large registries move in several requests.
    public static let batch = 1_000

    /// The lineage closure of `ids`, asked `batch` ids at a time and merged (parents still
    /// come before children: each answer lists them so, and a repeat keeps its first place).
    public func closure(of ids: [ArtifactID]) throws -> (closure: TransferClosure, signatures: [ArtifactSignature]) {
        var manifests: [ArtifactID] = [], blobs: [BlobID] = [], sigs: [ArtifactSignature] = []
        var seenM: Set<ArtifactID> = [], seenB: Set<BlobID> = [], seenS: Set<String> = []
        for start in stride(from: 0, to: max(ids.count, 1), by: Self.batch) {
            let part = try closureBatch(Array(ids[start..<min(start + Self.batch, ids.count)]))
            for m in part.closure.manifests where seenM.insert(m).inserted { manifests.append(m) }
            for b in part.closure.blobs where seenB.insert(b).inserted { blobs.append(b) }
            for s in part.signatures where seenS.insert(s.artifact.hex + " " + s.key).inserted { sigs.append(s) }
        }
        return (TransferClosure(manifests: manifests, blobs: blobs), sigs)
    }

    func closureBatch(_ ids: [ArtifactID]) throws -> (closure: TransferClosure, signatures: [ArtifactSignature]) {
        let v = try json("POST", "v1/closure", body: ["ids": .array(ids.map { .string($0.hex) })])
        let manifests = (v["manifests"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(ArtifactID.init) }
        let blobs = (v["blobs"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(BlobID.init) }
        let sigs: [ArtifactSignature] = (v["signatures"]?.arrayValue ?? []).compactMap { s in
            guard let a = s["artifact"]?.stringValue.flatMap(ArtifactID.init), let k = s["key"]?.stringValue,
                  let sig = s["signature"]?.stringValue else { return nil }
            return ArtifactSignature(artifact: a, key: k, signature: sig, signer: s["signer"]?.stringValue)
        }
        return (TransferClosure(manifests: manifests, blobs: blobs), sigs)
    }

    /// Which of these objects the server lacks; `names` are the names the push will move
    /// (the server refuses at once if the token may not write them).
    public func missing(_ c: TransferClosure, names: [String]) throws -> TransferClosure {
        func slice<T>(_ a: [T], _ i: Int) -> ArraySlice<T> { a[min(i * Self.batch, a.count)..<min((i + 1) * Self.batch, a.count)] }
        let rounds = max(1, [c.manifests.count, c.blobs.count, names.count].map { ($0 + Self.batch - 1) / Self.batch }.max() ?? 1)
        var out = TransferClosure(manifests: [], blobs: [])
        for i in 0..<rounds {
            let v = try json("POST", "v1/missing", body: ["manifests": .array(slice(c.manifests, i).map { .string($0.hex) }),
                                                          "blobs": .array(slice(c.blobs, i).map { .string($0.hex) }),
                                                          "names": .array(slice(names, i).map { .string($0) })])
            out.manifests += (v["manifests"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(ArtifactID.init) }
            out.blobs += (v["blobs"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(BlobID.init) }
        }
        return out
    }

    public func putBlob(_ id: BlobID, _ bytes: [UInt8]) throws {
        _ = try request("PUT", "v1/blobs/\(id.hex)", body: bytes, type: "application/octet-stream")
    }

    public func putManifest(_ id: ArtifactID, _ bytes: [UInt8]) throws {
        _ = try request("PUT", "v1/manifests/\(id.hex)", body: bytes, type: "application/json")
    }

    /// Sends a pack (`POST /v1/pack`); the server stores all of it or none.
    public func putPack(_ pack: ObjectPack) throws {
        _ = try request("POST", "v1/pack", body: pack.encoded(), type: ObjectPack.mediaType)
    }

    /// The asked objects as a pack (`POST /v1/objects`), fetched in as many answers of at most
    /// `maxBytes` as it takes, each answer handed to `take` as it arrives. Every entry is
    /// checked to be the next one asked for; its bytes are still only a claim to be hashed.
    ///
    /// - Throws: `RemoteError.badAnswer` for an answer that is not a pack of what was asked.
    public func objects(manifests: [ArtifactID] = [], blobs: [BlobID] = [], maxBytes: Int,
                        _ take: (ObjectPack) throws -> Void) throws {
        var asked: [ObjectPack.Entry] = manifests.map { .manifest($0, []) } + blobs.map { .blob($0, []) }
        while !asked.isEmpty {
            let m = asked.compactMap { if case .manifest(let id, _) = $0 { return JSONValue.string(id.hex) } else { return nil } }
            let b = asked.compactMap { if case .blob(let id, _) = $0 { return JSONValue.string(id.hex) } else { return nil } }
            let body: JSONValue = ["manifests": .array(m), "blobs": .array(b), "max_bytes": .int(Int64(maxBytes))]
            let answer = try request("POST", "v1/objects", body: body.canonicalBytes, type: "application/json").body
            let pack: ObjectPack
            do {
                pack = try ObjectPack.decode(answer, maxEntries: asked.count)
            } catch let e as ObjectPack.FormatError {
                throw RemoteError.badAnswer(url: base.absoluteString, what: "a pack that does not read: \(e.description)")
            }
            guard !pack.entries.isEmpty else { throw RemoteError.badAnswer(url: base.absoluteString, what: "an empty pack for \(asked.count) asked objects") }
            for (k, e) in pack.entries.enumerated() where !Self.sameObject(e, asked[k]) {
                throw RemoteError.badAnswer(url: base.absoluteString, what: "object \(k + 1) of a pack that was not asked for (or out of order)")
            }
            asked.removeFirst(pack.entries.count)
            try take(pack)
        }
    }

    static func sameObject(_ a: ObjectPack.Entry, _ b: ObjectPack.Entry) -> Bool {
        switch (a, b) {
        case (.blob(let x, _), .blob(let y, _)): return x == y
        case (.manifest(let x, _), .manifest(let y, _)): return x == y
        default: return false
        }
    }

    public func putSignatures(_ sigs: [ArtifactSignature]) throws {
        for start in stride(from: 0, to: sigs.count, by: Self.batch) {
            let part = sigs[start..<min(start + Self.batch, sigs.count)]
            _ = try json("POST", "v1/signatures", body: ["signatures": .array(part.map(PromptBundle.signatureJSON))])
        }
    }

    /// Moves a name on the server if it still points at `expected` (nil: must not exist).
    ///
    /// - Throws: `RemoteError.conflict` when it has moved.
    public func updateRef(_ name: String, to id: ArtifactID, expected: ArtifactID?) throws -> Int {
        let body: JSONValue = ["name": .string(name), "id": .string(id.hex), "expected": expected.map { .string($0.hex) } ?? .null]
        do {
            let v = try json("POST", "v1/refs", body: body)
            return Int(v["version"]?.intValue ?? 0)
        } catch RemoteError.server(_, 409, let message) {
            throw RemoteError.conflict(name: name, message: message)
        }
    }

    /// Moves several names on the server (`POST /v1/names`), `batch` per request, each by
    /// compare-and-swap as in `updateRef`; returns the names that had moved on the server,
    /// with the server's message (the other names moved).
    public func updateRefs(_ moves: [(name: String, id: ArtifactID, expected: ArtifactID?)]) throws -> [(name: String, message: String)] {
        var conflicts: [(name: String, message: String)] = []
        for start in stride(from: 0, to: moves.count, by: Self.batch) {
            let part = moves[start..<min(start + Self.batch, moves.count)]
            let v = try json("POST", "v1/names", body: ["refs": .array(part.map {
                ["name": .string($0.name), "id": .string($0.id.hex), "expected": $0.expected.map { .string($0.hex) } ?? .null]
            })])
            guard let answers = v["refs"]?.arrayValue, answers.count == part.count else {
                throw RemoteError.badAnswer(url: base.absoluteString, what: "an answer to POST /v1/names without one entry per name")
            }
            for (m, a) in zip(part, answers) where a["conflict"]?.boolValue == true {
                conflicts.append((m.name, a["error"]?.stringValue ?? "moved on the server"))
            }
        }
        return conflicts
    }

    // MARK: - Transport

    func json(_ method: String, _ path: String, body: JSONValue? = nil) throws -> JSONValue {
        let r = try request(method, path, body: body?.canonicalBytes, type: "application/json")
        guard let v = try? JSONValue.parse(r.body) else {
            throw RemoteError.unreachable(url: base.absoluteString, reason: "the answer to \(path) is not JSON")
        }
        return v
    }

    /// Sends one request; returns the body of a 2xx answer.
    ///
    /// - Throws: `RemoteError.server` for other statuses (with the server's message),
    ///   `.unreachable` when every attempt failed to connect.
    func request(_ method: String, _ path: String, body: [UInt8]? = nil, type: String? = nil) throws -> (status: Int, body: [UInt8]) {
        var req = ClientRequest(method: method, url: base.appendingPathComponent(path))
        if let token { req.set("Authorization", "Bearer \(token)") }
        if let body {
            req.body = body
            req.set("Content-Type", type ?? "application/octet-stream")
        }
        var pause = firstPause
        var lastError = ""
        for attempt in 1...attempts {
            switch transport.send(req) {
            case .answer(let a):
                guard (200..<300).contains(a.status) else {
                    let message = (try? JSONValue.parse(a.body))?["error"]?.stringValue ?? String(decoding: a.body.prefix(200), as: UTF8.self)
                    throw RemoteError.server(url: base.absoluteString, status: a.status, message: message)
                }
                return (a.status, a.body)
            case .tooLarge(let limit):
                throw RemoteError.answerTooLarge(url: base.absoluteString, path: path, limit: limit)
            case .failure(let reason):
                lastError = reason
                if attempt < attempts {
                    Thread.sleep(forTimeInterval: pause)
                    pause *= 2
                }
            }
        }
        throw RemoteError.unreachable(url: base.absoluteString, reason: lastError)
    }
}
