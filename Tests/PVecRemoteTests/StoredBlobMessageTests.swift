import Foundation
@testable import PVecStore
import PVecTensor
import XCTest

/// A stored blob whose bytes hash to its id but are not safetensors (what a server that does
/// not check uploads stores) is reported by its id with a readable reason.
final class StoredBlobMessageTests: XCTestCase {
    func testUnparsableStoredBlobNamesTheProblemNotTheEnumCase() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let raw: [UInt8] = [0, 0, 0, 0, 0, 1, 0, 0] + Array("{}".utf8)
        let id = BlobID(unchecked: Digest.sha256Hex(raw))
        _ = try reg.objects.write(BlobEncoding.encode(raw, shuffle: false), as: id.hex)
        XCTAssertThrowsError(try reg.blob(id)) { error in
            let text = error.localizedDescription
            XCTAssertTrue(text.contains(id.hex.prefix(12)), text)
            XCTAssertTrue(text.contains("exceeds the limit"), text)
            XCTAssertNil(text.range(of: #"[a-z][A-Za-z]+\([a-zA-Z]+:"#, options: .regularExpression), "enum case text in: \(text)")
        }
    }
}
