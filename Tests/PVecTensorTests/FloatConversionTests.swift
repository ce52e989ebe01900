import XCTest
@testable import PVecTensor

/// Checks against numpy (float16) and an exact nearest search (bfloat16) from the fixture script.
final class FloatConversionTests: XCTestCase {
    private func table() throws -> [String: Any] { try Fixtures.json("float16.json") }

    func testHalfEncodingMatchesNumpy() throws {
        let t = try table()
        let f32 = try integers(t["f32"]), f16 = try integers(t["f16"])
        XCTAssertEqual(f32.count, f16.count)
        XCTAssertGreaterThan(f32.count, 100)
        var mismatches: [String] = []
        for (x, h) in zip(f32, f16) {
            let got = FloatConversion.half(from: Float(bitPattern: UInt32(x)))
            if UInt64(got) != h { mismatches.append("f32 0x\(String(x, radix: 16)): got 0x\(String(got, radix: 16)), numpy 0x\(String(h, radix: 16))") }
        }
        XCTAssertEqual(mismatches, [])
    }

    func testBFloat16EncodingMatchesReference() throws {
        let t = try table()
        let f32 = try integers(t["f32"]), bf = try integers(t["bf16"])
        var mismatches: [String] = []
        for (x, b) in zip(f32, bf) {
            let got = FloatConversion.bfloat16(from: Float(bitPattern: UInt32(x)))
            if UInt64(got) != b { mismatches.append("f32 0x\(String(x, radix: 16)): got 0x\(String(got, radix: 16)), reference 0x\(String(b, radix: 16))") }
        }
        XCTAssertEqual(mismatches, [])
    }

    func testDecodingMatchesNumpy() throws {
        let t = try table()
        for (h, f) in zip(try integers(t["decode_f16"]), try integers(t["decode_f16_f32"])) {
            let got = FloatConversion.float(fromHalf: UInt16(h))
            XCTAssertEqual(UInt64(got.bitPattern), f, "half 0x\(String(h, radix: 16))")
        }
        for (b, f) in zip(try integers(t["decode_bf16"]), try integers(t["decode_bf16_f32"])) {
            XCTAssertEqual(UInt64(FloatConversion.float(fromBFloat16: UInt16(b)).bitPattern), f)
        }
    }

    func testEdgeCasesByName() {
        XCTAssertEqual(FloatConversion.half(from: -0.0), 0x8000)
        XCTAssertEqual(FloatConversion.half(from: 65520), 0x7C00, "the first value that rounds to inf")
        XCTAssertEqual(FloatConversion.half(from: 0x1p-25), 0x0000, "a tie between 0 and the smallest subnormal goes to even")
        XCTAssertEqual(FloatConversion.half(from: 3 * 0x1p-25), 0x0002, "a tie between subnormals 1 and 2 goes to even")
        XCTAssertTrue(FloatConversion.float(fromHalf: FloatConversion.half(from: .nan)).isNaN)
        XCTAssertEqual(FloatConversion.bfloat16(from: -.infinity), 0xFF80)
        XCTAssertTrue(FloatConversion.float(fromBFloat16: FloatConversion.bfloat16(from: .nan)).isNaN)
        XCTAssertEqual(FloatConversion.bfloat16(from: .greatestFiniteMagnitude), 0x7F80, "max Float rounds up to inf")
    }

    func testEveryHalfSurvivesARoundTrip() {
        for h in UInt16.min...UInt16.max {
            let f = FloatConversion.float(fromHalf: h)
            if f.isNaN { continue }
            XCTAssertEqual(FloatConversion.half(from: f), h)
        }
    }
}
