import Foundation
import XCTest
@testable import PVecModel

final class ModelDirectoryTests: XCTestCase {
    private func emptyDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvec-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testMissingModelSaysToRunFetchModel() throws {
        let home = try emptyDir()
        XCTAssertThrowsError(try ModelDirectory.locate(environment: ["HOME": home.path])) { error in
            let message = (error as? LocalizedError)?.errorDescription ?? ""
            XCTAssertTrue(message.contains("scripts/fetch-model"), message)
            XCTAssertTrue(message.contains(home.path + "/.cache/pvec/models/all-MiniLM-L6-v2"), message)
        }
        XCTAssertThrowsError(try BertEncoder(environment: ["HOME": home.path])) {
            XCTAssertTrue(($0 as? LocalizedError)?.errorDescription?.contains("scripts/fetch-model") == true)
        }
    }

    func testLookupOrderExplicitThenEnvironmentThenCache() throws {
        let a = try emptyDir(), b = try emptyDir(), home = try emptyDir()
        let cached = home.appendingPathComponent(".cache/pvec/models/all-MiniLM-L6-v2")
        for d in [a, b, cached] {
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try Data().write(to: d.appendingPathComponent("model.safetensors"))
        }
        let env = ["HOME": home.path, "PVEC_MODEL": b.path]
        XCTAssertEqual(try ModelDirectory.locate(explicit: a, environment: env).url.path, a.path)
        XCTAssertEqual(try ModelDirectory.locate(environment: env).url.path, b.path)
        XCTAssertEqual(try ModelDirectory.locate(environment: ["HOME": home.path]).url.path, cached.path)
        // A named directory without the model is an error, not a silent fallback.
        let empty = try emptyDir()
        XCTAssertThrowsError(try ModelDirectory.locate(environment: ["HOME": home.path, "PVEC_MODEL": empty.path]))
    }

    func testChecksumMismatchIsReported() throws {
        let dir = try emptyDir()
        try Data([1, 2, 3]).write(to: dir.appendingPathComponent("model.safetensors"))
        let d = ModelDirectory(url: dir)
        XCTAssertThrowsError(try d.readWeights(expectedSHA256: ModelDirectory.miniLML6SHA256)) { error in
            guard case .checksumMismatch(_, let expected, let actual)? = error as? ModelError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(expected, ModelDirectory.miniLML6SHA256)
            XCTAssertEqual(actual, "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81")
        }
    }
}
