import XCTest
@testable import PVecTensor

/// Checks against the Python implementation in scripts/make_tensor_fixtures.py.
final class SplitMix64Tests: XCTestCase {
    func testMatchesReferenceOutputs() throws {
        let doc = try Fixtures.json("splitmix64.json")
        XCTAssertEqual(Set(doc.keys), ["0", "42", "18446744073709551615"])
        for (seedText, value) in doc {
            let seed = try XCTUnwrap(UInt64(seedText))
            let spec = try XCTUnwrap(value as? [String: Any])
            var g = SplitMix64(seed: seed)
            XCTAssertEqual((0..<8).map { _ in g.next() }, try integers(spec["next"]), "seed \(seed)")
            g = SplitMix64(seed: seed)
            XCTAssertEqual((0..<8).map { _ in UInt64(g.nextFloat01().bitPattern) }, try integers(spec["nextFloat01_bits"]), "seed \(seed)")
            let below = try XCTUnwrap(spec["nextBelow"] as? [String: Any])
            XCTAssertEqual(below.count, 4)
            for (boundText, values) in below {
                let bound = try XCTUnwrap(UInt64(boundText))
                g = SplitMix64(seed: seed)
                XCTAssertEqual((0..<8).map { _ in g.nextBelow(bound) }, try integers(values), "seed \(seed) bound \(bound)")
            }
        }
    }

    func testSeedZeroFirstOutputIsThePublishedOne() {
        // Vigna's splitmix64.c with x = 0 gives 0xe220a8397b1dcdaf first.
        var g = SplitMix64(seed: 0)
        XCTAssertEqual(g.next(), 0xE220_A839_7B1D_CDAF)
    }

    func testDrawsStayInRange() {
        var g = SplitMix64(seed: 9)
        for _ in 0..<10_000 {
            let u = g.nextFloat01()
            XCTAssertTrue(u >= 0 && u < 1)
            XCTAssertLessThan(g.nextBelow(13), 13)
        }
        XCTAssertEqual(g.currentState, 9 &+ 20_000 &* 0x9E37_79B9_7F4A_7C15)
    }
}
