import Foundation
import PVecStore
import PVecTensor
import XCTest

/// Two registries exchanging prompts through `pvec serve`, and every fault the server must survive.
final class RemoteCLITests: CLITestCase {
    var serverDir: URL { workDir.appendingPathComponent("server") }

    /// A registry holding an init and `count` prompts tuned from it, named `<prefix>p<i>`.
    func makeTeam(_ reg: URL, prefix: String, count: Int = 1, rows: Int = 4, width: Int = 8, seed: UInt64 = 1) throws {
        try on(reg, "init")
        let initFile = try write(TestData.npy(TestData.tensor(rows: rows, width: width, seed: seed)), "init-\(seed).npy")
        try on(reg, "import", initFile, "--name", "\(prefix)init", "--kind", "init", "--backbone", "toy")
        for i in 0..<count {
            let f = try write(TestData.npy(TestData.tensor(rows: rows, width: width, seed: seed * 1000 + UInt64(i) + 1)), "p-\(seed)-\(i).npy")
            try on(reg, "import", f, "--name", "\(prefix)p\(i)", "--init", "\(prefix)init")
        }
    }

    func token(_ scope: String, name: String) throws -> String {
        let t = try on(serverDir, "token", "create", "--scope", scope, "--name", name).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return try write(Array((t + "\n").utf8), "\(name).token")
    }

    func names(_ reg: URL) throws -> [String: String] {
        let list = try JSONSerialization.jsonObject(with: Data(try on(reg, "ls", "--json").stdout.utf8)) as! [[String: Any]]
        var out: [String: String] = [:]
        for a in list { for n in a["names"] as? [String] ?? [] { out[n] = a["id"] as? String } }
        return out
    }

    func ids(_ reg: URL) throws -> Set<String> {
        let list = try JSONSerialization.jsonObject(with: Data(try on(reg, "ls", "--json").stdout.utf8)) as! [[String: Any]]
        return Set(list.map { $0["id"] as! String })
    }

    func auditCount(_ reg: URL) throws -> Int {
        (try JSONSerialization.jsonObject(with: Data(try on(reg, "audit", "--json").stdout.utf8)) as! [Any]).count
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try on(serverDir, "init")
    }

    // MARK: - Round trip

