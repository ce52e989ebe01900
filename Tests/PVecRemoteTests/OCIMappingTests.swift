import PVecRemote
import PVecStore
import XCTest

/// Names as OCI tags and the parsing of registry answers (registry-schema/oci.md).
final class OCIMappingTests: XCTestCase {
    func testOCINamesBecomeTagsAndReadBack() throws {
        for name in ["mnli", "team-a/mnli", "a_b/c.d", "a./b", "x/y/z-1", "sha2/v1"] {
            let tag = try OCIMapping.tag(forName: name)
            XCTAssertFalse(tag.contains("/"))
            XCTAssertEqual(OCIMapping.name(forTag: tag), name, tag)
        }
        XCTAssertEqual(try OCIMapping.tag(forName: "team-a/mnli"), "team-a..mnli")
        XCTAssertEqual(OCIMapping.versionTag("team-a..mnli", 3), "_v3.team-a..mnli")
        XCTAssertEqual(OCIMapping.version(ofTag: "_v3.team-a..mnli", nameTag: "team-a..mnli"), 3)
        XCTAssertNil(OCIMapping.version(ofTag: "_v3.xteam-a..mnli", nameTag: "team-a..mnli"))
        // Version, id and referrers tags are never names; nor are tags that decode to invalid names.
        for tag in ["_v1.mnli", "_id.\(String(repeating: "a", count: 64))", "sha256-\(String(repeating: "b", count: 64))",
                    "a....b", "latest."] {
            XCTAssertNil(OCIMapping.name(forTag: tag), tag)
        }
        XCTAssertThrowsError(try OCIMapping.tag(forName: "sha256-abc"))
        XCTAssertThrowsError(try OCIMapping.tag(forName: String(repeating: "a/", count: 60) + "b"))
    }

    func testOCIParsesUntrustedManifestsStrictly() {
        XCTAssertNil(OCIMapping.ImageManifest(parsing: Array("{}".utf8)))
        XCTAssertNil(OCIMapping.ImageManifest(parsing: Array(#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:zz","size":2},"layers":[]}"#.utf8)))
        let ok = #"{"schemaVersion":2,"config":{"mediaType":"application/vnd.pvec.manifest.v1+json","digest":"sha256:\#(String(repeating: "a", count: 64))","size":2},"layers":[]}"#
        XCTAssertEqual(OCIMapping.ImageManifest(parsing: Array(ok.utf8))?.isArtifact, true)
        XCTAssertNil(OCIMapping.ImageManifest(parsing: Array(ok.replacingOccurrences(of: "\"size\":2", with: "\"size\":-1").utf8)))
    }
}
