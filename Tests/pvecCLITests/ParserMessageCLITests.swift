import Foundation
import PVecTensor
import XCTest

/// Hostile or odd input files give one readable line: no trap, no Swift enum syntax, numpy's
/// own dtype names for .npy, and devices refused as not regular files.
final class ParserMessageCLITests: CLITestCase {
    /// Swift's rendering of an enum case with labels, e.g. `headerTooLarge(size: 1, limit: 2)`.
    static let enumSyntax = #"[a-z][A-Za-z]+\([a-zA-Z]+:"#

    func assertReadable(_ r: CLIResult, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNil(r.stderr.range(of: Self.enumSyntax, options: .regularExpression), "enum text in: \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("TensorError") || r.stderr.contains("StoreError") || r.stderr.contains("Fatal error"),
                       r.stderr, file: file, line: line)
        XCTAssertFalse(r.stderr.contains("\u{1B}"), "a terminal escape from the file reached stderr", file: file, line: line)
    }

    func testExportOfBF16ToNpyIsAClearError() throws {
        try makeToyRegistry(prompts: ["a"])
        let out = workDir.appendingPathComponent("exported-a.npy")
        let r = try refused(["export", "a", "--out", out.path, "--dtype", "BF16"], containing: "no bfloat16")
        XCTAssertTrue(r.stderr.contains("--format safetensors"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "a refused export left a file")
        assertReadable(r)
        // The dtypes numpy has still work, and BF16 still goes to safetensors.
        for d in ["F16", "F32", "F64"] { try ok("export", "a", "--out", out.path, "--dtype", d) }
        try ok("export", "a", "--out", workDir.appendingPathComponent("a.safetensors").path, "--dtype", "BF16")
    }

    func testCraftedFilesGiveReadableMessages() throws {
        try ok("init")
        let st = Safetensors.encode(["x": TestData.tensor(rows: 2, width: 4, seed: 1)])
        var deep = Array(#"{"a":"#.utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 50_000)
        while deep.count % 8 != 0 { deep.append(0x20) }
        let files: [(String, [UInt8], String)] = [
            ("huge-header.safetensors", [0, 0, 0, 0, 0, 1, 0, 0] + Array("{}".utf8), "exceeds the limit"),
            ("truncated.safetensors", Array(st.dropLast(3)), "truncated"),
            ("deep.safetensors", (0..<8).map { UInt8(truncatingIfNeeded: UInt64(deep.count) >> (8 * UInt64($0))) } + deep, "nests deeper"),
            ("escape.safetensors", Self.safetensors(#"{"x\u001b[31m":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "unknown dtype"),
            ("int.npy", Self.npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", data: [UInt8](repeating: 0, count: 16)), "'<i4'"),
            ("escape.npy", Self.npy("{'descr': '<f4\u{1B}[2J', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]), "is not supported"),
            ("huge-shape.npy", Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647), }", data: []), "too large"),
        ]
        for (name, bytes, message) in files {
            let r = try refused(["import", try write(bytes, name), "--name", "x", "--backbone", "toy"], containing: message)
            assertReadable(r)
            if name.hasSuffix(".npy") {
                XCTAssertFalse(r.stderr.contains("BF16") || r.stderr.contains("F32"), "safetensors dtype names in a .npy error: \(r.stderr)")
            }
        }
        XCTAssertEqual(try artifactIDs(), [])
    }

    func testImportOfADeviceIsNotARegularFile() throws {
        try ok("init")
        let r = try refused(["import", "/dev/zero", "--name", "z", "--backbone", "toy"], containing: "not a regular file")
        assertReadable(r)
        XCTAssertFalse(r.stderr.localizedCaseInsensitiveContains("permission"), r.stderr)
        try refused(["import", "/dev/null", "--name", "z", "--backbone", "toy"], containing: "not a regular file")
        // A PEFT adapter whose files are devices is refused the same way.
        let dir = workDir.appendingPathComponent("adapter")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("adapter_config.json").path, withDestinationPath: "/dev/zero")
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("adapter_model.safetensors").path, withDestinationPath: "/dev/zero")
        try refused(["import", dir.path, "--name", "z"], containing: "not a regular file")
    }

    static func safetensors(_ header: String, data: [UInt8]) -> [UInt8] {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        let n = UInt64(h.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + h + data
    }

    static func npy(_ text: String, data: [UInt8]) -> [UInt8] {
        let h = Array(text.utf8) + [0x0A]
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + data
    }
}
