import Foundation
import PVecTensor
import XCTest

/// Push, pull and clone against a real OCI registry (Debian's docker-registry, distribution 2.8).
final class OCIRegistryCLITests: OCITestCase {
    // MARK: - Round trip

    func testOCIRoundTripKeepsIdsLineageAndSignaturesAndASecondPushMovesNothing() throws {
        let a = dir("a"), b = dir("b")
        try makeTeam(a, prefix: "team-a/", count: 2)
        let pub = try pvec(["key", "generate", "--name", "alice"], registry: false, env: ["PVEC_KEYS": keys]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try on(a, "sign", "team-a/p0", "--key", "alice")
        let oci = try OCIRegistryProcess(dir: dir("oci"))
        let url = "oci://\(oci.host)/team/prompts"
        try on(a, "remote", "add", "team", url, "--plain-http")
        let first = try pushJSON(a, "team", "team-a/p0", "team-a/p1")
        XCTAssertEqual(first["blobs"] as? Int, 3)
        XCTAssertEqual(first["manifests"] as? Int, 3)
        let again = try pushJSON(a, "team", "team-a/p0", "team-a/p1")
        XCTAssertEqual(again["blobs"] as? Int, 0, "a second push moves nothing")
        XCTAssertEqual(again["manifests"] as? Int, 0, "a second push moves nothing")
        XCTAssertEqual(again["bytes"] as? Int, 0)
        XCTAssertEqual((again["names"] as? [[String: Any]])?.compactMap { $0["changed"] as? Bool }, [false, false])
        let t = Set(try tags(oci, repo: "team/prompts"))
        XCTAssertTrue(t.isSuperset(of: ["team-a..p0", "team-a..p1", "_v1.team-a..p0", "_v1.team-a..p1"]), "\(t)")

        try on(b, "init")
        try on(b, "remote", "add", "team", url, "--plain-http")
        try on(b, "pull", "team", "team-a/p0")
        XCTAssertEqual(try names(b)["team-a/p0"], try names(a)["team-a/p0"])
        XCTAssertEqual(try ids(b), [try names(a)["team-a/p0"]!, try names(a)["team-a/init"]!], "the lineage came along")
        XCTAssertTrue(try on(b, "show", "team-a/p0").stdout.contains("untrusted key"))
        try on(b, "trust", "add", pub, "--as", "team-a")
        XCTAssertTrue(try on(b, "show", "team-a/p0").stdout.contains("trusted as team-a"))
        try on(b, "verify")
        try on(b, "audit", "verify")

        let c = dir("c")
        let r = try pvec(["clone", url, c.path, "--plain-http"], registry: false)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try names(c)["team-a/p0"], try names(a)["team-a/p0"])
        XCTAssertEqual(try names(c)["team-a/p1"], try names(a)["team-a/p1"])
        XCTAssertEqual(try ids(c), try ids(a))
    }

    // MARK: - Any OCI client reads the layer

