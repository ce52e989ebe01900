import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import PVecTensor
import XCTest

/// `pvec similar`, `pvec init-from` (SPoT) and `pvec cos --matrix --svg`, through the binary.
final class SimilarityCLITests: CLITestCase {
    var initT: Tensor!
    var query: Tensor!
    /// Prompts p1…p3 tuned from the init, p4 with no recorded init.
    var prompts: [String: Tensor] = [:]

    /// The init `i`; a query prompt `q` and prompts p1…p3 tuned from `i` whose updates are
    /// more or less like q's; `p4` with no init; `wide`, of another shape.
    func makeFixture() throws {
        try ok("init")
        initT = TestData.tensor(rows: 4, width: 6, seed: 1)
        let dq = TestData.tensor(rows: 4, width: 6, seed: 2).scalars
        query = Tensor(shape: [4, 6], scalars: zip(initT.scalars, dq).map { $0 + $1 })
        try ok("import", try write(TestData.npy(initT), "i.npy"), "--name", "i", "--kind", "init", "--backbone", "toy")
        try ok("import", try write(TestData.npy(query), "q.npy"), "--name", "q", "--init", "i")
        for (k, w) in [(1, Float(0.9)), (2, 0.5), (3, 0.1)] {
            let r = TestData.tensor(rows: 4, width: 6, seed: UInt64(10 + k)).scalars
            let p = (0..<24).map { j in initT.scalars[j] + (w * dq[j] + (1 - w) * r[j]) }
            prompts["p\(k)"] = Tensor(shape: [4, 6], scalars: p)
            try ok("import", try write(TestData.npy(prompts["p\(k)"]!), "p\(k).npy"), "--name", "p\(k)", "--init", "i")
        }
        prompts["p4"] = TestData.tensor(rows: 4, width: 6, seed: 20)
        try ok("import", try write(TestData.npy(prompts["p4"]!), "p4.npy"), "--name", "p4", "--backbone", "toy")
        try ok("import", try write(TestData.npy(TestData.tensor(rows: 5, width: 6, seed: 21)), "w.npy"),
               "--name", "wide", "--backbone", "toy")
    }

    func minusInit(_ t: Tensor) -> [Float] { zip(t.scalars, initT.scalars).map { $0 - $1 } }

