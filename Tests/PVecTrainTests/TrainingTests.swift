import Foundation
import PVecModel
import PVecTensor
import XCTest
@testable import PVecTrain

/// Short prompt-tuning runs on the real all-MiniLM-L6-v2 (fetched by scripts/fetch-model).
final class TrainingTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../fixtures/tasks/movie-small").standardized

    var model: BertEncoder!
    var task: TaskSpec!
    var train: Dataset!

    override func setUpWithError() throws {
        model = try BertEncoder()
        task = try TaskSpec.load(Self.fixtures.appendingPathComponent("task.json"))
        train = try Dataset.load(Self.fixtures.appendingPathComponent("train.jsonl"), task: task)
    }

    func config(steps: Int) -> TrainConfig {
        var c = TrainConfig()
        c.steps = steps
        c.batchSize = 8
        c.learningRate = 1
        c.maxLength = 48
        c.seed = 1
        return c
    }

    func initPrompt() -> Tensor {
        var g = SplitMix64(seed: 3)
        let table = model.wordEmbeddings(rows: 1000..<2000)
        return Tensor(shape: [4, 384], scalars: (0..<4).flatMap { _ in
            let r = Int(g.nextBelow(1000))
            return Array(table.scalars[(r * 384)..<((r + 1) * 384)])
        })
    }

    /// Mean loss over the whole training set, a fixed yardstick unlike per-batch losses.
    func fullLoss(_ scorer: LabelScorer, _ prompt: Tensor) throws -> Float {
        let batch = train.examples.map { model.tokenize($0.textA, pair: $0.textB, maxLength: 48) }
        let f = try model.forward(batch, prompt: prompt, normalize: true)
        return try scorer.lossAndGradient(f, labels: train.examples.map(\.label)).loss
    }

    func testTrainingLowersTheLoss() throws {
        let scorer = try LabelScorer(task: task, model: model, temperature: 0.05, maxLength: 48)
        let p0 = initPrompt()
        let before = try fullLoss(scorer, p0)
        let r = try PromptTuner(model: model, scorer: scorer, config: config(steps: 12)).train(initial: p0, train: train)
        let after = try fullLoss(scorer, r.prompt)
        print("training-set loss \(before) -> \(after) in \(r.stepsRun) steps")
        XCTAssertEqual(r.losses.count, 12)
        XCTAssertLessThan(after, before * 0.9)
    }

    func testSameSeedSameBitsAndResumeContinuesExactly() throws {
        let scorer = try LabelScorer(task: task, model: model, temperature: 0.05, maxLength: 48)
        let p0 = initPrompt()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvec-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("run.ckpt"), mid = dir.appendingPathComponent("mid.ckpt")
        let tuner = PromptTuner(model: model, scorer: scorer, config: config(steps: 6))
        let full = try tuner.train(initial: p0, train: train, checkpoint: ckpt, checkpointEvery: 3) { p in
            if p.step == 3 { try? FileManager.default.copyItem(at: ckpt, to: mid) }
        }
        let again = try tuner.train(initial: p0, train: train)
        XCTAssertEqual(again.losses, full.losses)
        XCTAssertEqual(again.prompt, full.prompt)
        let resumed = try tuner.train(initial: p0, train: train, resume: try Checkpoint.read(mid))
        XCTAssertEqual(resumed.stepsRun, 6)
        XCTAssertEqual(resumed.losses, full.losses)
        XCTAssertEqual(resumed.prompt, full.prompt, "resumed run must end with the same bits")
        XCTAssertThrowsError(try Checkpoint.read(dir.appendingPathComponent("nothing")))
    }

    func testEarlyStoppingKeepsTheBestDevPrompt() throws {
        let scorer = try LabelScorer(task: task, model: model, temperature: 0.05, maxLength: 48)
        let dev = try Dataset.load(Self.fixtures.appendingPathComponent("test.jsonl"), task: task).prefix(24)
        var c = config(steps: 40)
        c.evalEvery = 2
        c.patience = 2
        c.learningRate = 60  // far too high: dev accuracy stops improving quickly
        var devSeen: [Double] = []
        let r = try PromptTuner(model: model, scorer: scorer, config: c).train(initial: initPrompt(), train: train, dev: dev) {
            if let a = $0.devAccuracy { devSeen.append(a) }
        }
        XCTAssertEqual(r.bestDevAccuracy, devSeen.max())
        if r.stoppedEarly { XCTAssertLessThan(r.stepsRun, 40) }
        let ev = Evaluator(model: model, scorer: scorer, batchSize: 32, maxLength: 48)
        XCTAssertEqual(try ev.evaluate(dev, prompt: r.prompt).accuracy, r.bestDevAccuracy!)
    }
}
