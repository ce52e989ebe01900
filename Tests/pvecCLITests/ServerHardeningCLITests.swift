import Foundation
import PVecStore
import PVecTensor
import XCTest

/// `pvec serve` against hostile clients: inconsistent objects, held connections, oversized
/// or deep JSON, token misuse. Each test talks to a real server process.
final class ServerHardeningCLITests: CLITestCase {
    var serverDir: URL { workDir.appendingPathComponent("server") }

    /// A token's text, made on the server registry.
    func token(_ scope: String, name: String, _ extra: String...) throws -> String {
        let r = try pvec(["token", "create", "--scope", scope, "--name", name] + extra + ["--registry", serverDir.path], registry: false)
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func jsonError(_ body: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        let v = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let message = v?["error"] as? String
        XCTAssertNotNil(message, "expected a JSON {\"error\": ...} body, got '\(body.prefix(200))'", file: file, line: line)
        return message
    }

    func names(_ reg: URL) throws -> [String: String] {
        let list = try JSONSerialization.jsonObject(with: Data(try on(reg, "ls", "--json").stdout.utf8)) as! [[String: Any]]
        var out: [String: String] = [:]
        for a in list { for n in a["names"] as? [String] ?? [] { out[n] = a["id"] as? String } }
        return out
    }

    func ids(_ reg: URL) throws -> [String] {
        let list = try JSONSerialization.jsonObject(with: Data(try on(reg, "ls", "--json").stdout.utf8)) as! [[String: Any]]
        return list.map { $0["id"] as! String }
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try on(serverDir, "init")
    }

    // MARK: - Item 5: inconsistent objects

    /// A PVB1 object around `raw` (stored deflate blocks: any bytes, exactly as the server reads them).
    static func pvb1(_ raw: [UInt8]) -> [UInt8] {
        var out = Array("PVB1".utf8) + [0]
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(raw.count) >> (8 * UInt64(i)))) }
        out += [0x78, 0x01]
        var start = 0
        repeat {
            let n = min(65535, raw.count - start)
            let final: UInt8 = start + n == raw.count ? 1 : 0
            out += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += raw[start..<(start + n)]
            start += n
        } while start < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for x in raw { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        let adler = (b << 16) | a
        out += [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)]
        return out
    }

    func putBlob(_ server: ServerProcess, _ raw: [UInt8], token: String) -> (status: Int, body: String) {
        HTTP.send("PUT", "\(server.url)/v1/blobs/\(Digest.sha256Hex(raw))", token: token, body: Self.pvb1(raw))
    }

    func putManifest(_ server: ServerProcess, _ m: Manifest, token: String) -> (status: Int, body: String) {
        HTTP.send("PUT", "\(server.url)/v1/manifests/\(m.id.hex)", token: token, body: m.canonicalBytes)
    }

    func testInconsistentBlobsAndManifestsGet422AndNothingIsVisibleOrCloned() throws {
        let server = try ServerProcess(registry: serverDir)
        let writer = try token("write:team-a", name: "alice")
        let t = TestData.tensor(rows: 4, width: 8, seed: 7)
        // Blobs that decode and hash to their id but are not canonical pvec blobs.
        for (label, raw) in [("not safetensors", Array("just some bytes, not a tensor file".utf8)),
                             ("metadata", Safetensors.encode(["tensor": t], metadata: ["by": "mallory"])),
                             ("F16", Safetensors.encode(["tensor": t], dtype: .f16))] {
            let r = putBlob(server, raw, token: writer)
            XCTAssertEqual(r.status, 422, "\(label): \(r.body)")
            XCTAssertTrue(jsonError(r.body)?.contains("not a canonical pvec blob") ?? false, r.body)
        }
        // A good blob, and manifests that lie about it or name what the server lacks.
        let good = Safetensors.canonical(t)
        XCTAssertEqual(putBlob(server, good, token: writer).status, 201)
        let blob = BlobID(Digest.sha256Hex(good))!
        let toy4 = Backbone(model: "toy", width: 4), toy8 = Backbone(model: "toy", width: 8)
        let liars: [(String, Manifest, String)] = [
            ("shape", Manifest(kind: .prompt, blob: blob, shape: [8, 4], backbone: toy4, recipe: Recipe(op: "import")), "shape"),
            ("blob", Manifest(kind: .prompt, blob: BlobID(String(repeating: "ab", count: 32))!, shape: [4, 8], backbone: toy8,
                              recipe: Recipe(op: "import")), "needs blob"),
            ("parent", Manifest(kind: .prompt, blob: blob, shape: [4, 8], backbone: toy8,
                                parents: [Parent(.`init`, ArtifactID(String(repeating: "cd", count: 32))!)], recipe: Recipe(op: "import")),
             "parent"),
        ]
        for (label, m, words) in liars {
            let r = putManifest(server, m, token: writer)
            XCTAssertEqual(r.status, 422, "\(label): \(r.body)")
            XCTAssertTrue(jsonError(r.body)?.contains(words) ?? false, "\(label): \(r.body)")
        }
        XCTAssertEqual(try ids(serverDir), [], "nothing refused became visible")
        // The honest manifest of the same blob is taken, and a clone gets only that.
        let honest = Manifest(kind: .prompt, blob: blob, shape: [4, 8], backbone: toy8, recipe: Recipe(op: "import"))
        XCTAssertEqual(putManifest(server, honest, token: writer).status, 201)
        let r = HTTP.send("POST", "\(server.url)/v1/refs", token: writer,
                          body: Array(#"{"name":"team-a/p","id":"\#(honest.id.hex)","expected":null}"#.utf8))
        XCTAssertEqual(r.status, 200, r.body)
        let read = try write(Array((try token("read", name: "bob") + "\n").utf8), "bob.token")
        let clone = workDir.appendingPathComponent("clone")
        let c = try pvec(["clone", server.url, clone.path, "--token-file", read], registry: false)
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertEqual(try ids(clone), [honest.id.hex])
        try on(clone, "verify")
        try on(serverDir, "verify")
    }

    // MARK: - Packs

    /// A pack body written here by hand from the layout in registry-schema/openapi.yaml
    /// (not with pvec's encoder): `PVPK` 1, then kind, 64-hex id, big-endian length, body.
    static func pack(_ records: [(kind: Character, id: String, body: [UInt8])], lengths: [Int: UInt32] = [:]) -> [UInt8] {
        var out = Array("PVPK".utf8) + [1]
        for (k, r) in records.enumerated() {
            let n = lengths[k] ?? UInt32(r.body.count)
            out += Array(String(r.kind).utf8) + Array(r.id.utf8) + [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
            out += r.body
        }
        return out
    }

    /// `POST /v1/pack` takes all of a pack or none of it: a bad header, a lying length, an
    /// unknown kind, one blob that does not hash to its id, a manifest that disagrees with
    /// its blob or comes before its parent — each refused with a JSON error and nothing of
    /// the pack stored; then an honest pack is taken and `POST /v1/objects` answers it back.
    func testHostilePacksAreRefusedWholeAndHonestOnesRoundTrip() throws {
        let server = try ServerProcess(registry: serverDir)
        let writer = try token("write:team-a", name: "alice")
        let reader = try token("read", name: "bob")
        let t = TestData.tensor(rows: 4, width: 8, seed: 11)
        let raw = Safetensors.canonical(t), other = Safetensors.canonical(TestData.tensor(rows: 4, width: 8, seed: 12))
        let blob = Digest.sha256Hex(raw), otherBlob = Digest.sha256Hex(other)
        let toy8 = Backbone(model: "toy", width: 8)
        let parent = Manifest(kind: .prompt, blob: BlobID(blob)!, shape: [4, 8], backbone: toy8, recipe: Recipe(op: "import"))
        let child = Manifest(kind: .prompt, blob: BlobID(otherBlob)!, shape: [4, 8], backbone: toy8,
                             parents: [Parent(.source, parent.id)], recipe: Recipe(op: "import"))
        let liar = Manifest(kind: .prompt, blob: BlobID(blob)!, shape: [8, 4], backbone: Backbone(model: "toy", width: 4), recipe: Recipe(op: "import"))
        func post(_ body: [UInt8], token: String? = nil) -> (status: Int, body: String) {
            HTTP.send("POST", "\(server.url)/v1/pack", token: token ?? writer, body: body)
        }
        let good: [(kind: Character, id: String, body: [UInt8])] = [("b", blob, Self.pvb1(raw)), ("b", otherBlob, Self.pvb1(other))]
        let cases: [(String, [UInt8], Int, String)] = [
            ("header", Array("PK\u{3}\u{4}not a pack".utf8), 400, "not a pvec pack"),
            ("lying length", Self.pack(good, lengths: [1: 0xFFFF_FFF0]), 400, "bytes but"),
            ("kind", Self.pack(good + [("x", blob, [1, 2, 3])]), 400, "kind byte"),
            ("id", Self.pack(good + [("b", String(repeating: "G", count: 64), [])]), 400, "hex"),
            ("hash", Self.pack(good + [("b", String(repeating: "ab", count: 32), Self.pvb1(raw))]), 422, "hash"),
            ("disagrees", Self.pack(good + [("m", liar.id.hex, liar.canonicalBytes)]), 422, "disagrees"),
            ("parent after child", Self.pack(good + [("m", child.id.hex, child.canonicalBytes), ("m", parent.id.hex, parent.canonicalBytes)]),
             422, "parent"),
        ]
        for (label, body, status, words) in cases {
            let r = post(body)
            XCTAssertEqual(r.status, status, "\(label): \(r.body)")
            XCTAssertTrue(jsonError(r.body)?.contains(words) ?? false, "\(label): \(r.body)")
            for b in [blob, otherBlob] {
                XCTAssertEqual(HTTP.send("GET", "\(server.url)/v1/blobs/\(b)", token: reader).status, 404, "\(label): a blob of a refused pack was stored")
            }
        }
        XCTAssertEqual(post(Self.pack(good), token: reader).status, 403, "a read token may not upload a pack")
        XCTAssertEqual(try ids(serverDir), [], "nothing refused became visible")
        // The honest pack, parents first; sending it again stores nothing new.
        let honest = Self.pack(good + [("m", parent.id.hex, parent.canonicalBytes), ("m", child.id.hex, child.canonicalBytes)])
        XCTAssertEqual(post(honest).status, 201)
        XCTAssertEqual(post(honest).status, 200)
        XCTAssertEqual(Set(try ids(serverDir)), [parent.id.hex, child.id.hex])
        // Asked back one object per answer (max_bytes 1): the first manifest, nothing more.
        let ask = #"{"manifests":["\#(parent.id.hex)","\#(child.id.hex)"],"blobs":["\#(blob)"],"max_bytes":1}"#
        var r = HTTP.send("POST", "\(server.url)/v1/objects", token: reader, body: Array(ask.utf8))
        XCTAssertEqual(r.status, 200, r.body)
        XCTAssertTrue(r.body.hasPrefix("PVPK\u{1}m\(parent.id.hex)"), String(r.body.prefix(80)))
        XCTAssertFalse(r.body.contains(child.id.hex), "max_bytes 1 still gives one object per answer, not more")
        r = HTTP.send("POST", "\(server.url)/v1/objects", token: reader, body: Array(#"{"blobs":["\#(String(repeating: "cd", count: 32))"]}"#.utf8))
        XCTAssertEqual(r.status, 404, r.body)
        _ = jsonError(r.body)
        try on(serverDir, "verify")
    }

    /// `POST /v1/names`: every entry and the token's scope for every name are checked before
    /// any name moves; a stale entry does not stop the others, and its answer says where the
    /// name is now.
    func testBatchNameMovesCheckEverythingFirstAndMoveAllButTheStaleOne() throws {
        let server = try ServerProcess(registry: serverDir)
        let writer = try token("write:team-a/", name: "alice")
        let raw = Safetensors.canonical(TestData.tensor(rows: 2, width: 8, seed: 21))
        let blob = Digest.sha256Hex(raw)
        let toy8 = Backbone(model: "toy", width: 8)
        let m1 = Manifest(kind: .prompt, blob: BlobID(blob)!, shape: [2, 8], backbone: toy8, recipe: Recipe(op: "import"))
        let m2 = Manifest(kind: .prompt, blob: BlobID(blob)!, shape: [2, 8], backbone: toy8, recipe: Recipe(op: "import", params: ["n": 2]))
        XCTAssertEqual(putBlob(server, raw, token: writer).status, 201)
        XCTAssertEqual(putManifest(server, m1, token: writer).status, 201)
        XCTAssertEqual(putManifest(server, m2, token: writer).status, 201)
        func move(_ entries: [(String, ArtifactID, ArtifactID?)]) -> (status: Int, body: String) {
            let list = entries.map { #"{"name":"\#($0.0)","id":"\#($0.1.hex)","expected":\#($0.2.map { "\"\($0.hex)\"" } ?? "null")}"# }
            return HTTP.send("POST", "\(server.url)/v1/names", token: writer, body: Array(#"{"refs":[\#(list.joined(separator: ","))]}"#.utf8))
        }
        XCTAssertEqual(move([("team-a/x", m1.id, nil)]).status, 200)
        // One name outside the token's scope, or one name twice: refused whole.
        var r = move([("team-a/y", m1.id, nil), ("team-b/z", m1.id, nil)])
        XCTAssertEqual(r.status, 403, r.body)
        XCTAssertTrue(jsonError(r.body)?.contains("team-b/z") ?? false, r.body)
        r = move([("team-a/y", m1.id, nil), ("team-a/y", m2.id, nil)])
        XCTAssertEqual(r.status, 400, r.body)
        XCTAssertEqual(try names(serverDir), ["team-a/x": m1.id.hex], "nothing moved by a refused request")
        // A stale expectation on x: y and w still move, x stays, and the answer says where x is.
        r = move([("team-a/y", m2.id, nil), ("team-a/x", m2.id, m2.id), ("team-a/w", m1.id, nil)])
        XCTAssertEqual(r.status, 200, r.body)
        let answer = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
        let refs = try XCTUnwrap(answer["refs"] as? [[String: Any]])
        XCTAssertEqual(refs.map { $0["name"] as? String }, ["team-a/y", "team-a/x", "team-a/w"])
        XCTAssertEqual(refs[1]["conflict"] as? Bool, true)
        XCTAssertEqual(refs[1]["current"] as? String, m1.id.hex)
        XCTAssertNil(refs[0]["conflict"])
        XCTAssertEqual(try names(serverDir), ["team-a/x": m1.id.hex, "team-a/y": m2.id.hex, "team-a/w": m1.id.hex])
        let audit = try on(serverDir, "audit", "team-a/w").stdout
        XCTAssertTrue(audit.contains("token:alice"), "batch moves are audited with the token holder: \(audit)")
        try on(serverDir, "audit", "verify")
        try on(serverDir, "verify")
    }

    // MARK: - Item 6: connections, time, sizes

    func testHalfSentIdleAndTricklingRequestsAreClosed() throws {
        let server = try ServerProcess(registry: serverDir, arguments: ["--idle-timeout", "1", "--request-timeout", "3"])
        let read = try token("read", name: "bob")
        // Half a request head, then silence.
        let half = try XCTUnwrap(RawSocket(port: server.port))
        half.send("GET /v1/names HTTP/1.1\r\nHost: x\r\nAuthorization: Bea")
        XCTAssertEqual(half.readUntilClosed(timeout: 30), .closed, "a half-sent request head must be closed")
        // A kept-alive connection after its answer.
        let idle = try XCTUnwrap(RawSocket(port: server.port))
        idle.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        guard case .data(let answer) = idle.read(timeout: 30) else { return XCTFail("no answer to /v1/health") }
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200"), answer)
        XCTAssertEqual(idle.readUntilClosed(timeout: 30), .closed, "an idle keep-alive connection must be closed")
        // A body trickled a byte at a time, never idle for a whole second.
        let slow = try XCTUnwrap(RawSocket(port: server.port))
        slow.send("POST /v1/closure HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(read)\r\nContent-Length: 100000\r\n\r\n{")
        var outcome = RawSocket.Read.timeout
        for _ in 0..<120 {
            outcome = slow.read(timeout: 0.4)
            if outcome != .timeout { break }
            if !slow.send(" ") { outcome = .closed; break }
        }
        XCTAssertEqual(outcome, .closed, "a request whose body trickles in must be closed")
        XCTAssertEqual(HTTP.send("GET", "\(server.url)/v1/health", token: nil).status, 200)
    }

    func testConnectionsBeyondTheLimitWaitUntilOthersClose() throws {
        let server = try ServerProcess(registry: serverDir, arguments: ["--max-connections", "2", "--idle-timeout", "3"])
        // Two connections that are surely accepted: each has had an answer, and stays open.
        let held = try (0..<2).map { _ in try XCTUnwrap(RawSocket(port: server.port)) }
        for s in held {
            s.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            guard case .data(let a) = s.read(timeout: 30), a.hasPrefix("HTTP/1.1 200") else { return XCTFail("no answer") }
        }
        // A third is answered only once the idle timeout has closed one of them.
        let third = try XCTUnwrap(RawSocket(port: server.port))
        third.send("GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        guard case .data(let a) = third.read(timeout: 60) else { return XCTFail("the third connection got no answer") }
        XCTAssertTrue(a.hasPrefix("HTTP/1.1 200"), a)
        let closed = held.filter { $0.readUntilClosed(timeout: 0.5) == .closed }.count
        XCTAssertGreaterThanOrEqual(closed, 1, "the third connection was served while two others were still open (limit 2)")
        // A flood of silent connections, then gone: the server still answers.
        var flood = (0..<40).compactMap { _ in RawSocket(port: server.port) }
        XCTAssertFalse(flood.isEmpty)
        flood.removeAll()
        XCTAssertEqual(HTTP.send("GET", "\(server.url)/v1/health", token: nil).status, 200)
    }

    func testOversizedDeepAndBodyOnGetAreRefusedWithJSON() throws {
        let server = try ServerProcess(registry: serverDir)
        let write = try token("write:*", name: "ci")
        let deep = "{\"ids\":" + String(repeating: "[", count: 60) + String(repeating: "]", count: 60) + "}"
        var r = HTTP.send("POST", "\(server.url)/v1/closure", token: write, body: Array(deep.utf8))
        XCTAssertEqual(r.status, 413, r.body)
        XCTAssertTrue(jsonError(r.body)?.contains("deep") ?? false, r.body)
        // More ids than one request may carry (here all the same, valid-looking id).
        let many = "{\"ids\":[" + Array(repeating: "\"" + String(repeating: "ab", count: 32) + "\"", count: 20_000).joined(separator: ",") + "]}"
        r = HTTP.send("POST", "\(server.url)/v1/closure", token: write, body: Array(many.utf8))
        XCTAssertEqual(r.status, 413, r.body)
        _ = jsonError(r.body)
        r = HTTP.send("POST", "\(server.url)/v1/refs", token: write, body: Array(("{\"name\":\"x\",\"pad\":[" + String(repeating: "1,", count: 100) + "1]}").utf8))
        XCTAssertEqual(r.status, 413, r.body)
        // A GET with a body (URLSession will not send one).
        let get = try XCTUnwrap(RawSocket(port: server.port))
        get.send("GET /v1/names HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(write)\r\nContent-Length: 1000\r\n\r\n" + String(repeating: "x", count: 1000))
        guard case .data(let answer) = get.read(timeout: 30) else { return XCTFail("no answer to a GET with a body") }
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 413"), answer)
        XCTAssertTrue(answer.contains(#"{"error":"#) && answer.contains("takes no request body"), answer)
        XCTAssertEqual(HTTP.send("GET", "\(server.url)/v1/health", token: nil).status, 200)
    }

    // MARK: - Item 10: unknown routes

    func testUnknownRoutesAndWrongMethodsAnswerJSON() throws {
        let server = try ServerProcess(registry: serverDir)
        var r = HTTP.send("GET", "\(server.url)/v2/nothing", token: nil)
        XCTAssertEqual(r.status, 404)
        XCTAssertTrue(jsonError(r.body)?.contains("no route") ?? false, r.body)
        r = HTTP.send("DELETE", "\(server.url)/v1/names", token: nil)
        XCTAssertEqual(r.status, 405)
        XCTAssertTrue(jsonError(r.body)?.contains("use GET") ?? false, r.body)
        r = HTTP.send("GET", "\(server.url)/v1/refs", token: nil)
        XCTAssertEqual(r.status, 405)
        _ = jsonError(r.body)
    }

    // MARK: - Item 7: tokens

    func testTokenListRevokeExpiryAndUniqueHolders() throws {
        let alice = try token("write:team-a", name: "alice")
        let secret = String(alice.split(separator: "_")[2])
        let aliceID = String(alice.split(separator: "_")[1])
        // One live token per holder.
        let again = try on(serverDir, "token", "create", "--scope", "read", "--name", "alice", expect: nil)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("already belongs") && again.stderr.contains(aliceID), again.stderr)
        // Expiry: a duration, a date; nonsense and the past are refused.
        let brief = try token("read", name: "brief", "--expires", "1s")
        _ = try token("read", name: "dated", "--expires", "2999-01-31T12:00:00Z")
        for bad in ["5x", "2020-01-01", "-3d", "0h"] {
            let r = try on(serverDir, "token", "create", "--name", "z", "--expires=\(bad)", expect: nil)
            XCTAssertNotEqual(r.status, 0, bad)
            XCTAssertTrue(r.stderr.contains("not an expiry"), r.stderr)
        }
        // list never prints secrets or their hashes.
        let human = try on(serverDir, "token", "list").stdout
        let json = try on(serverDir, "token", "list", "--json").stdout
        for text in [human, json] {
            XCTAssertFalse(text.contains(secret))
            XCTAssertFalse(text.contains(Digest.sha256Hex(Array(secret.utf8))))
        }
        let list = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [[String: Any]]
        XCTAssertEqual(list.map { $0["name"] as? String }, ["alice", "brief", "dated"])
        XCTAssertEqual(list[0]["status"] as? String, "active")
        XCTAssertEqual(list[0]["scopes"] as? [String], ["write:team-a"])
        XCTAssertTrue(list[2]["expires_at"] as? String == "2999-01-31T12:00:00Z", "\(list[2])")

        let server = try ServerProcess(registry: serverDir)
        // RFC 7235: the scheme is case-insensitive.
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            XCTAssertEqual(HTTP.send("GET", "\(server.url)/v1/names", token: alice, scheme: scheme).status, 200, scheme)
        }
        XCTAssertEqual(HTTP.send("GET", "\(server.url)/v1/names", token: alice, scheme: "Basic").status, 401)
        // Expired: wait past its one second.
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(HTTP.send("GET", "\(server.url)/v1/names", token: brief).status, 401)
        XCTAssertTrue(try on(serverDir, "token", "list").stdout.contains("expired"))
        // Revoked: refused from the next request on, audited, and the holder name is free again.
        let audit = try on(serverDir, "audit", "--json").stdout
        try on(serverDir, "token", "revoke", aliceID)
        let r = HTTP.send("GET", "\(server.url)/v1/names", token: alice)
        XCTAssertEqual(r.status, 401)
        XCTAssertTrue(jsonError(r.body)?.contains("revoked") ?? false, r.body)
        let after = try on(serverDir, "audit", "--json").stdout
        XCTAssertGreaterThan(after.count, audit.count)
        XCTAssertTrue(after.contains("revoked token \(aliceID)"), after)
        XCTAssertFalse(after.contains(secret))
        let listed = try JSONSerialization.jsonObject(with: Data(try on(serverDir, "token", "list", "--json").stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(listed[0]["status"] as? String, "revoked")
        _ = try token("read", name: "alice")
        let unknown = try on(serverDir, "token", "revoke", "0123456789abcdef", expect: nil)
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("no token"), unknown.stderr)
        try on(serverDir, "audit", "verify")
    }

    func testScopeGrammarIsStrictAndPrefixesEndAtSlash() throws {
        for bad in ["write:", "write:team-*", "WRITE:team-a", "write:/team-a", "write:team-a//", "admin", "read:x", "write:**"] {
            let r = try on(serverDir, "token", "create", "--scope", bad, "--name", "x", expect: nil)
            XCTAssertNotEqual(r.status, 0, bad)
            XCTAssertTrue(r.stderr.contains("is not a scope"), "\(bad): \(r.stderr)")
        }
        let bare = try token("write:team-a", name: "bare")
        let slash = try token("write:team-a/", name: "slash")
        let server = try ServerProcess(registry: serverDir)
        let nowhere = String(repeating: "ef", count: 32)
        func move(_ name: String, _ token: String) -> Int {
            HTTP.send("POST", "\(server.url)/v1/refs", token: token,
                      body: Array(#"{"name":"\#(name)","id":"\#(nowhere)","expected":null}"#.utf8)).status
        }
        // 403: the scope does not cover the name. Anything else: allowed, and then refused
        // because the id is not on the server.
        XCTAssertEqual(move("team-ab/x", bare), 403)
        XCTAssertEqual(move("team-ab", bare), 403)
        XCTAssertNotEqual(move("team-a/x", bare), 403)
        XCTAssertNotEqual(move("team-a", bare), 403)
        XCTAssertEqual(move("team-ab/x", slash), 403)
        XCTAssertEqual(move("team-a", slash), 403)
        XCTAssertNotEqual(move("team-a/x/y", slash), 403)
        let missing = HTTP.send("POST", "\(server.url)/v1/missing", token: bare,
                                body: Array(#"{"manifests":[],"blobs":[],"names":["team-ab/x"]}"#.utf8))
        XCTAssertEqual(missing.status, 403, missing.body)
    }
}
