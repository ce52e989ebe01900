import Foundation
import PVecStore
import PVecTensor
import XCTest

/// Every refusal: one clear line on stderr, non-zero exit, nothing stored.
final class FaultCLITests: CLITestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try makeToyRegistry(prompts: ["a"])
    }

    /// Runs a command that must be refused and checks the registry did not change.
    func refusedWithoutChange(_ args: [String], containing message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try artifactIDs()
        let log = try pvec(["log", "--json"]).stdout
        try refused(args, containing: message, file: file, line: line)
        XCTAssertEqual(try artifactIDs(), before, "a refused command stored something", file: file, line: line)
        XCTAssertEqual(try pvec(["log", "--json"]).stdout, log, "a refused command changed names", file: file, line: line)
    }

    func testTruncatedSafetensorsIsRefused() throws {
        let bytes = TestData.safetensors(TestData.tensor(rows: 4, width: 6, seed: 9))
        let path = try write(Array(bytes.dropLast(10)), "trunc.safetensors")
        try refusedWithoutChange(["import", path, "--name", "t"], containing: "truncated")
        let headerOnly = try write(Array(bytes.prefix(5)), "short.safetensors")
        try refusedWithoutChange(["import", headerOnly, "--name", "t"], containing: "truncated")
    }

    func testOversizedHeaderIsRefused() throws {
        var bytes = TestData.safetensors(TestData.tensor(rows: 4, width: 6, seed: 9))
        for i in 0..<8 { bytes[i] = i == 5 ? 1 : 0 }  // header length 2^40
        try refusedWithoutChange(["import", try write(bytes, "big.safetensors"), "--name", "t"], containing: "exceeds")
    }

    func testNaNIsRefusedUnlessAllowed() throws {
        var t = TestData.tensor(rows: 4, width: 6, seed: 5)
        t.scalars[7] = .nan
        let path = try write(TestData.npy(t), "nan.npy")
        try refusedWithoutChange(["import", path, "--name", "bad"], containing: "NaN")
        try ok("import", path, "--name", "bad", "--allow-nonfinite")
    }

    func testShapeMismatchIsRefused() throws {
        try ok("import", try write(TestData.npy(TestData.tensor(rows: 5, width: 6, seed: 3)), "w.npy"),
               "--name", "wide", "--kind", "vector", "--backbone", "toy")
        try ok("vector", "tau-a", "--tuned", "a", "--init", "i")
        try refusedWithoutChange(["add", "tau-a", "wide", "--name", "x"], containing: "shape mismatch")
    }

    func testBackboneMismatchIsRefused() throws {
        try ok("import", try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: 3)), "o.npy"),
               "--name", "other", "--kind", "vector", "--backbone", "another-model")
        try ok("vector", "tau-a", "--tuned", "a", "--init", "i")
        try refusedWithoutChange(["add", "tau-a", "other", "--name", "x"], containing: "backbone mismatch")
        try refusedWithoutChange(["cos", "tau-a", "other"], containing: "backbone mismatch")
    }

    func testUnknownNameIsRefused() throws {
        try refusedWithoutChange(["add", "a", "nosuch", "--name", "x"], containing: "nosuch")
        try refused(["show", "nosuch"], containing: "nosuch")
    }

    func testPromptWithoutInitIsNotAVector() throws {
        try ok("import", try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: 8)), "p.npy"),
               "--name", "loose", "--backbone", "toy")
        try refusedWithoutChange(["add", "loose", "a"], containing: "no recorded init")
    }

    func testAmbiguousPrefixIsRefusedAndListsCandidates() throws {
        // Make artifacts through the library until two ids share a 4-digit prefix.
        let registry = try Registry.open(at: registryDir)
        var seen: [String: ArtifactID] = [:]
        var pair: (ArtifactID, ArtifactID)?
        var n = 0
        while pair == nil {
            n += 1
            let m = Manifest(kind: .evaluation, blob: nil, shape: nil, backbone: nil,
                             recipe: Recipe(op: "note", params: ["n": .int(Int64(n))]))
            let id = try registry.writeManifest(m)
            let p = String(id.hex.prefix(4))
            if let other = seen[p] { pair = (other, id) } else { seen[p] = id }
        }
        let prefix = String(pair!.0.hex.prefix(4))
        try refused(["show", prefix], containing: "ambiguous")
        let r = try pvec(["show", prefix])
        XCTAssertTrue(r.stderr.contains(pair!.0.short) || r.stderr.contains(String(pair!.0.hex.prefix(8))))
        // A longer unique prefix works.
        try ok("show", String(pair!.0.hex.prefix(16)))
    }

    func testRegistryThatCannotBeWrittenGivesOneLine() throws {
        let blocker = try write([1, 2, 3], "not-a-dir")
        let r = try pvec(["init", "--registry", blocker + "/reg"], registry: false)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        let r2 = try pvec(["ls", "--registry", workDir.appendingPathComponent("missing").path], registry: false)
        XCTAssertNotEqual(r2.status, 0)
        XCTAssertTrue(r2.stderr.contains("pvec init"), r2.stderr)
    }

    func testCorruptedBlobIsNamedByVerify() throws {
        let shown = try json("show", "a") as! [String: Any]
        let blob = (shown["manifest"] as! [String: Any])["blob"] as! String
        let objects = registryDir.appendingPathComponent("objects")
        let file = objects.appendingPathComponent(String(blob.prefix(2))).appendingPathComponent(String(blob.dropFirst(2)))
        XCTAssertTrue(FileManager.default.fileExists(atPath: file.path), "blob object at \(file.path)")
        var bytes = Array(try Data(contentsOf: file))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: file)
        let r = try pvec(["verify"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains(String(blob.prefix(12))) || r.stdout.contains((shown["id"] as! String).prefix(12)),
                      "verify output should name the blob or artifact: \(r.stdout)")
    }

    func testTwoProcessesWritingAtOnceLoseNothing() throws {
        let procs = (0..<2).map { w -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            let cmds = (0..<15).map { k in
                "\(Self.binary.path) init-prompt --registry \(registryDir.path) --rows 2 --width 6 --seed \(w * 100 + k) --name w\(w)-\(k) >/dev/null || exit 1"
            }
            p.arguments = ["-c", cmds.joined(separator: "; ")]
            return p
        }
        for p in procs { try p.run() }
        for p in procs { p.waitUntilExit(); XCTAssertEqual(p.terminationStatus, 0) }
        let named = try json("ls", "--named") as! [[String: Any]]
        let names = Set(named.flatMap { $0["names"] as! [String] })
        for w in 0..<2 { for k in 0..<15 { XCTAssertTrue(names.contains("w\(w)-\(k)"), "lost w\(w)-\(k)") } }
        let v = try json("verify") as! [String: Any]
        XCTAssertEqual(v["clean"] as? Bool, true)
    }

    func testProcessKilledMidWriteLeavesRegistryConsistent() throws {
        let big = try write(TestData.npy(TestData.tensor(rows: 2000, width: 96, seed: 4)), "big.npy")
        // Kill imports at staggered moments: during start-up, hashing, object writes, catalog commit.
        for attempt in 0..<12 {
            let p = Process()
            p.executableURL = Self.binary
            p.arguments = ["import", big, "--registry", registryDir.path, "--name", "big\(attempt)", "--backbone", "toy"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(useconds_t(5_000 + attempt * 12_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        let v = try pvec(["verify", "--json"])
        XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
        try ok("add", "a", "a", "--name", "after-crash")
    }
}

extension FaultCLITests {
    func testBadNameStoresNothing() throws {
        try refusedWithoutChange(["add", "a", "--name", "bad name"], containing: "bad name")
        try refusedWithoutChange(["add", "a", "--name", "x@2"], containing: "x@2")
    }

    func testFailedOperandLeavesNoDerivedVector() throws {
        try ok("import", try write(TestData.npy(TestData.tensor(rows: 5, width: 6, seed: 3)), "w.npy"),
               "--name", "wide", "--kind", "vector", "--backbone", "toy")
        // `a` would need its vector derived; the shape check must come first.
        try refusedWithoutChange(["add", "a", "wide"], containing: "shape mismatch")
    }
}