    func testSignedPromptsTravelThroughTheServerKeepingIds() throws {
        let a = dir("a"), b = dir("b")
        try makeTeam(a, prefix: "team-a/", count: 2)
        let pub = try pvec(["key", "generate", "--name", "alice"], registry: false, env: ["PVEC_KEYS": keys]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let mode = try FileManager.default.attributesOfItem(atPath: keys + "/alice.key")[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        try on(a, "sign", "team-a/p0", "--key", "alice")
        let server = try ServerProcess(registry: serverDir)
        let write = try token("write:team-a/", name: "alice")
        let read = try token("read", name: "bob")
        try on(a, "remote", "add", "hub", server.url, "--token-file", write)
        let first = try JSONSerialization.jsonObject(with: Data(try on(a, "push", "hub", "team-a/p0", "team-a/p1", "--json").stdout.utf8)) as! [String: Any]
        XCTAssertEqual(first["blobs"] as? Int, 3)
        let again = try JSONSerialization.jsonObject(with: Data(try on(a, "push", "hub", "team-a/p0", "team-a/p1", "--json").stdout.utf8)) as! [String: Any]
        XCTAssertEqual(again["bytes"] as? Int, 0, "a second push moves nothing")

        try on(b, "init")
        try on(b, "remote", "add", "hub", server.url, "--token-file", read)
        try on(b, "pull", "hub", "team-a/p0")
        XCTAssertEqual(try names(b)["team-a/p0"], try names(a)["team-a/p0"])
        XCTAssertTrue(try ids(b).isSubset(of: try ids(a)))
        // Bob's registry shows the signature, untrusted until he trusts alice's key.
        XCTAssertTrue(try on(b, "show", "team-a/p0").stdout.contains("untrusted key"))
        try on(b, "trust", "add", pub, "--as", "team-a")
        XCTAssertTrue(try on(b, "show", "team-a/p0").stdout.contains("trusted as team-a"))
        try on(b, "verify")
        // The server's audit log names the token of the push.
        let audit = try on(serverDir, "audit", "team-a/p0").stdout
        XCTAssertTrue(audit.contains("token:alice"), audit)
        try on(serverDir, "audit", "verify")
        // Clone takes everything.
        let c = dir("c")
        let r = try pvec(["clone", server.url, c.path, "--token-file", read], registry: false)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try names(c), try names(serverDir))
    }

    // MARK: - Faults

    func testTamperedUploadsBadJSONAndUnknownIdsGet4xxAndServerKeepsServing() throws {
        let a = dir("a")
        try makeTeam(a, prefix: "team-a/")
        let server = try ServerProcess(registry: serverDir)
        let tokenText = try String(contentsOfFile: try token("write:team-a/", name: "alice"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let reg = try Registry.open(at: a)
        let id = try reg.resolve("team-a/p0")
        let blob = try reg.manifest(id).blob!
        var blobBytes = try reg.encodedBlob(blob)
        blobBytes[blobBytes.count - 2] ^= 0x40
        var status = HTTP.send("PUT", "\(server.url)/v1/blobs/\(blob.hex)", token: tokenText, body: blobBytes)
        XCTAssertEqual(status.status, 422, status.body)
        var manifestBytes = try reg.manifestBytes(id)
        manifestBytes[manifestBytes.count - 3] ^= 0x01
        status = HTTP.send("PUT", "\(server.url)/v1/manifests/\(id.hex)", token: tokenText, body: manifestBytes)
        XCTAssertEqual(status.status, 422, status.body)
        status = HTTP.send("POST", "\(server.url)/v1/missing", token: tokenText, body: Array("{not json".utf8))
        XCTAssertEqual(status.status, 400, status.body)
        status = HTTP.send("GET", "\(server.url)/v1/manifests/\(String(repeating: "ab", count: 32))", token: tokenText)
        XCTAssertEqual(status.status, 404, status.body)
        status = HTTP.send("GET", "\(server.url)/v1/blobs/nothex", token: tokenText)
        XCTAssertEqual(status.status, 400, status.body)
        status = HTTP.send("PUT", "\(server.url)/v1/blobs/\(blob.hex)", token: tokenText, body: [UInt8](repeating: 7, count: 70 << 20))
        XCTAssertEqual(status.status, 413, status.body)
        XCTAssertEqual(try ids(serverDir), [], "nothing was stored")
        XCTAssertEqual(HTTP.send("GET", "\(server.url)/v1/health", token: nil).status, 200, "the server keeps serving")
        // A good push still works afterwards.
        try on(a, "remote", "add", "hub", server.url, "--token-file", try token("write:team-a/", name: "alice2"))
        try on(a, "push", "hub", "team-a/p0")
    }

    func testObjectTamperedOnTheServerIsRefusedByPull() throws {
        let a = dir("a"), b = dir("b")
        try makeTeam(a, prefix: "team-a/")
        let server = try ServerProcess(registry: serverDir)
        try on(a, "remote", "add", "hub", server.url, "--token-file", try token("write:team-a/", name: "alice"))
        try on(a, "push", "hub", "team-a/p0")
        // Someone flips a byte in a blob file on the server's disk.
        let objects = serverDir.appendingPathComponent("objects")
        let file = try FileManager.default.subpathsOfDirectory(atPath: objects.path).filter { $0.count == 65 }.sorted()[0]
        let url = objects.appendingPathComponent(file)
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes[bytes.count / 2] ^= 0x01
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
        try Data(bytes).write(to: url)
        try on(b, "init")
        try on(b, "remote", "add", "hub", server.url, "--token-file", try token("read", name: "bob"))
        let r = try on(b, "pull", "hub", "team-a/p0", expect: nil)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("refused, nothing was stored"), r.stderr)
        XCTAssertEqual(try names(b), [:])
        XCTAssertEqual(try ids(b), [])
    }

    func testWrongTokenAndOtherNamespaceChangeNothing() throws {
        let a = dir("a")
        try makeTeam(a, prefix: "team-a/")
        let server = try ServerProcess(registry: serverDir)
        let bad = try write(Array("pvec_0123456789abcdef_\(String(repeating: "0", count: 64))\n".utf8), "bad.token")
        let other = try token("write:team-b/", name: "bteam")
        let before = try auditCount(serverDir)
        try on(a, "remote", "add", "bad", server.url, "--token-file", bad)
        try on(a, "remote", "add", "other", server.url, "--token-file", other)
        let r1 = try on(a, "push", "bad", "team-a/p0", expect: nil)
        XCTAssertNotEqual(r1.status, 0)
        XCTAssertTrue(r1.stderr.contains("401"), r1.stderr)
        let r2 = try on(a, "push", "other", "team-a/p0", expect: nil)
        XCTAssertNotEqual(r2.status, 0)
        XCTAssertTrue(r2.stderr.contains("403"), r2.stderr)
        XCTAssertEqual(r2.stderr.split(separator: "\n").count, 1)
        XCTAssertEqual(try ids(serverDir), [])
        XCTAssertEqual(try auditCount(serverDir), before)
        XCTAssertEqual(HTTP.send("GET", "\(server.url)/v1/names", token: nil).status, 401)
    }

    func testRacingPushesOneWinsOtherGetsConflictNoObjectLost() throws {
        let a = dir("a"), c = dir("c")
        try makeTeam(a, prefix: "team-a/", seed: 1)
        try makeTeam(c, prefix: "team-a/", seed: 2)
        let server = try ServerProcess(registry: serverDir)
        try on(a, "remote", "add", "hub", server.url, "--token-file", try token("write:team-a/", name: "one"))
        try on(c, "remote", "add", "hub", server.url, "--token-file", try token("write:team-a/", name: "two"))
        // Both start from nothing on the server and push the same name at once.
        let results = [a, c].map { reg -> Process in
            let p = Process()
            p.executableURL = Self.binary
            p.arguments = ["push", "hub", "team-a/p0", "--registry", reg.path]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            return p
        }
        for p in results { try p.run() }
        for p in results { p.waitUntilExit() }
        let statuses = results.map(\.terminationStatus)
        XCTAssertEqual(statuses.filter { $0 == 0 }.count, 1, "exactly one push wins: \(statuses)")
        let winner = statuses[0] == 0 ? a : c, loser = statuses[0] == 0 ? c : a
        XCTAssertEqual(try names(serverDir)["team-a/p0"], try names(winner)["team-a/p0"])
        // The loser is told, and its objects are on the server all the same (pinned, not lost).
        let again = try on(loser, "push", "hub", "team-a/p0", expect: nil)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("moved on the server"), again.stderr)
        let loserID = try names(loser)["team-a/p0"]!
        XCTAssertTrue(FileManager.default.fileExists(atPath: serverDir.appendingPathComponent("manifests/\(loserID.prefix(2))/\(loserID.dropFirst(2))").path))
        try on(serverDir, "verify")
    }

    func testKilledPushLeavesServerConsistentAndRetryCompletes() throws {
        let a = dir("a")
        try makeTeam(a, prefix: "team-a/", count: 60, rows: 100, width: 384)
        let server = try ServerProcess(registry: serverDir)
        try on(a, "remote", "add", "hub", server.url, "--token-file", try token("write:team-a/", name: "alice"))
        let all60 = (0..<60).map { "team-a/p\($0)" }
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = ["push", "hub"] + all60 + ["--registry", a.path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Kill it once some, not all, blobs have arrived (bounded wait).
        let objects = serverDir.appendingPathComponent("objects")
        let deadline = Date().addingTimeInterval(60)
        func blobCount() -> Int {
            ((try? FileManager.default.subpathsOfDirectory(atPath: objects.path)) ?? []).filter { $0.count == 65 && !$0.contains("tmp_") }.count
        }
        while p.isRunning, blobCount() < 5, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let interrupted = p.isRunning
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        if interrupted {
            XCTAssertTrue(try names(serverDir).isEmpty, "no name moves before all objects are there")
        }
        try on(serverDir, "verify")
        let all = try JSONSerialization.jsonObject(with: Data(try pvec(["push", "hub"] + all60 + ["--json", "--registry", a.path],
                                                                       registry: false).stdout.utf8)) as! [String: Any]
        if interrupted { XCTAssertLessThan(all["blobs"] as? Int ?? 99, 61, "the retry sends only what is missing") }
        XCTAssertEqual(try names(serverDir).count, 60)
        try on(serverDir, "verify")
    }

    func testServerRestartedMidPullLosesNothing() throws {
        let a = dir("a"), b = dir("b")
        try makeTeam(a, prefix: "team-a/", count: 60, rows: 100, width: 384)
        var server = try ServerProcess(registry: serverDir)
        let port = server.port
        try on(a, "remote", "add", "hub", server.url, "--token-file", try token("write:team-a/", name: "alice"))
        try on(a, "push", "hub", "team-a/p0", "team-a/p1", "team-a/p2", "team-a/p3", "team-a/p4", "team-a/p5", "team-a/p6",
               "team-a/p7", "team-a/p8", "team-a/p9", "team-a/p10", "team-a/p11", "team-a/p12", "team-a/p13", "team-a/p14",
               "team-a/p15", "team-a/p16", "team-a/p17", "team-a/p18", "team-a/p19")
        try on(b, "init")
        try on(b, "remote", "add", "hub", server.url, "--token-file", try token("read", name: "bob"))
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = ["pull", "hub", "--registry", b.path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let objects = b.appendingPathComponent("objects")
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning, (((try? FileManager.default.subpathsOfDirectory(atPath: objects.path)) ?? []).filter { $0.count == 65 }.count) < 3,
              Date() < deadline {
            Thread.sleep(forTimeInterval: 0.005)
        }
        server.kill()
        server = try ServerProcess(registry: serverDir, port: port)
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            // The client's retries ran out: pulling again finishes the job.
            try on(b, "pull", "hub")
        }
        XCTAssertEqual(try names(b), try names(serverDir))
        try on(b, "verify")
        try on(serverDir, "verify")
    }

    func testGCOnServerKeepsNamesHistoryAndInFlightPush() throws {
        let a = dir("a")
        try makeTeam(a, prefix: "team-a/", count: 3)
        let server = try ServerProcess(registry: serverDir)
        let tokenFile = try token("write:team-a/", name: "alice")
        try on(a, "remote", "add", "hub", server.url, "--token-file", tokenFile)
        try on(a, "push", "hub", "team-a/p0")
        // Move the name to p1's content (version 1 stays in its history), and push that.
        try on(a, "import", workDir.appendingPathComponent("p-1-1.npy").path, "--name", "team-a/p0", "--init", "team-a/init")
        try on(a, "push", "hub", "team-a/p0")
        XCTAssertEqual(try names(serverDir)["team-a/p0"], try names(a)["team-a/p1"])
        // An in-flight push: p2's objects uploaded, no name yet.
        let reg = try Registry.open(at: a)
        let p2 = try reg.resolve("team-a/p2")
        let tokenText = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let blob = try reg.manifest(p2).blob!
        XCTAssertEqual(HTTP.send("PUT", "\(server.url)/v1/blobs/\(blob.hex)", token: tokenText, body: try reg.encodedBlob(blob)).status, 201)
        XCTAssertEqual(HTTP.send("PUT", "\(server.url)/v1/manifests/\(p2.hex)", token: tokenText,
                                 body: try reg.manifestBytes(p2)).status, 201)
        let before = try ids(serverDir)
        XCTAssertTrue(before.contains(p2.hex))
        try on(serverDir, "gc")
        XCTAssertEqual(try ids(serverDir), before, "gc removed something a name, history or in-flight push holds")
        try on(serverDir, "verify")
    }
}
