import XCTest
@testable import PVecTensor

final class NPYTests: XCTestCase {
    private func expected(_ key: String) throws -> (Shape, [Float]) {
        let npy = try XCTUnwrap(try Fixtures.json("expected.json")["npy"] as? [String: Any])
        let spec = try XCTUnwrap(npy[key] as? [String: Any])
        return (Shape(try integers(spec["shape"]).map { Int($0) }), floats(bits: try integers(spec["bits"])))
    }

    // MARK: - Reading numpy's files

    func testReadsNumpyFilesInEveryFloatTypeAndByteOrder() throws {
        let cases: [(file: String, key: String, descr: String, major: UInt8)] = [
            ("v1_f4.npy", "matrix", "<f4", 1), ("v2_f4.npy", "matrix", "<f4", 2),
            ("be_f4.npy", "matrix", ">f4", 1),
            ("v1_f2.npy", "matrix_via_f16", "<f2", 1), ("be_f2.npy", "matrix_via_f16", ">f2", 1),
            ("v1_f8.npy", "matrix_via_f64", "<f8", 1), ("be_f8.npy", "matrix_via_f64", ">f8", 1),
        ]
        for c in cases {
            let bytes = try Fixtures.bytes(c.file)
            let h = try NPY.header(of: bytes)
            XCTAssertEqual(h.descr, c.descr, c.file)
            XCTAssertEqual(h.major, c.major, c.file)
            XCTAssertEqual(h.littleEndian, c.descr.hasPrefix("<"), c.file)
            XCTAssertEqual(h.dataOffset % 64, 0, c.file)
            let t = try NPY.decode(bytes)
            let (shape, values) = try expected(c.key)
            XCTAssertEqual(t.shape, shape, c.file)
            assertSameBits(t.scalars, values, c.file)
        }
    }

    func testReadsScalarVectorAndEmpty() throws {
        let s = try NPY.decode(try Fixtures.bytes("scalar_f4.npy"))
        XCTAssertEqual(s.shape, Shape([]))
        XCTAssertEqual(s.scalars, [2.5])
        let v = try NPY.decode(try Fixtures.bytes("vector_f4.npy"))
        XCTAssertEqual(v.shape, [12])
        XCTAssertEqual(v.scalars, try expected("matrix").1)
        let e = try NPY.decode(try Fixtures.bytes("empty_f4.npy"))
        XCTAssertEqual(e.shape, [0, 4])
    }

    // MARK: - Writing what numpy writes

    func testEncodeMatchesNumpyByteForByte() throws {
        let m = try NPY.decode(try Fixtures.bytes("v1_f4.npy"))
        XCTAssertEqual(NPY.encode(m), try Fixtures.bytes("v1_f4.npy"))
        XCTAssertEqual(try NPY.encode(m, dtype: .f16), try Fixtures.bytes("v1_f2.npy"))
        XCTAssertEqual(try NPY.encode(m, dtype: .f64), try Fixtures.bytes("v1_f8.npy"))
        let v = try NPY.decode(try Fixtures.bytes("vector_f4.npy"))
        XCTAssertEqual(NPY.encode(v), try Fixtures.bytes("vector_f4.npy"))
        XCTAssertEqual(NPY.encode(Tensor(shape: [], scalars: [2.5])), try Fixtures.bytes("scalar_f4.npy"))
        XCTAssertEqual(NPY.encode(Tensor(zeros: [0, 4])), try Fixtures.bytes("empty_f4.npy"))
    }

    func testRoundTrip() throws {
        var g = SplitMix64(seed: 3)
        for shape: Shape in [[5], [2, 3], [2, 3, 4], [1, 1], [100, 8]] {
            let t = Tensor(shape: shape, scalars: (0..<shape.count).map { _ in g.nextFloat01() - 0.5 })
            let bytes = NPY.encode(t)
            XCTAssertEqual(bytes.count % 64, (t.count * 4) % 64, "header padded to 64 bytes")
            XCTAssertEqual(try NPY.decode(bytes), t)
            XCTAssertEqual(try NPY.decode(NPY.encode(t, dtype: .f64)), t)
        }
    }

    func testLongHeaderSwitchesToVersion2() throws {
        // Enough dimensions that the dict passes 65,535 bytes.
        // (No array numpy makes has that many: it stops at 64 dimensions, and so does the reader.)
        let t = Tensor(zeros: Shape([Int](repeating: 1, count: 22_000)))
        let bytes = NPY.encode(t)
        XCTAssertEqual(bytes[6], 2, "format version 2.0")
        let hlen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        XCTAssertGreaterThan(hlen, 0xFFFF)
        XCTAssertEqual((12 + hlen) % 64, 0)
        XCTAssertEqual(bytes.count, 12 + hlen + 4)
        assertThrows(.malformedHeader, try NPY.decode(bytes))
    }

    // MARK: - Refusals

    func testRefusesFortranOrder() throws {
        assertThrows(.fortranOrder, try NPY.decode(try Fixtures.bytes("fortran_f4.npy")))
    }

