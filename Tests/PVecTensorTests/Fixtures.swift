import Foundation
import XCTest
@testable import PVecTensor

/// Files under fixtures/tensor/, written by scripts/make_tensor_fixtures.py.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // PVecTensorTests
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()   // repository root
        .appendingPathComponent("fixtures/tensor")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

/// A JSON array of integers (as decoded by JSONSerialization) as UInt64 values.
func integers(_ any: Any?, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt64] {
    let array = try XCTUnwrap(any as? [Any], "expected a JSON array", file: file, line: line)
    return try array.map { v in
        if let s = v as? String { return try XCTUnwrap(UInt64(s), file: file, line: line) }
        return try XCTUnwrap(v as? NSNumber, file: file, line: line).uint64Value
    }
}

/// Float32 values from their bit patterns.
func floats(bits: [UInt64]) -> [Float] { bits.map { Float(bitPattern: UInt32($0)) } }

/// Asserts equality of bit patterns, so -0 differs from 0 and NaN equals itself.
func assertSameBits(_ a: [Float], _ b: [Float], _ message: String = "",
                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), message, file: file, line: line)
}

/// Asserts that `body` throws exactly `expected`.
func assertThrows<T>(_ expected: TensorErrorKind, _ body: @autoclosure () throws -> T,
                     file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected \(expected) but nothing was thrown", file: file, line: line)
    } catch {
        XCTAssertTrue(expected.matches(error), "expected \(expected), got \(error)", file: file, line: line)
    }
}

/// A `TensorError` case without its message, for asserting which error was thrown.
enum TensorErrorKind {
    case truncated, malformedHeader, headerTooLarge, badOffsets, overlappingOrGap
    case unknownDType, unsupportedDType, missingKey, ambiguousKey, fortranOrder
    case nonFinite, shapeMismatch, unsupportedNPYDType, npyCannotWrite

    func matches(_ error: Error) -> Bool {
        guard let e = error as? TensorError else { return false }
        switch (self, e) {
        case (.truncated, .truncated), (.malformedHeader, .malformedHeader),
             (.headerTooLarge, .headerTooLarge), (.badOffsets, .badOffsets),
             (.overlappingOrGap, .overlappingOrGap), (.unknownDType, .unknownDType),
             (.unsupportedDType, .unsupportedDType), (.missingKey, .missingKey),
             (.ambiguousKey, .ambiguousKey), (.fortranOrder, .fortranOrder),
             (.nonFinite, .nonFinite), (.shapeMismatch, .shapeMismatch),
             (.unsupportedNPYDType, .unsupportedNPYDType), (.npyCannotWrite, .npyCannotWrite):
            return true
        default:
            return false
        }
    }
}
