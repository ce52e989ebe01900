import Foundation
import XCTest
import PVecTensor

/// The cases of fixtures/algebra/cases.json, written by scripts/make_merge_fixtures.py.
struct FixtureCase {
    var name: String
    var method: String
    var operands: [Tensor]
    var params: [String: Any]
    var expected: Tensor
    var exact: Bool
    var raw: [String: Any]

    func float(_ key: String) throws -> Float {
        Float(try XCTUnwrap(params[key] as? NSNumber, "\(name): param \(key)").doubleValue)
    }

    func int(_ key: String) throws -> Int {
        try XCTUnwrap(params[key] as? NSNumber, "\(name): param \(key)").intValue
    }

    func bool(_ key: String) throws -> Bool {
        try XCTUnwrap(params[key] as? Bool ?? (params[key] as? NSNumber)?.boolValue, "\(name): param \(key)")
    }

    func floats(_ key: String) -> [Float]? {
        (params[key] as? [Any])?.compactMap { ($0 as? NSNumber).map { Float($0.doubleValue) } }
    }

    /// Arrays named by a list of file names in the case (e.g. DARE masks).
    func tensors(_ key: String) throws -> [Tensor] {
        try XCTUnwrap(raw[key] as? [String], "\(name): \(key)").map(AlgebraFixtures.load)
    }
}

enum AlgebraFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // PVecAlgebraTests
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()   // repository root
        .appendingPathComponent("fixtures/algebra")

    static func load(_ file: String) throws -> Tensor {
        try NPY.decode(Array(try Data(contentsOf: directory.appendingPathComponent(file))))
    }

    static func cases() throws -> [FixtureCase] {
        let data = try Data(contentsOf: directory.appendingPathComponent("cases.json"))
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let inputs = try XCTUnwrap(doc["inputs"] as? [String: String])
        let list = try XCTUnwrap(doc["cases"] as? [[String: Any]])
        return try list.map { c in
            let names = try XCTUnwrap(c["operands"] as? [String])
            return FixtureCase(
                name: try XCTUnwrap(c["name"] as? String),
                method: try XCTUnwrap(c["method"] as? String),
                operands: try names.map { try load(try XCTUnwrap(inputs[$0], "input \($0)")) },
                params: try XCTUnwrap(c["params"] as? [String: Any]),
                expected: try load(try XCTUnwrap(c["expected"] as? String)),
                exact: try XCTUnwrap(c["exact"] as? Bool ?? (c["exact"] as? NSNumber)?.boolValue),
                raw: c)
        }
    }
}

/// The largest |a_i − b_i|.
func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Asserts equal shapes and every |a_i − b_i| ≤ tolerance, reporting maxdiff.
func assertClose(_ got: Tensor, _ expected: Tensor, tolerance: Float = 1e-6, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.shape, expected.shape, what, file: file, line: line)
    guard got.shape == expected.shape else { return }
    let d = maxDiff(got, expected)
    XCTAssertLessThanOrEqual(d, tolerance, "\(what): maxdiff \(d)", file: file, line: line)
}

/// Asserts the same shape and the same bits in every scalar.
func assertBitIdentical(_ got: Tensor, _ expected: Tensor, _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.shape, expected.shape, what, file: file, line: line)
    XCTAssertEqual(got.scalars.map(\.bitPattern), expected.scalars.map(\.bitPattern),
                   "\(what): maxdiff \(maxDiff(got, expected))", file: file, line: line)
}