    func testRefusesNonFloatDTypes() throws {
        assertThrows(.unsupportedNPYDType, try NPY.decode(try Fixtures.bytes("i4.npy")))
        assertThrows(.unsupportedNPYDType, try NPY.decode(try Fixtures.bytes("u1.npy")))
        assertThrows(.unsupportedNPYDType, try NPY.decode(header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }")))
        assertThrows(.unsupportedNPYDType, try NPY.decode(header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }")))
        assertThrows(.unsupportedNPYDType, try NPY.decode(header("{'descr': '<q9', 'fortran_order': False, 'shape': (1,), }")))
        assertThrows(.unsupportedNPYDType, try NPY.decode(header("{'descr': '<f4\u{1B}[31m', 'fortran_order': False, 'shape': (1,), }")))
        assertThrows(.malformedHeader, try NPY.decode(header("{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }")))
    }

    /// .npy dtype errors speak numpy ('<i4', '<f4'), not safetensors (I32, BF16).
    func testDTypeErrorsUseNumpyNames() throws {
        do {
            _ = try NPY.decode(try Fixtures.bytes("i4.npy"))
            XCTFail("an int32 .npy was read")
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains("'<i4'"), text)
            XCTAssertTrue(text.contains("'<f4'"), text)
            XCTAssertFalse(text.contains("BF16") || text.contains("F32"), text)
        }
        do {
            _ = try NPY.decode(header("{'descr': '<f4\u{1B}[31m', 'fortran_order': False, 'shape': (1,), }"))
            XCTFail("a bad descr was read")
        } catch {
            XCTAssertFalse("\(error)".contains("\u{1B}"), "terminal escapes from the file reach the message")
        }
    }

    /// Only F16, F32 and F64 are written; BF16 and the integer types are refused, not trapped.
    func testEncodeRefusesDTypesNumpyLacks() throws {
        let t = Tensor(shape: [2], scalars: [1, 2])
        for dtype in DType.allCases {
            if [.f16, .f32, .f64].contains(dtype) {
                XCTAssertEqual(try NPY.decode(try NPY.encode(t, dtype: dtype)), t)
            } else {
                assertThrows(.npyCannotWrite, try NPY.encode(t, dtype: dtype))
            }
        }
        do {
            _ = try NPY.encode(t, dtype: .bf16)
        } catch {
            XCTAssertTrue("\(error)".contains("no bfloat16"), "\(error)")
        }
    }

    func testRefusesTooManyDimensions() throws {
        let dims = String(repeating: "1, ", count: 65)
        assertThrows(.malformedHeader, try NPY.decode(header("{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }")))
    }

    func testRefusesTruncatedData() throws {
        let bytes = try Fixtures.bytes("v1_f4.npy")
        assertThrows(.truncated, try NPY.decode(Array(bytes.dropLast(1))))
        assertThrows(.truncated, try NPY.decode(Array(bytes.prefix(70))))   // inside the header
        assertThrows(.truncated, try NPY.decode(Array(bytes.prefix(9))))    // inside the preamble
        assertThrows(.badOffsets, try NPY.decode(bytes + [0, 0, 0, 0]))
    }

    func testRefusesBadPreamblesAndHeaders() throws {
        var bytes = try Fixtures.bytes("v1_f4.npy")
        bytes[1] = UInt8(ascii: "X")
        assertThrows(.malformedHeader, try NPY.decode(bytes))
        bytes = try Fixtures.bytes("v1_f4.npy")
        bytes[6] = 9
        assertThrows(.malformedHeader, try NPY.decode(bytes))
        assertThrows(.headerTooLarge, try NPY.decode([0x93] + Array("NUMPY".utf8) + [2, 0, 0xFF, 0xFF, 0xFF, 0x7F]))
        assertThrows(.malformedHeader, try NPY.decode(header("{'descr': '<f4', 'fortran_order': False}")))
        assertThrows(.malformedHeader, try NPY.decode(header("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}")))
        assertThrows(.malformedHeader, try NPY.decode(header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}")))
        assertThrows(.malformedHeader, try NPY.decode(header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} extra")))
        assertThrows(.malformedHeader, try NPY.decode(header("not a dict")))
    }

    func testParsesHeaderVariants() throws {
        // Double quotes, no trailing comma, Python 2 longs, a one-element tuple, "(2)" as an int.
        let t = try NPY.decode(header("{\"shape\": (2L, 1), \"descr\": \"<f4\", \"fortran_order\": False}", data: [UInt8](repeating: 0, count: 8)))
        XCTAssertEqual(t.shape, [2, 1])
        assertThrows(.malformedHeader, try NPY.decode(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", data: [UInt8](repeating: 0, count: 8))))
    }

    /// A version 1.0 file with the given header text.
    private func header(_ text: String, data: [UInt8] = [0, 0, 0, 0]) -> [UInt8] {
        let h = Array(text.utf8) + [0x0A]
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + data
    }
}
