import Crypto
import Foundation
import PVecStore
import PVecTensor
import XCTest

/// Hostile bytes and text from files, bundles and servers: refused with one clear line, never
/// a crash, never a name standing for someone else's content, never a forged terminal line.
final class HostileInputCLITests: CLITestCase {
    /// The object file of a blob in a registry.
    func objectURL(_ reg: URL, _ blob: BlobID) -> URL {
        reg.appendingPathComponent("objects").appendingPathComponent(String(blob.hex.prefix(2)))
            .appendingPathComponent(String(blob.hex.dropFirst(2)))
    }

    /// Sets bit 3 of byte 4 of the PVB1 length field: the header then claims 2^35 more bytes.
    func flipLengthBit(_ bytes: inout [UInt8], at start: Int = 0) {
        bytes[start + 5 + 4] ^= 0x08
    }

    /// Overwrites a (read-only) file.
    func overwrite(_ url: URL, _ bytes: [UInt8]) throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
        try Data(bytes).write(to: url)
    }

    /// A 30-byte PVB1 object whose header announces 2^36 bytes (the old limit, exactly).
    static var lengthBomb: [UInt8] {
        var b = Array("PVB1".utf8) + [0]
        let n: UInt64 = 1 << 36
        for i in 0..<8 { b.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        // A valid zlib stream of 5 zero bytes, padded to 30 bytes in all.
        b += [0x78, 0x9C, 0x63, 0x60, 0x80, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01]
        while b.count < 30 { b.append(0) }
        return b
    }

    /// Rewrites a bundle's index with `edit` and re-seals its trailing digest, as a sender could.
    func rewriteBundle(_ path: String, _ edit: (inout [String: JSONValue]) -> Void) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var length = 0
        for i in 0..<8 { length |= Int(bytes[12 + i]) << (8 * i) }
        guard case .object(var index) = try JSONValue.parse(bytes[20..<(20 + length)]) else { return XCTFail("bundle index") }
        edit(&index)
        let newIndex = JSONValue.object(index).canonicalBytes
        var out = Array(bytes[0..<12])
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(newIndex.count) >> (8 * UInt64(i)))) }
        out += newIndex
        out += bytes[(20 + length)..<(bytes.count - 32)]
        out += Array(SHA256.hash(data: out))
        try Data(out).write(to: URL(fileURLWithPath: path))
    }

    func token(_ server: URL, _ scope: String, name: String) throws -> String {
        try on(server, "token", "create", "--scope", scope, "--name", name).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: - Untrusted sizes

    func testLengthFieldCannotMakeVerifyExportOrServeAllocate() throws {
        try makeToyRegistry(prompts: ["a"])
        let reg = try Registry.open(at: registryDir)
        let blob = try reg.manifest(try reg.resolve("a")).blob!
        let url = objectURL(registryDir, blob)
        var bytes = [UInt8](try Data(contentsOf: url))
        flipLengthBit(&bytes)
        try overwrite(url, bytes)

        let v = try pvec(["verify"])
        XCTAssertNotEqual(v.status, 0)
        XCTAssertTrue(v.stdout.contains(String(blob.hex.prefix(12))), "verify names the object: \(v.stdout)")
        XCTAssertTrue(v.stdout.contains("header announces"), v.stdout)
        let e = try refused(["export", "a", "--out", workDir.appendingPathComponent("a.npy").path], containing: blob.hex)
        XCTAssertTrue(e.stderr.contains("corrupt"), e.stderr)

        // The server: a 30-byte upload announcing 2^36 bytes gets 422, and the server lives on.
        let server = dir("server")
        try on(server, "init")
        let process = try ServerProcess(registry: server)
        let write = try token(server, "write:*", name: "alice")
        let id = Digest.sha256Hex(Self.lengthBomb)
        let put = HTTP.send("PUT", "\(process.url)/v1/blobs/\(id)", token: write, body: Self.lengthBomb)
        XCTAssertEqual(put.status, 422, put.body)
        XCTAssertTrue(put.body.contains("error"), put.body)
        XCTAssertEqual(HTTP.send("GET", "\(process.url)/v1/health", token: nil).status, 200, "the server keeps serving")
    }

    func testBundleWithALyingBlobLengthIsRefusedWholeWithoutAllocating() throws {
        let a = dir("a"), b = dir("b")
        try on(a, "init")
        try on(a, "import", try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: 1)), "p.npy"), "--name", "p")
        let path = workDir.appendingPathComponent("p.pvb").path
        try on(a, "bundle", "create", path, "p")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let magic = Array("PVB1".utf8)
        guard let at = (0..<(bytes.count - 4)).first(where: { Array(bytes[$0..<($0 + 4)]) == magic }) else { return XCTFail("no blob") }
        flipLengthBit(&bytes, at: at)
        bytes.removeLast(32)
        bytes += Array(SHA256.hash(data: bytes))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try on(b, "init")
        let r = try on(b, "bundle", "import", path, expect: nil)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("nothing was imported"), r.stderr)
        XCTAssertEqual(try on(b, "ls", "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[]")
    }

    func testPullFromAServerWithALyingObjectFailsCleanly() throws {
        let server = dir("server"), b = dir("b")
        try on(server, "init")
        try on(server, "import", try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: 1)), "p.npy"), "--name", "p")
        let reg = try Registry.open(at: server)
        let blob = try reg.manifest(try reg.resolve("p")).blob!
        let url = objectURL(server, blob)
        var bytes = [UInt8](try Data(contentsOf: url))
        flipLengthBit(&bytes)
        try overwrite(url, bytes)
        let process = try ServerProcess(registry: server)
        let read = try write(Array(try token(server, "read", name: "bob").utf8), "bob.token")
        try on(b, "init")
        try on(b, "remote", "add", "hub", process.url, "--token-file", read)
        let r = try on(b, "pull", "hub", "p", expect: nil)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertEqual(try on(b, "ls", "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[]")
        XCTAssertEqual(HTTP.send("GET", "\(process.url)/v1/health", token: nil).status, 200, "the server keeps serving")
    }

    /// A server that answers with an endless body (announced as 2 GiB, or chunked without a
    /// length) is cut off at the client's limit: one line, nothing stored.
    func testEndlessAnswerFromAHostileServerIsCutOff() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/testing/hostile_server.py")
        let b = dir("b")
        try on(b, "init")
        let tokenFile = try write(Array("pvec_0123456789abcdef_\(String(repeating: "0", count: 64))\n".utf8), "t.token")
        for mode in ["announced", "chunked"] {
            let server = Process()
            server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            server.arguments = ["python3", script.path, mode]
            let out = Pipe()
            server.standardOutput = out
            try server.run()
            defer { server.terminate(); server.waitUntilExit() }
            var line = ""
            while !line.contains("\n") {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line += String(decoding: chunk, as: UTF8.self)
            }
            let url = try XCTUnwrap(line.split(separator: "\n").first?.split(separator: " ").last.map(String.init), line)
            try on(b, "remote", "add", "evil-\(mode)", url, "--token-file", tokenFile)
            let r = try on(b, "pull", "evil-\(mode)", "p", expect: nil)
            XCTAssertNotEqual(r.status, 0, mode)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("more than 80 MiB"), "\(mode): \(r.stderr)")
        }
        XCTAssertEqual(try on(b, "ls", "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[]")
    }

    // MARK: - Names never shadow ids

    func testNamesThatLookLikeIdsAreRefusedEverywhereAndIdsWin() throws {
        try makeToyRegistry(prompts: ["a", "b"])
        let reg = try Registry.open(at: registryDir)
        let a = try reg.resolve("a"), b = try reg.resolve("b")
        let file = try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: 9)), "c.npy")
        for bad in [b.hex, String(b.hex.prefix(6)), "cafe", "BEEF1234"] {
            try refused(["import", file, "--name", bad], containing: "look like an artifact id")
            try refused(["tag", "a", bad], containing: "look like an artifact id")
        }
        try ok("import", file, "--name", "v\(b.hex.prefix(6))")
        // An id prefix names the artifact, whatever names exist.
        XCTAssertTrue(try ok("show", String(b.hex.prefix(8))).contains(b.hex))
        XCTAssertTrue(try ok("show", String(a.hex.prefix(8)).uppercased()).contains(a.hex))

        // A bundle carrying an id-like name is refused whole.
        let other = dir("other")
        try on(other, "init")
        let path = workDir.appendingPathComponent("a.pvb").path
        try ok("bundle", "create", path, "a")
        try rewriteBundle(path) { index in
            index["names"] = .array([["name": .string(String(b.hex.prefix(8))), "id": .string(a.hex)]])
        }
        let r = try on(other, "bundle", "import", path, expect: nil)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("look like an artifact id"), r.stderr)
        XCTAssertEqual(try on(other, "ls", "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[]")

        // So is a server ref update.
        let server = dir("server")
        try on(server, "init")
        let process = try ServerProcess(registry: server)
        let writeToken = try token(server, "write:*", name: "alice")
        try ok("remote", "add", "hub", process.url, "--token-file", try write(Array(writeToken.utf8), "w.token"))
        try ok("push", "hub", "a")
        let body: JSONValue = ["name": .string(String(b.hex.prefix(10))), "id": .string(a.hex), "expected": .null]
        let post = HTTP.send("POST", "\(process.url)/v1/refs", token: writeToken, body: body.canonicalBytes)
        XCTAssertTrue((400..<500).contains(post.status), "\(post.status) \(post.body)")
        XCTAssertTrue(post.body.contains("look like an artifact id"), post.body)
    }

    // MARK: - Text from outside

    func testSignerLabelWithEscapesInABundleIsRefused() throws {
        let a = dir("a"), b = dir("b")
        try on(a, "init")
        try on(a, "import", try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: 1)), "p.npy"), "--name", "p")
        _ = try pvec(["key", "generate", "--name", "mallory"], registry: false, env: ["PVEC_KEYS": keys])
        try on(a, "sign", "p", "--key", "mallory")
        let path = workDir.appendingPathComponent("p.pvb").path
        try on(a, "bundle", "create", path, "p")
        // The signer label is not covered by the signature: a sender can write anything there.
        let forged = "mallory)\n\u{1B}[32msigned    0123456789abcdef trusted as team-a"
        try rewriteBundle(path) { index in
            guard case .array(var sigs) = index["signatures"], case .object(var s) = sigs[0] else { return }
            s["signer"] = .string(forged)
            sigs[0] = .object(s)
            index["signatures"] = .array(sigs)
        }
        try on(b, "init")
        let r = try on(b, "bundle", "import", path, expect: nil)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertFalse(r.stderr.contains("\u{1B}"), "no raw escape reaches the terminal")
        XCTAssertTrue(r.stderr.contains("signer label"), r.stderr)
        XCTAssertEqual(try on(b, "ls", "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[]")
    }

    func testErrorsEchoOutsideTextEscapedClippedAndOnOneLine() throws {
        try makeToyRegistry(prompts: ["a"])
        let r = try refused(["show", "no\nsuch\u{1B}[2J name"], containing: "no name, id")
        XCTAssertFalse(r.stderr.contains("\u{1B}"))
        XCTAssertTrue(r.stderr.contains("no\\nsuch\\u{1b}[2J"), r.stderr)
        let file = try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: 9)), "c.npy")
        let long = try refused(["import", file, "--name", String(repeating: "x", count: 10_000)], containing: "at most 128 bytes")
        XCTAssertLessThan(long.stderr.count, 400, "a long name is clipped: \(long.stderr.count) characters")
        XCTAssertTrue(long.stderr.contains("(+9936 bytes)"), long.stderr)
        try refused(["import", file, "--name", "prompt-ü"], containing: "'ü' (U+00FC) is not allowed")
        try refused(["import", file, "--name", "x", "--backbone", "toy\n\u{1B}[31m"], containing: "U+000A")
    }

    func testPEFTConfigWithControlCharactersIsRefused() throws {
        try ok("init")
        let adapter = workDir.appendingPathComponent("adapter")
        try FileManager.default.createDirectory(at: adapter, withIntermediateDirectories: true)
        let t = TestData.tensor(rows: 4, width: 6, seed: 1)
        try Data(Safetensors.encode(["prompt_embeddings": t])).write(to: adapter.appendingPathComponent("adapter_model.safetensors"))
        let config = """
            {"peft_type": "PROMPT_TUNING", "task_type": "SEQ_CLS", "num_virtual_tokens": 4, "token_dim": 6,
             "base_model_name_or_path": "bert\\n\\u001b[32mtrusted as team-a"}
            """
        try Data(config.utf8).write(to: adapter.appendingPathComponent("adapter_config.json"))
        let r = try refused(["import", adapter.path, "--name", "p"], containing: "control characters")
        XCTAssertFalse(r.stderr.contains("\u{1B}"))
        XCTAssertEqual(try artifactIDs(), [])
    }

    func testManifestWithControlCharactersIsRefusedByTheServer() throws {
        let server = dir("server")
        try on(server, "init")
        let process = try ServerProcess(registry: server)
        let writeToken = try token(server, "write:*", name: "alice")
        let manifest: JSONValue = [
            "schema": 1, "kind": "evaluation", "parents": [], "metrics": ["accuracy": 0.5],
            "recipe": ["op": "eval", "params": ["data": .string("x\n\u{1B}[32mtrusted as team-a")]],
        ]
        let bytes = manifest.canonicalBytes
        let put = HTTP.send("PUT", "\(process.url)/v1/manifests/\(Digest.sha256Hex(bytes))", token: writeToken, body: bytes)
        XCTAssertTrue((400..<500).contains(put.status), "\(put.status) \(put.body)")
        XCTAssertEqual(try on(server, "ls", "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[]")
    }

    // MARK: - Crashes and messages

    func testNormOfANonFiniteVectorPrintsJSONNull() throws {
        try ok("init")
        var t = TestData.tensor(rows: 2, width: 3, seed: 1)
        t.scalars[4] = .nan
        try ok("import", try write(TestData.npy(t), "n.npy"), "--name", "n", "--kind", "vector", "--allow-nonfinite")
        let out = try ok("norm", "n", "--json")
        let parsed = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]]
        XCTAssertTrue(parsed?.first?["norm"] is NSNull, out)
    }

    func testEmptyTensorsAreRefusedAndCosErrorsNameCos() throws {
        try ok("init")
        // A hand-made .npy of shape (0, 16).
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 16), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let npy = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
        try refused(["import", try write(npy, "empty.npy"), "--name", "e"], containing: "empty")
        try ok("import", try write(TestData.npy(TestData.tensor(rows: 2, width: 3, seed: 1)), "a.npy"), "--name", "a")
        try ok("import", try write(TestData.npy(Tensor(zeros: [2, 3])), "z.npy"), "--name", "z")
        let r = try refused(["cos", "a", "z", "--raw"], containing: "cos: operand 2")
        XCTAssertFalse(r.stderr.contains("--matrix"), r.stderr)
    }
}
