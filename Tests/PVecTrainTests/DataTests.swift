import Foundation
import XCTest
@testable import PVecTrain

/// Task files, JSONL rows (with line numbers on errors) and few-shot sampling.
final class DataTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvec-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func file(_ name: String, _ text: String) throws -> URL {
        let u = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: u)
        return u
    }

    var task: TaskSpec {
        TaskSpec(name: "t", labels: [.init(name: "neg", verbalizer: "bad"), .init(name: "pos", verbalizer: "good")])
    }

    func testTaskFileForms() throws {
        let t = try TaskSpec.load(try file("t.json", #"{"name":"x","labels":["a",{"name":"b","verbalizer":"B!"}]}"#))
        XCTAssertEqual(t.labels.map(\.name), ["a", "b"])
        XCTAssertEqual(t.labels.map(\.verbalizer), ["a", "B!"])
        XCTAssertEqual(t.sha256.count, 64)
        XCTAssertThrowsError(try TaskSpec.load(try file("u.json", #"{"labels":["only"]}"#))) { e in
            XCTAssertTrue("\(e.localizedDescription)".contains("at least two"))
        }
        XCTAssertThrowsError(try TaskSpec.load(try file("v.json", #"{"labels":["a","a"]}"#)))
        XCTAssertThrowsError(try TaskSpec.load(try file("w.json", "not json")))
    }

    func testRowsPairsAndLabelsByNameOrIndex() throws {
        let d = try Dataset.load(try file("d.jsonl", """
        {"text": "fine", "label": "pos"}

        {"text_a": "a", "text_b": "b", "label": 0}\r
        """), task: task)
        XCTAssertEqual(d.examples, [Example(textA: "fine", label: 1), Example(textA: "a", textB: "b", label: 0)])
    }

    func testBadRowsNameTheLine() throws {
        let cases: [(String, String)] = [
            ("{\"text\": \"ok\", \"label\": \"pos\"}\n{\"text\": \"x\"}\n", "d.jsonl:2: missing \"label\""),
            ("{\"text\": \"ok\", \"label\": \"pos\"}\n\n{broken\n", "d.jsonl:3: not a JSON object"),
            ("{\"label\": \"pos\"}\n", "d.jsonl:1: needs \"text\""),
            ("{\"text\": \"x\", \"label\": \"maybe\"}\n", "d.jsonl:1: label \"maybe\" is not one of the task's labels (neg, pos)"),
            ("{\"text\": \"x\", \"label\": 7}\n", "d.jsonl:1: label 7"),
            ("{\"text_a\": \"x\", \"text_b\": 3, \"label\": 1}\n", "d.jsonl:1: \"text_b\" must be a string"),
        ]
        for (text, want) in cases {
            XCTAssertThrowsError(try Dataset.load(try file("d.jsonl", text), task: task)) { e in
                XCTAssertTrue(e.localizedDescription.hasPrefix(want), "\(e.localizedDescription) should start with \(want)")
            }
        }
    }

    func testFewShotIsBalancedSeededAndWithoutReplacement() throws {
        var rows = ""
        for i in 0..<40 { rows += "{\"text\": \"t\(i)\", \"label\": \(i % 3 == 0 ? 1 : 0)}\n" }
        let d = try Dataset.load(try file("d.jsonl", rows), task: task)
        let a = try d.fewShot(5, labels: 2, seed: 3)
        XCTAssertEqual(a.examples.filter { $0.label == 0 }.count, 5)
        XCTAssertEqual(a.examples.filter { $0.label == 1 }.count, 5)
        XCTAssertEqual(Set(a.examples.map(\.textA)).count, 10)
        XCTAssertEqual(try d.fewShot(5, labels: 2, seed: 3).examples, a.examples)
        XCTAssertNotEqual(try d.fewShot(5, labels: 2, seed: 4).examples, a.examples)
        XCTAssertThrowsError(try d.fewShot(15, labels: 2, seed: 3))
    }

    func testMetrics() {
        let m = ClassificationMetrics(predictions: [0, 0, 1, 1, 1], gold: [0, 1, 1, 1, 0], labels: 2)
        XCTAssertEqual(m.accuracy, 0.6, accuracy: 1e-12)
        // label 0: P = 1/2, R = 1/2, F1 = .5; label 1: P = 2/3, R = 2/3, F1 = 2/3
        XCTAssertEqual(m.macroF1, (0.5 + 2.0 / 3.0) / 2, accuracy: 1e-12)
        XCTAssertEqual(m.perLabel[1].gold, 3)
        XCTAssertEqual(m.perLabel[1].predicted, 3)
        XCTAssertEqual(m.perLabel[1].correct, 2)
    }

    func testBatchOrderIsAPermutationPerEpochAndSeeded() {
        let a = BatchOrder.permutation(epoch: 0, n: 50, seed: 9)
        XCTAssertEqual(a.sorted(), Array(0..<50))
        XCTAssertEqual(BatchOrder.permutation(epoch: 0, n: 50, seed: 9), a)
        XCTAssertNotEqual(BatchOrder.permutation(epoch: 1, n: 50, seed: 9), a)
    }
}
