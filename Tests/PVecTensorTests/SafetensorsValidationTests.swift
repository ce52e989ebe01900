import XCTest
@testable import PVecTensor

/// Each malformed file is refused with the error that names its problem.
final class SafetensorsValidationTests: XCTestCase {
    /// A file from a header text and raw data bytes.
    private func file(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        let n = length ?? UInt64(h.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + h + data
    }

    private func entry(_ name: String, _ dtype: String = "F32", shape: [Int], _ begin: Int, _ end: Int) -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(end)]}"
    }

    private func parse(_ bytes: [UInt8]) throws -> SafetensorsFile { try SafetensorsFile(bytes: bytes) }

    func testValidHandMadeFileParses() throws {
        // The control for the cases below: the same construction, done right.
        let f = try parse(file("{\(entry("a", shape: [2], 0, 8)),\(entry("b", shape: [1], 8, 12))}", data: [UInt8](repeating: 0, count: 12)))
        XCTAssertEqual(f.keys, ["a", "b"])
    }

    func testTruncatedHeaderLength() {
        assertThrows(.truncated, try parse([]))
        assertThrows(.truncated, try parse([16, 0, 0, 0, 0]))
    }

    func testHeaderLengthBeyondFile() {
        assertThrows(.truncated, try parse(file("{}", length: 100)))
    }

    func testOversizedHeaderLength() {
        assertThrows(.headerTooLarge, try parse(file("{}", length: SafetensorsFile.maxHeaderSize + 1)))
        assertThrows(.headerTooLarge, try parse(file("{}", length: UInt64.max)))
    }

    func testNonJSONHeader() {
        assertThrows(.malformedHeader, try parse(file("{not json at all")))
        assertThrows(.malformedHeader, try parse(file("[1, 2, 3]")))
        assertThrows(.malformedHeader, try parse(file("")))
        assertThrows(.malformedHeader, try parse([2, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0xFF]))  // not UTF-8
    }

    func testMalformedEntries() {
        assertThrows(.malformedHeader, try parse(file(#"{"a":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0])))
        assertThrows(.malformedHeader, try parse(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}"#, data: [0, 0, 0, 0])))
        assertThrows(.malformedHeader, try parse(file(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])))
        assertThrows(.malformedHeader, try parse(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0])))
        assertThrows(.malformedHeader, try parse(file(#"{"__metadata__":{"k":1}}"#)))
    }

    func testOffsetsOutOfRange() {
        assertThrows(.badOffsets, try parse(file("{\(entry("a", shape: [2], 0, 8))}", data: [0, 0, 0, 0])))
    }

    func testOverlappingTensors() {
        let h = "{\(entry("a", shape: [2], 0, 8)),\(entry("b", shape: [2], 4, 12))}"
        assertThrows(.overlappingOrGap, try parse(file(h, data: [UInt8](repeating: 0, count: 12))))
    }

    func testHoleBetweenTensors() {
        let h = "{\(entry("a", shape: [1], 0, 4)),\(entry("b", shape: [1], 8, 12))}"
        assertThrows(.overlappingOrGap, try parse(file(h, data: [UInt8](repeating: 0, count: 12))))
    }

    func testHoleAtStart() {
        assertThrows(.overlappingOrGap, try parse(file("{\(entry("a", shape: [1], 4, 8))}", data: [UInt8](repeating: 0, count: 8))))
    }

    func testTrailingUnindexedBytes() {
        assertThrows(.overlappingOrGap, try parse(file("{\(entry("a", shape: [1], 0, 4))}", data: [UInt8](repeating: 0, count: 5))))
    }

    func testUnknownDType() {
        assertThrows(.unknownDType, try parse(file("{\(entry("a", "F17", shape: [1], 0, 4))}", data: [0, 0, 0, 0])))
    }

    func testKnownButUnreadableDType() throws {
        let f = try parse(file("{\(entry("a", "I32", shape: [1], 0, 4))}", data: [1, 0, 0, 0]))
        assertThrows(.unsupportedDType, try f.tensor("a"))
    }

    func testSizeMismatch() {
        assertThrows(.badOffsets, try parse(file("{\(entry("a", shape: [3], 0, 8))}", data: [UInt8](repeating: 0, count: 8))))
        assertThrows(.badOffsets, try parse(file("{\(entry("a", "F16", shape: [2], 0, 8))}", data: [UInt8](repeating: 0, count: 8))))
    }

    func testMissingKey() throws {
        let f = try parse(SafetensorsFile.encode(["a": Tensor(zeros: [1])]))
        assertThrows(.missingKey, try f.tensor("b"))
        assertThrows(.missingKey, try parse(file("{}")).tensor(key: nil))
        do {
            _ = try f.tensor("b")
        } catch {
            XCTAssertEqual(error as? TensorError, .missingKey(key: "b", available: ["a"]))
            XCTAssertTrue(error.localizedDescription.contains("'b'"))
        }
    }

    func testAmbiguousKey() {
        let bytes = SafetensorsFile.encode(["a": Tensor(zeros: [1]), "b": Tensor(zeros: [1])])
        assertThrows(.ambiguousKey, try parse(bytes).tensor(key: nil))
    }

    func testEveryErrorHasAMessage() {
        let errors: [TensorError] = [.truncated("x"), .malformedHeader("x"), .headerTooLarge(size: 2, limit: 1),
                                     .badOffsets("x"), .overlappingOrGap("x"), .unknownDType("x"),
                                     .unsupportedDType("x"), .missingKey(key: "k", available: []),
                                     .ambiguousKey(available: ["a"]), .fortranOrder, .nonFinite("x"),
                                     .shapeMismatch("x"), .unsupportedNPYDType("'<i4'"), .npyCannotWrite(.bf16)]
        for e in errors {
            XCTAssertFalse((e.errorDescription ?? "").isEmpty, "\(e)")
            // Interpolation gives the message too, never Swift case syntax like `headerTooLarge(size: 2, limit: 1)`.
            XCTAssertEqual("\(e)", e.errorDescription)
            XCTAssertNil("\(e)".range(of: #"^[a-zA-Z]+\("#, options: .regularExpression), "\(e)")
        }
    }
}