    func testOCILayerIsPlainSafetensorsForAnyHTTPClient() throws {
        let a = dir("a")
        try makeTeam(a, prefix: "team-a/")
        let oci = try OCIRegistryProcess(dir: dir("oci"))
        try on(a, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")
        try on(a, "push", "team", "team-a/p0")
        let m = OCIHTTP.get("\(oci.base)/v2/prompts/manifests/team-a..p0", accept: "application/vnd.oci.image.manifest.v1+json")
        XCTAssertEqual(m.status, 200)
        let manifest = try JSONSerialization.jsonObject(with: Data(m.body)) as! [String: Any]
        XCTAssertEqual(manifest["artifactType"] as? String, "application/vnd.pvec.artifact.v1+json")
        XCTAssertEqual((manifest["config"] as? [String: Any])?["digest"] as? String, "sha256:" + (try names(a)["team-a/p0"]!))
        let layer = (manifest["layers"] as! [[String: Any]])[0]
        XCTAssertEqual(layer["mediaType"] as? String, "application/vnd.pvec.tensor.v1+safetensors")
        let digest = layer["digest"] as! String
        let blob = OCIHTTP.get("\(oci.base)/v2/prompts/blobs/\(digest)")
        XCTAssertEqual(blob.status, 200)
        XCTAssertEqual("sha256:" + Digest.sha256Hex(blob.body), digest)
        let file = try SafetensorsFile(bytes: blob.body)
        let tensor = try file.tensor(key: nil)
        let expected = TestData.tensor(rows: 4, width: 8, seed: 1001)
        XCTAssertEqual(tensor.shape, expected.shape)
        XCTAssertEqual(tensor.scalars, expected.scalars)
    }

    // MARK: - Hostile registry

    func testOCITamperedBlobInRegistryStorageFailsThePullWithNothingStored() throws {
        let a = dir("a"), b = dir("b")
        try makeTeam(a, prefix: "team-a/")
        let oci = try OCIRegistryProcess(dir: dir("oci"))
        try on(a, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")
        try on(a, "push", "team", "team-a/p0")
        let m = OCIHTTP.get("\(oci.base)/v2/prompts/manifests/team-a..p0", accept: "application/vnd.oci.image.manifest.v1+json")
        let manifest = try JSONSerialization.jsonObject(with: Data(m.body)) as! [String: Any]
        let digest = (manifest["layers"] as! [[String: Any]])[0]["digest"] as! String
        let file = oci.blobFile(digest)
        var bytes = [UInt8](try Data(contentsOf: file))
        bytes[bytes.count - 3] ^= 0x20
        try Data(bytes).write(to: file)

        try on(b, "init")
        try on(b, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")
        let r = try on(b, "pull", "team", "team-a/p0", expect: nil)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("sha256"), r.stderr)
        XCTAssertEqual(try ids(b), [], "nothing was stored")
        XCTAssertEqual(try names(b), [:])
        let objects = FileManager.default.enumerator(at: b.appendingPathComponent("objects"), includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { !$0.hasDirectoryPath } ?? []
        XCTAssertEqual(objects, [], "no blob file was written")
    }

    // MARK: - Names

    func testOCINameMoveOverSomeoneElsesUpdateIsRefusedUnlessForced() throws {
        let a = dir("a"), c = dir("c")
        try makeTeam(a, prefix: "team-a/", seed: 1)
        try makeTeam(c, prefix: "team-a/", seed: 2)
        let oci = try OCIRegistryProcess(dir: dir("oci"))
        let url = "oci://\(oci.host)/prompts"
        try on(a, "remote", "add", "team", url, "--plain-http")
        try on(c, "remote", "add", "team", url, "--plain-http")
        try on(a, "push", "team", "team-a/p0")
        let r = try on(c, "push", "team", "team-a/p0", expect: nil)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("moved on the server"), r.stderr)
        try on(c, "push", "team", "team-a/p0", "--force")
        let t = Set(try tags(oci, repo: "prompts"))
        XCTAssertTrue(t.isSuperset(of: ["_v1.team-a..p0", "_v2.team-a..p0"]), "each version keeps its tag: \(t)")
        // Alice's registry last saw her own version there: her next push is refused too.
        XCTAssertNotEqual(try on(a, "push", "team", "team-a/p0", expect: nil).status, 0)
        // A pull records the move in the local audit log.
        try on(a, "pull", "team", "team-a/p0", "--force")
        XCTAssertEqual(try names(a)["team-a/p0"], try names(c)["team-a/p0"])
        XCTAssertTrue(try on(a, "audit", "team-a/p0").stdout.contains("pull"))
    }

    // MARK: - Auth

    func testOCIBasicAuthFromDockerConfigAndAWrongPasswordIsOneLine() throws {
        guard let line = OCIRegistryProcess.htpasswdLine(user: "alice", password: "s3cret") else {
            throw XCTSkip("python3's crypt module is not available to make a bcrypt htpasswd line")
        }
        let a = dir("a"), b = dir("b")
        try makeTeam(a, prefix: "team-a/")
        let oci = try OCIRegistryProcess(dir: dir("oci"), htpasswd: line)
        try FileManager.default.createDirectory(at: dockerConfig, withIntermediateDirectories: true)
        func login(_ password: String) throws {
            let auth = Data("alice:\(password)".utf8).base64EncodedString()
            try Data("{\"auths\": {\"\(oci.host)\": {\"auth\": \"\(auth)\"}}}".utf8).write(to: dockerConfig.appendingPathComponent("config.json"))
        }
        try on(a, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")
        try login("wrong")
        let r = try on(a, "push", "team", "team-a/p0", expect: nil)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("wrong username or password"), r.stderr)
        try login("s3cret")
        try on(a, "push", "team", "team-a/p0")
        try on(b, "init")
        try on(b, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")
        try on(b, "pull", "team")
        XCTAssertEqual(try names(b)["team-a/p0"], try names(a)["team-a/p0"])
    }
}