    func ranking(_ args: String...) throws -> [(name: String, cosine: Double)] {
        let r = try pvec(["similar"] + args + ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        return rows.map { (($0["names"] as! [String]).first ?? "", $0["cosine"] as! Double) }
    }

    func exported(_ name: String) throws -> Tensor {
        let path = workDir.appendingPathComponent("\(name)-out.npy").path
        try ok("export", name, "--out", path)
        return try TestData.readNPY(path)
    }

    // MARK: - similar

    func testSimilarRanksPromptsByCosineReadOnly() throws {
        try makeFixture()
        let before = try artifactIDs()
        let byPrompt = try ranking("q")
        let want = prompts.map { ($0.key, TestData.cosine(query.scalars, $0.value.scalars)) }.sorted { $0.1 > $1.1 }
        XCTAssertEqual(byPrompt.map(\.name), want.map(\.0), "q itself, the init and the wide prompt are not candidates")
        for (g, w) in zip(byPrompt, want) { XCTAssertEqual(g.cosine, w.1, accuracy: 1e-5, g.name) }
        // Over task vectors: p4 records no init and drops out; the order is p1, p2, p3 by design.
        let byVector = try ranking("q", "--by", "vector")
        XCTAssertEqual(byVector.map(\.name), ["p1", "p2", "p3"])
        for g in byVector {
            XCTAssertEqual(g.cosine, TestData.cosine(minusInit(query), minusInit(prompts[g.name]!)), accuracy: 1e-5, g.name)
        }
        XCTAssertEqual(try ranking("q", "--by", "vector", "--top", "2").map(\.name), ["p1", "p2"])
        XCTAssertEqual(try artifactIDs(), before, "similar must not store derived vectors")
        // Vectors are ranked as vectors; q's own vector is not its own neighbour.
        try ok("vector", "tau-q", "--tuned", "q", "--init", "i")
        try ok("vector", "tau-p2", "--tuned", "p2", "--init", "i")
        try ok("vector", "tau-p3", "--tuned", "p3", "--init", "i")
        XCTAssertEqual(try ranking("q", "--kind", "vector").map(\.name), ["tau-p2", "tau-p3"])
        let r = try pvec(["similar", "q", "--kind", "vector", "--by", "prompt"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("Please drop --by prompt"), r.stderr)
        let text = try ok("similar", "q", "--top", "1")
        XCTAssertTrue(text.contains("p1"), text)
    }

    // MARK: - init-from (SPoT)

    func testInitFromTopOneCopiesTheMostSimilarPrompt() throws {
        try makeFixture()
        let best = try ranking("q")[0]
        let s = try json("init-from", "--similar-to", "q", "--top", "1", "--name", "spot-t") as! [String: Any]
        XCTAssertEqual(s["kind"] as? String, "init")
        XCTAssertEqual(s["op"] as? String, "spot")
        XCTAssertEqual(try exported("spot-t").scalars.map(\.bitPattern), prompts[best.name]!.scalars.map(\.bitPattern))
        let m = (try json("show", "spot-t") as! [String: Any])["manifest"] as! [String: Any]
        let p = (m["recipe"] as! [String: Any])["params"] as! [String: Any]
        XCTAssertEqual(p["method"] as? String, "spot-t")
        XCTAssertEqual(p["top"] as? Int, 1)
        XCTAssertEqual(p["by"] as? String, "prompt")
        XCTAssertEqual((p["scores"] as! [Double])[0], best.cosine)
        XCTAssertEqual(p["similar_to"] as? String, (try json("show", "q") as! [String: Any])["id"] as? String)
        let parents = m["parents"] as! [[String: String]]
        XCTAssertEqual(parents.map { $0["role"]! }, ["source"])
        XCTAssertEqual(parents[0]["id"], (try json("show", best.name) as! [String: Any])["id"] as? String)
    }

    func testTagLimitsTheCandidatesAndIsRecorded() throws {
        try makeFixture()
        // p1 is the best match overall; only p2 and p3 carry the tag.
        try ok("tag", "p2", "source")
        try ok("tag", "p3", "source")
        XCTAssertEqual(try ranking("q", "--by", "vector").first?.name, "p1")
        XCTAssertEqual(try ranking("q", "--by", "vector", "--tag", "source").map(\.name), ["p2", "p3"])
        try ok("init-from", "--similar-to", "q", "--by", "vector", "--tag", "source", "--name", "spot-tagged")
        XCTAssertEqual(try exported("spot-tagged").scalars.map(\.bitPattern), prompts["p2"]!.scalars.map(\.bitPattern))
        let m = (try json("show", "spot-tagged") as! [String: Any])["manifest"] as! [String: Any]
        XCTAssertEqual(((m["recipe"] as! [String: Any])["params"] as! [String: Any])["among_tag"] as? String, "source")
        // Too few tagged candidates: a clear refusal that names the tag, nothing stored.
        let before = try artifactIDs()
        let r = try pvec(["init-from", "--similar-to", "q", "--top", "3", "--tag", "source", "--name", "spot-3"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("tagged source"), r.stderr)
        XCTAssertEqual(try artifactIDs(), before)
        let v = try json("verify") as! [String: Any]
        XCTAssertEqual(v["clean"] as? Bool, true, "\(v)")
    }

    func testInitFromWeightedTopKIsTheSimilarityWeightedAverage() throws {
        try makeFixture()
        let top = try ranking("q", "--by", "vector", "--top", "2")
        XCTAssertEqual(top.map(\.name), ["p1", "p2"])
        try ok("init-from", "--similar-to", "q", "--top", "2", "--weighted", "--by", "vector", "--name", "spot-s")
        let s1 = Float(top[0].cosine), s2 = Float(top[1].cosine)
        let p1 = prompts["p1"]!.scalars, p2 = prompts["p2"]!.scalars
        // Merge.linear's order: (s1 p1 + s2 p2) / (s1 + s2), each step rounded to Float.
        let want = (0..<24).map { j -> Float in
            let a = s1 * p1[j]
            let b = s2 * p2[j]
            return (a + b) / (s1 + s2)
        }
        XCTAssertEqual(try exported("spot-s").scalars.map(\.bitPattern), want.map(\.bitPattern))
        try ok("init-from", "--similar-to", "q", "--top", "3", "--by", "vector", "--name", "spot-mean")
        let p3 = prompts["p3"]!.scalars
        let mean = try exported("spot-mean").scalars
        for j in 0..<24 { XCTAssertEqual(mean[j], (p1[j] + p2[j] + p3[j]) / 3, accuracy: 1e-6) }
        let m = (try json("show", "spot-s") as! [String: Any])["manifest"] as! [String: Any]
        let p = (m["recipe"] as! [String: Any])["params"] as! [String: Any]
        XCTAssertEqual(p["method"] as? String, "spot-s")
        XCTAssertEqual(p["weighted"] as? Bool, true)
        XCTAssertEqual(p["scores"] as? [Double], top.map(\.cosine))
        XCTAssertEqual((m["parents"] as! [[String: String]]).map { $0["role"]! }, ["source", "source"])
        let v = try json("verify") as! [String: Any]
        XCTAssertEqual(v["clean"] as? Bool, true, "\(v)")
        XCTAssertEqual(v["recomputed"] as? Int, 2, "both spot inits are recomputed from their sources")
        try ok("lineage", "spot-s")
    }

    func testInitFromRefusalsStoreNothing() throws {
        try makeFixture()
        let before = try artifactIDs()
        try refused(["init-from", "--similar-to", "q", "--top", "4", "--by", "vector"], containing: "at most 3")
        try refused(["init-from", "--similar-to", "nosuch"], containing: "nosuch")
        let r = try pvec(["init-from", "--similar-to", "q", "--top", "1", "--weighted"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("Please give --top 2 or more with --weighted"), r.stderr)
        XCTAssertEqual(try artifactIDs(), before)
    }

    // MARK: - cos --matrix --svg

    func testCosMatrixWritesAHeatMap() throws {
        try ok("init")
        let names = ["alpha", "beta", "gamma", "delta"]
        for (k, n) in names.enumerated() {
            try ok("import", try write(TestData.npy(TestData.tensor(rows: 3, width: 5, seed: UInt64(k + 1))), "\(n).npy"),
                   "--name", n, "--kind", "vector", "--backbone", "toy")
        }
        let svgPath = workDir.appendingPathComponent("cos.svg").path
        let out = try json(["cos", "--matrix"] + names + ["--svg", svgPath]) as! [String: Any]
        let matrix = out["cosine"] as! [[Double]]
        let svg = try String(contentsOfFile: svgPath, encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<?xml"), svg)

        let doc = try SVGCells.parse(Data(svg.utf8))
        XCTAssertEqual(doc.cells.count, names.count * names.count, "one <rect class=\"cell\"> per cell")
        for n in names { XCTAssertGreaterThanOrEqual(doc.texts.filter { $0 == n }.count, 2, "\(n) labels a row and a column") }
        XCTAssertTrue(doc.hasGradient, "a colour-scale legend")
        for c in doc.cells {
            XCTAssertEqual(c.value, matrix[c.row][c.col], accuracy: 1e-6)
            XCTAssertTrue(doc.texts.contains(String(format: "%.2f", c.value)), "cell (\(c.row), \(c.col)) shows its value")
        }
        // Colours are monotone in the values: red minus blue never falls as the cosine rises.
        let sorted = doc.cells.sorted { $0.value < $1.value }
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            XCTAssertLessThanOrEqual(a.redMinusBlue, b.redMinusBlue, "\(a.value) → \(b.value)")
        }
        XCTAssertLessThan(sorted.first!.redMinusBlue, sorted.last!.redMinusBlue)
        let r = try pvec(["cos", "alpha", "beta", "--svg", svgPath])
        XCTAssertTrue(r.stderr.contains("Please pass --matrix with --svg."), r.stderr)
    }

    func json(_ args: [String]) throws -> Any {
        let r = try pvec(args + ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
    }
}

/// What the heat-map test reads from the SVG, with Foundation's XML parser (so the file must
/// be well-formed XML).
final class SVGCells: NSObject, XMLParserDelegate {
    struct Cell {
        var row: Int, col: Int, value: Double, fill: String
        var redMinusBlue: Int {
            let hex = Array(fill.dropFirst())
            let r = Int(String(hex[0..<2]), radix: 16)!, b = Int(String(hex[4..<6]), radix: 16)!
            return r - b
        }
    }

    var cells: [Cell] = []
    var texts: [String] = []
    var hasGradient = false
    private var text = ""

    static func parse(_ data: Data) throws -> SVGCells {
        let p = XMLParser(data: data)
        let d = SVGCells()
        p.delegate = d
        guard p.parse() else {
            throw NSError(domain: "svg", code: 1, userInfo: [NSLocalizedDescriptionKey: "not well-formed XML: \(p.parserError.map { "\($0)" } ?? "?")"])
        }
        return d
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes a: [String: String] = [:]) {
        if name == "rect", a["class"] == "cell" {
            cells.append(Cell(row: Int(a["data-row"]!)!, col: Int(a["data-col"]!)!, value: Double(a["data-value"]!)!,
                              fill: a["fill"]!))
        }
        if name == "linearGradient" { hasGradient = true }
        text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.append(text) }
        text = ""
    }
}
