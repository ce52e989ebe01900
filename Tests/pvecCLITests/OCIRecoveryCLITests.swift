import Foundation
import PVecTensor
import XCTest

/// A registry killed mid-push, then restarted, lets the retry complete (issue 10).
final class OCIRecoveryCLITests: OCITestCase {
    /// The blob files the registry's filesystem storage holds now.
    func storedBlobs(_ oci: OCIRegistryProcess) -> Int {
        let root = oci.storage.appendingPathComponent("docker/registry/v2/blobs/sha256")
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        return files.filter { $0.lastPathComponent == "data" }.count
    }

    func testRegistryKilledMidPushThenRestartedLetsTheRetryComplete() throws {
        let a = dir("a")
        // 64 prompts of 100 × 768 (19 MB): enough that the kill lands mid-push. (200 took 5.5
        // minutes with the debug build, mostly the clone's per-byte checks and re-encoding.)
        let count = 64
        try on(a, "init")
        for i in 0..<count {
            let f = try write(TestData.npy(TestData.tensor(rows: 100, width: 768, seed: 7000 + UInt64(i))), "p\(i).npy")
            try on(a, "import", f, "--name", "team/p\(i)", "--backbone", "toy")
        }
        let before = try ids(a)
        XCTAssertEqual(before.count, count)
        let oci = try OCIRegistryProcess(dir: dir("oci"))
        let url = "oci://\(oci.host)/team/prompts"
        try on(a, "remote", "add", "team", url, "--plain-http")
        let remotesBefore = try Data(contentsOf: a.appendingPathComponent("remotes.json"))

        // The push runs in the background; the registry is killed once it stored some blobs.
        let push = Process()
        push.executableURL = Self.binary
        push.arguments = ["push", "team"] + (0..<count).map { "team/p\($0)" } + ["--registry", a.path]
        var env = ProcessInfo.processInfo.environment
        env["DOCKER_CONFIG"] = dockerConfig.path
        push.environment = env
        let err = Pipe()
        push.standardError = err
        push.standardOutput = FileHandle.nullDevice
        try push.run()
        while push.isRunning, storedBlobs(oci) < 10 { usleep(2_000) }
        let killedWhileRunning = push.isRunning
        oci.crash()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        push.waitUntilExit()
        guard killedWhileRunning else {
            throw XCTSkip("the push finished before the registry could be killed (\(storedBlobs(oci)) blobs)")
        }
        let sent = storedBlobs(oci)
        XCTAssertLessThan(sent, count, "the registry died before it held every blob")

        // A clear one-line failure, no crash, and nothing wrong here.
        XCTAssertEqual(push.terminationStatus, 1, stderr)
        XCTAssertEqual(push.terminationReason, .exit, "pvec exited, it did not crash")
        XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
        XCTAssertTrue(stderr.contains("no answer"), stderr)
        XCTAssertTrue(stderr.contains("is the registry running there?"), stderr)
        XCTAssertEqual(try ids(a), before)
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent("remotes.json")), remotesBefore,
                       "no name was recorded as pushed")
        try on(a, "verify")
        try on(a, "audit", "verify")

        // Same storage, same port: the retry sends what is missing and moves every name.
        try oci.restart()
        let retry = try pvec(["push", "team"] + (0..<count).map { "team/p\($0)" } + ["--json", "--registry", a.path],
                             registry: false, env: ["DOCKER_CONFIG": dockerConfig.path])
        XCTAssertEqual(retry.status, 0, retry.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(retry.stdout.utf8)) as! [String: Any]
        let blobs = try XCTUnwrap(report["blobs"] as? Int)
        XCTAssertLessThan(blobs, count, "blobs stored before the kill are not sent again")
        XCTAssertGreaterThanOrEqual(blobs, count - sent, "every blob still missing was sent")
        XCTAssertEqual((report["names"] as? [[String: Any]])?.filter { $0["changed"] as? Bool == true }.count, count)
        XCTAssertEqual(storedBlobs(oci), 3 * count, "each artifact is three blobs there: tensor, pvec manifest, OCI manifest")

        let c = dir("c")
        let clone = try pvec(["clone", url, c.path, "--plain-http"], registry: false, env: ["DOCKER_CONFIG": dockerConfig.path])
        XCTAssertEqual(clone.status, 0, clone.stderr)
        XCTAssertEqual(try ids(c), before)
        XCTAssertEqual(try names(c), try names(a))
        try on(c, "verify")
    }
}

extension OCIRecoveryCLITests {
    /// What a SIGKILL can leave behind (distribution writes repository links in place): an
    /// empty blob link, to which the registry answers 500. The next push uploads the blob
    /// again, which rewrites the link.
    func testAnEmptyBlobLinkLeftByAKilledRegistryIsRepairedByTheNextPush() throws {
        let a = dir("a"), b = dir("b")
        try makeTeam(a, prefix: "team-a/", count: 2)
        let oci = try OCIRegistryProcess(dir: dir("oci"))
        try on(a, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")
        try on(a, "push", "team", "team-a/p0")
        let m = OCIHTTP.get("\(oci.base)/v2/prompts/manifests/team-a..init", accept: "application/vnd.oci.image.manifest.v1+json")
        XCTAssertEqual(m.status, 404, "only p0 was pushed by name")
        // The init's tensor: the layer of p0's parent, found through p0's manifest annotations.
        let p0 = OCIHTTP.get("\(oci.base)/v2/prompts/manifests/team-a..p0", accept: "application/vnd.oci.image.manifest.v1+json")
        let parent = try XCTUnwrap(((try JSONSerialization.jsonObject(with: Data(p0.body)) as! [String: Any])["annotations"]
            as? [String: String])?["dev.pvec.parents"])
        let pm = OCIHTTP.get("\(oci.base)/v2/prompts/manifests/\(parent)", accept: "application/vnd.oci.image.manifest.v1+json")
        let layer = ((try JSONSerialization.jsonObject(with: Data(pm.body)) as! [String: Any])["layers"] as! [[String: Any]])[0]
        let digest = layer["digest"] as! String
        let link = oci.storage.appendingPathComponent(
            "docker/registry/v2/repositories/prompts/_layers/sha256/\(digest.dropFirst(7))/link")
        try Data().write(to: link)
        XCTAssertEqual(OCIHTTP.get("\(oci.base)/v2/prompts/blobs/\(digest)").status, 500, "the registry cannot read the link")

        // p1 shares the init: its push sends the init's blob again and the link is whole.
        let r = try pushJSON(a, "team", "team-a/p1")
        XCTAssertEqual(r["blobs"] as? Int, 2, "p1's tensor and the init's again")
        XCTAssertEqual(OCIHTTP.get("\(oci.base)/v2/prompts/blobs/\(digest)").status, 200)
        try on(b, "init")
        try on(b, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")
        try on(b, "pull", "team")
        XCTAssertEqual(try ids(b), try ids(a))
        try on(b, "verify")
    }
}
