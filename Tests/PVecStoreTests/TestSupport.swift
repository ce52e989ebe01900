import Foundation
import PVecTensor
import XCTest
@testable import PVecStore

/// A fresh temp folder per test, removed afterwards.
final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("pvec-store-tests-\(getpid())-\(UInt64.random(in: 0...UInt64.max))", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

enum Fixtures {
    static let backbone = Backbone(model: "test/backbone", width: 8)

    /// Standard normal samples (Box-Muller over SplitMix64), scaled by `std`.
    static func normal(_ shape: Shape, seed: UInt64, std: Float = 1) -> Tensor {
        var rng = SplitMix64(seed: seed)
        var out = [Float]()
        out.reserveCapacity(shape.count)
        while out.count < shape.count {
            let u1 = max(Double(rng.nextFloat01()), 1e-12), u2 = Double(rng.nextFloat01())
            let r = (-2 * log(u1)).squareRoot()
            out.append(std * Float(r * cos(2 * .pi * u2)))
            if out.count < shape.count { out.append(std * Float(r * sin(2 * .pi * u2))) }
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// Stores a prompt-shaped tensor and its manifest; returns the artifact id.
    @discardableResult
    static func prompt(_ reg: Registry, seed: UInt64, kind: ArtifactKind = .prompt, parents: [Parent] = [],
                       op: String = "import") throws -> ArtifactID {
        let t = normal([4, 8], seed: seed)
        let blob = try reg.putBlob(t)
        let m = Manifest(kind: kind, blob: blob, shape: t.shape, backbone: backbone, parents: parents,
                         recipe: Recipe(op: op, params: ["seed": .int(Int64(seed))]))
        return try reg.writeManifest(m)
    }

    static func evaluation(_ reg: Registry, of id: ArtifactID, score: Double) throws -> ArtifactID {
        let m = Manifest(kind: .evaluation, blob: nil, shape: nil, backbone: nil, parents: [Parent(.evaluated, id)],
                         recipe: Recipe(op: "eval", params: ["data": "fixture.jsonl"]), metrics: ["accuracy": .double(score)])
        return try reg.writeManifest(m)
    }
}

/// Asserts that `body` throws a `StoreError` matching `check`.
func XCTAssertStoreError<T>(_ body: @autoclosure () throws -> T, _ message: String = "",
                            file: StaticString = #filePath, line: UInt = #line,
                            _ check: (StoreError) -> Bool) {
    do {
        _ = try body()
        XCTFail("expected a StoreError, got success. \(message)", file: file, line: line)
    } catch let e as StoreError {
        XCTAssertTrue(check(e), "unexpected error: \(e) — \(e.localizedDescription). \(message)", file: file, line: line)
    } catch {
        XCTFail("expected a StoreError, got \(error). \(message)", file: file, line: line)
    }
}

/// Runs `sql` on the catalog behind pvec's back, as a tamperer with file access would.
func tamper(_ registry: URL, _ sql: String) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", """
        import sqlite3, sys
        c = sqlite3.connect(sys.argv[1])
        c.executescript(sys.argv[2])
        c.commit()
        """, registry.appendingPathComponent("catalog.sqlite").path, sql]
    try p.run()
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 0, "tampering with the catalog failed")
}

/// Drops the append-only triggers so a test can play the tamperer.
let dropAuditTriggers = "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_chain;"

/// Every file in the two-hex-digit folders of `tops` (`objects`, `manifests`), temp files
/// included, as `top/ab/rest`.
func objectFiles(_ reg: Registry, in tops: [String]) throws -> [String] {
    var out: [String] = []
    for top in tops {
        let base = reg.root.appendingPathComponent(top)
        for f in try FileManager.default.contentsOfDirectory(atPath: base.path) {
            var isDir: ObjCBool = false
            let p = base.appendingPathComponent(f)
            guard FileManager.default.fileExists(atPath: p.path, isDirectory: &isDir), isDir.boolValue else { continue }
            out += try FileManager.default.contentsOfDirectory(atPath: p.path).map { "\(top)/\(f)/\($0)" }
        }
    }
    return out.sorted()
}
