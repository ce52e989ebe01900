import Foundation
import PVecTensor
import XCTest
@testable import PVecStore

final class LineageTests: XCTestCase {
    /// An evaluation has no blob; as a root of a transfer it still travels, with its subject.
    func testClosureOfAnEvaluationRoot() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let p = try Fixtures.prompt(reg, seed: 1)
        let e = try Fixtures.evaluation(reg, of: p, score: 0.75)
        let c = try reg.closure(of: [e])
        XCTAssertEqual(c.manifests, [p, e])
        XCTAssertEqual(c.blobs, [try reg.manifest(p).blob!])
    }

    func testChainAndDiamond() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let initID = try Fixtures.prompt(reg, seed: 1, kind: .`init`, op: "vocab-sample")
        let tuned = try Fixtures.prompt(reg, seed: 2, parents: [Parent(.`init`, initID)], op: "train")
        let vec = try Fixtures.prompt(reg, seed: 3, kind: .vector, parents: [Parent(.tuned, tuned), Parent(.`init`, initID)], op: "vector")
        let other = try Fixtures.prompt(reg, seed: 4, kind: .vector, op: "import")
        let sum = try Fixtures.prompt(reg, seed: 5, kind: .vector, parents: [Parent(.operand, vec), Parent(.operand, other)], op: "add")

        let g = try reg.lineage(of: sum)
        XCTAssertEqual(g.root, sum)
        XCTAssertEqual(Set(g.nodes.keys), [sum, vec, other, tuned, initID])
        XCTAssertEqual(g.nodes[vec]?.op, "vector")
        XCTAssertEqual(g.nodes[vec]?.kind, .vector)
        XCTAssertEqual(g.parents(of: vec).map(\.role), [.tuned, .`init`])
        let edges = g.edges.map { "\($0.child.short)->\($0.parent.short):\($0.role.rawValue)" }
        // Nearest children first, each child's parents in manifest order.
        XCTAssertEqual(edges, [
            "\(sum.short)->\(vec.short):operand", "\(sum.short)->\(other.short):operand",
            "\(vec.short)->\(tuned.short):tuned", "\(vec.short)->\(initID.short):init",
            "\(tuned.short)->\(initID.short):init",
        ])

        let g2 = try reg.lineage(of: initID)
        XCTAssertEqual(Set(g2.nodes.keys), Set([initID]))
        XCTAssertTrue(g2.edges.isEmpty)

        let kids = try reg.children(of: initID)
        XCTAssertEqual(Set(kids.map { "\($0.role.rawValue):\($0.id.hex)" }), ["init:\(tuned.hex)", "init:\(vec.hex)"])
        XCTAssertEqual(try reg.children(of: sum).count, 0)
        XCTAssertStoreError(try reg.lineage(of: ArtifactID(String(repeating: "1", count: 64))!)) {
            if case .unknownName = $0 { return true } else { return false }
        }
    }
}
