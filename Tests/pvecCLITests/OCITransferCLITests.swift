import Foundation
import PVecTensor
import XCTest

/// What a push does on the wire and in the local audit log: tag moves audited, the tag race,
/// chunked and resumed uploads, cross-repository mounts.
final class OCITransferCLITests: OCITestCase {
    func auditRows(_ reg: URL, _ name: String? = nil) throws -> [[String: Any]] {
        let r = try pvec(["audit", "show", "--json"] + (name.map { [$0] } ?? []) + ["--registry", reg.path], registry: false)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
    }

    /// The digest of the manifest a tag names (hash of the bytes the registry serves).
    func manifestDigest(_ oci: OCIRegistryProcess, repo: String, tag: String) -> String {
        let m = OCIHTTP.get("\(oci.base)/v2/\(repo)/manifests/\(tag)", accept: "application/vnd.oci.image.manifest.v1+json")
        XCTAssertEqual(m.status, 200)
        return "sha256:" + Digest.sha256Hex(m.body)
    }

    // MARK: - Audit

    func testEveryTagMoveOfAPushIsAuditedAndTheChainStillVerifies() throws {
        let a = dir("a")
        try makeTeam(a, prefix: "team-a/")
        let oci = try OCIRegistryProcess(dir: dir("oci"))
        try on(a, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")
        try on(a, "push", "team", "team-a/p0")
        let first = try XCTUnwrap(try names(a)["team-a/p0"])
        let d1 = manifestDigest(oci, repo: "prompts", tag: "team-a..p0")

        // A second version of the name, pushed: the move from d1 to d2 is recorded.
        try on(a, "import", try write(TestData.npy(TestData.tensor(rows: 4, width: 8, seed: 99)), "v2.npy"),
               "--name", "team-a/p0", "--init", "team-a/init")
        let second = try XCTUnwrap(try names(a)["team-a/p0"])
        XCTAssertNotEqual(first, second)
        try on(a, "push", "team", "team-a/p0")
        let d2 = manifestDigest(oci, repo: "prompts", tag: "team-a..p0")
        // An unchanged push moves nothing and records nothing.
        try on(a, "push", "team", "team-a/p0")

        let moves = try auditRows(a).filter { $0["action"] as? String == "remote-tag" }
        XCTAssertEqual(moves.count, 2, "\(moves)")
        let newest = moves[0], oldest = moves[1]
        XCTAssertEqual(oldest["name"] as? String, "team-a/p0")
        XCTAssertTrue(oldest["old"] is NSNull)
        XCTAssertEqual(oldest["new"] as? String, first)
        XCTAssertEqual(oldest["actor"] as? String, "tester")
        let c1 = try XCTUnwrap(oldest["command"] as? String)
        XCTAssertTrue(c1.hasPrefix("pvec push team team-a/p0"), c1)
        XCTAssertTrue(c1.contains("[remote oci://\(oci.host)/prompts tag team-a..p0 (_v1.team-a..p0) - -> \(d1)]"), c1)
        XCTAssertEqual(newest["old"] as? String, first)
        XCTAssertEqual(newest["new"] as? String, second)
        let c2 = try XCTUnwrap(newest["command"] as? String)
        XCTAssertTrue(c2.contains("tag team-a..p0 (_v2.team-a..p0) \(d1) -> \(d2)]"), c2)

        // `pvec audit NAME` shows it beside the name's own moves, and the chain verifies.
        let text = try on(a, "audit", "team-a/p0").stdout
        XCTAssertTrue(text.contains("remote-tag"), text)
        XCTAssertTrue(text.contains("oci://\(oci.host)/prompts"), text)
        let verify = try on(a, "audit", "verify").stdout
        XCTAssertTrue(verify.contains("chain intact"), verify)
    }

    // MARK: - The tag race

    func testAPushWhoseTagIsMovedBetweenItsPutAndItsReadBackReportsAConflict() throws {
        let a = dir("a"), c = dir("c")
        try makeTeam(a, prefix: "team-a/", seed: 1)
        try makeTeam(c, prefix: "other/", seed: 2)
        let oci = try OCIRegistryProcess(dir: dir("oci"))
        try on(c, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")
        try on(c, "push", "team", "other/p0")
        // Someone else's manifest, which the proxy puts under team-a/p0's tag right after
        // pvec's own PUT of it, before pvec reads the tag back.
        let theirs = OCIHTTP.get("\(oci.base)/v2/prompts/manifests/other..p0", accept: "application/vnd.oci.image.manifest.v1+json")
        XCTAssertEqual(theirs.status, 200)
        let body = workDir.appendingPathComponent("theirs.json")
        try Data(theirs.body).write(to: body)
        let proxy = try OCIProxyProcess(upstream: oci, dir: dir("proxy"),
                                        options: ["--race-tag", "team-a..p0", "--race-body", body.path])

        try on(a, "remote", "add", "team", "oci://\(proxy.host)/prompts", "--plain-http")
        let r = try on(a, "push", "team", "team-a/p0", expect: nil)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("'team-a/p0' moved on the server (another push moved it while this one did)"), r.stderr)
        XCTAssertEqual(manifestDigest(oci, repo: "prompts", tag: "team-a..p0"), "sha256:" + Digest.sha256Hex(theirs.body))
        // The move pvec made is in the audit log all the same, and the version tag keeps it.
        let moves = try auditRows(a).filter { $0["action"] as? String == "remote-tag" }
        XCTAssertEqual(moves.count, 1)
        XCTAssertTrue(Set(try tags(oci, repo: "prompts")).contains("_v1.team-a..p0"))
        // The conflict was not recorded as pushed: the next push refuses too, --force wins.
        XCTAssertNotEqual(try on(a, "push", "team", "team-a/p0", expect: nil).status, 0)
        try on(a, "remote", "add", "direct", "oci://\(oci.host)/prompts", "--plain-http")
        try on(a, "push", "direct", "team-a/p0", "--force")
        let ours = try XCTUnwrap(try names(a)["team-a/p0"])
        let b = dir("b")
        try on(b, "init")
        try on(b, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")
        try on(b, "pull", "team", "team-a/p0")
        XCTAssertEqual(try names(b)["team-a/p0"], ours)
    }

    // MARK: - Chunked uploads

    func testBlobsAboveTheThresholdGoInChunksAndACutChunkIsRecovered() throws {
        let a = dir("a"), b = dir("b")
        try on(a, "init")
        // 16 × 64 float32: a 4 KiB tensor, so 1000-byte chunks make five PATCHes.
        let t = TestData.tensor(rows: 16, width: 64, seed: 5)
        try on(a, "import", try write(TestData.npy(t), "p.npy"), "--name", "p", "--backbone", "toy")
        let oci = try OCIRegistryProcess(dir: dir("oci"))
        let proxy = try OCIProxyProcess(upstream: oci, dir: dir("proxy"), options: ["--cut-patch", "2"])
        try on(a, "remote", "add", "team", "oci://\(proxy.host)/prompts", "--plain-http")
        let r = try pvec(["push", "team", "p", "--json", "--registry", a.path], registry: false,
                         env: ["DOCKER_CONFIG": dockerConfig.path, "PVEC_OCI_CHUNK_BYTES": "1000"])
        XCTAssertEqual(r.status, 0, r.stderr)

        let requests = proxy.requests
        let patches = requests.filter { $0.hasPrefix("PATCH ") }
        XCTAssertGreaterThanOrEqual(patches.count, 5, requests.joined(separator: "\n"))
        XCTAssertTrue(patches[0].hasSuffix("content-range=0-999"), patches[0])
        XCTAssertTrue(patches[1].hasSuffix("content-range=1000-1999"), patches[1])
        // The second chunk was cut after 500 bytes: pvec asked the session how much it holds.
        // distribution 2.8 keeps the offset in the session URL's signed `_state`, and cancels a
        // session whose state disagrees with what it holds (404), so pvec started it over.
        // (Other blobs go up in parallel, so their requests may sit in between.)
        let cut = try XCTUnwrap(requests.firstIndex(of: patches[1]))
        let rest = requests[(cut + 1)...]
        let asked = try XCTUnwrap(rest.firstIndex { $0.hasPrefix("GET /v2/prompts/blobs/uploads/") }, requests.joined(separator: "\n"))
        let next = try XCTUnwrap(rest.firstIndex { $0.hasPrefix("PATCH ") })
        XCTAssertLessThan(asked, next, "the session was asked before the next chunk")
        XCTAssertTrue(requests[asked..<next].contains { $0.hasPrefix("POST /v2/prompts/blobs/uploads/") }, "a new session")
        XCTAssertTrue(requests[next].hasSuffix("content-range=0-999"), requests[next])
        XCTAssertEqual(patches.count, 2 + 5, "two chunks before the cut, five after it")
        XCTAssertTrue(requests.contains { $0.hasPrefix("PUT /v2/prompts/blobs/uploads/") && $0.contains("digest=sha256") })

        // What arrived is the tensor, byte for byte, through pvec and through a plain GET.
        try on(b, "init")
        try on(b, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")
        try on(b, "pull", "team", "p")
        XCTAssertEqual(try names(b)["p"], try names(a)["p"])
        try on(b, "verify")
        let m = OCIHTTP.get("\(oci.base)/v2/prompts/manifests/p", accept: "application/vnd.oci.image.manifest.v1+json")
        let layer = ((try JSONSerialization.jsonObject(with: Data(m.body)) as! [String: Any])["layers"] as! [[String: Any]])[0]
        let blob = OCIHTTP.get("\(oci.base)/v2/prompts/blobs/\(layer["digest"] as! String)")
        XCTAssertEqual(try SafetensorsFile(bytes: blob.body).tensor(key: nil).scalars, t.scalars)
    }

    func testSmallBlobsStayMonolithic() throws {
        let a = dir("a")
        try makeTeam(a, prefix: "team-a/")
        let oci = try OCIRegistryProcess(dir: dir("oci"))
        let proxy = try OCIProxyProcess(upstream: oci, dir: dir("proxy"))
        try on(a, "remote", "add", "team", "oci://\(proxy.host)/prompts", "--plain-http")
        try on(a, "push", "team", "team-a/p0")
        XCTAssertFalse(proxy.requests.contains { $0.hasPrefix("PATCH ") }, "below 8 MiB a blob goes in one PUT")
        XCTAssertTrue(proxy.requests.contains { $0.hasPrefix("PUT /v2/prompts/blobs/uploads/") })
    }

    // MARK: - Cross-repository mount

    func testBlobsAnotherRemoteOfTheSameRegistryHoldsAreMountedNotUploaded() throws {
        let a = dir("a"), b = dir("b")
        try makeTeam(a, prefix: "team-a/", count: 2)
        let oci = try OCIRegistryProcess(dir: dir("oci"))
        try on(a, "remote", "add", "one", "oci://\(oci.host)/team/one", "--plain-http")
        let first = try pushJSON(a, "one", "team-a/p0", "team-a/p1")
        XCTAssertEqual(first["blobs"] as? Int, 3)
        XCTAssertEqual(first["mounted"] as? Int, 0)

        try on(a, "remote", "add", "two", "oci://\(oci.host)/team/two", "--plain-http")
        let second = try pushJSON(a, "two", "team-a/p0", "team-a/p1")
        XCTAssertEqual(second["mounted"] as? Int, 3, "\(second)")
        XCTAssertEqual(second["blobs"] as? Int, 0, "no tensor was uploaded")
        // Only the manifests moved: at least the three 4×8 float32 tensors' data did not.
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(first["bytes"] as? Int) - (try XCTUnwrap(second["bytes"] as? Int)), 3 * 4 * 8 * 4)
        let text = try on(a, "push", "two", "team-a/p0").stdout
        XCTAssertFalse(text.contains("mounted"), "nothing is left to mount: \(text)")

        // A third repository on another host (here: a proxy's address) is not a mount source.
        let proxy = try OCIProxyProcess(upstream: oci, dir: dir("proxy"))
        try on(a, "remote", "add", "three", "oci://\(proxy.host)/team/three", "--plain-http")
        let third = try pushJSON(a, "three", "team-a/p0")
        XCTAssertEqual(third["mounted"] as? Int, 0)
        XCTAssertEqual(third["blobs"] as? Int, 2)
        XCTAssertFalse(proxy.requests.contains { $0.contains("mount=") })

        try on(b, "init")
        try on(b, "remote", "add", "two", "oci://\(oci.host)/team/two", "--plain-http")
        try on(b, "pull", "two")
        XCTAssertEqual(try ids(b), try ids(a))
        try on(b, "verify")
    }
}
