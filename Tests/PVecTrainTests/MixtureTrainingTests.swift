import Foundation
import PVecModel
import PVecTensor
import XCTest
@testable import PVecTrain

/// Short runs of each composition method on the real all-MiniLM-L6-v2 and the movie-small
/// fixture: the training-set loss (a fixed yardstick, unlike per-batch losses) goes down.
final class MixtureTrainingTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../fixtures/tasks/movie-small").standardized

    var model: BertEncoder!
    var task: TaskSpec!
    var train: Dataset!
    var scorer: LabelScorer!
    let maxLength = 32

    override func setUpWithError() throws {
        model = try BertEncoder()
        task = try TaskSpec.load(Self.fixtures.appendingPathComponent("task.json"))
        train = try Dataset.load(Self.fixtures.appendingPathComponent("train.jsonl"), task: task).prefix(24)
        scorer = try LabelScorer(task: task, model: model, temperature: 0.05, maxLength: maxLength)
    }

    func config(steps: Int, lr: Float) -> TrainConfig {
        var c = TrainConfig()
        c.steps = steps
        c.batchSize = 8
        c.learningRate = lr
        c.maxLength = maxLength
        c.seed = 1
        return c
    }

    func rows(_ m: Int, seed: UInt64) -> Tensor {
        var g = SplitMix64(seed: seed)
        let table = model.wordEmbeddings(rows: 1000..<2000)
        return Tensor(shape: [m, 384], scalars: (0..<m).flatMap { _ in
            let r = Int(g.nextBelow(1000))
            return Array(table.scalars[(r * 384)..<((r + 1) * 384)])
        })
    }

    /// Mean loss over the training set with one prompt per example.
    func fullLoss(_ prompts: (Int) -> Tensor) throws -> Float {
        let batch = train.examples.map { model.tokenize($0.textA, pair: $0.textB, maxLength: maxLength) }
        let f = try model.forward(batch, prompts: batch.indices.map(prompts), normalize: true)
        return try scorer.lossAndGradient(f, labels: train.examples.map(\.label)).loss
    }

    func testAttemptLowersTheLoss() throws {
        let sources = [rows(4, seed: 1), rows(4, seed: 2)]
        let module = AttemptModule(width: 384, rank: 16, seed: 3)
        let target = rows(4, seed: 4)
        func loss(_ t: Tensor, _ g: AttemptModule) throws -> Float {
            let batch = train.examples.map { model.tokenize($0.textA, pair: $0.textB, maxLength: maxLength) }
            var cache: [Int: [Float]] = [:]
            let (p, _) = try AttemptComposite(target: t, sources: sources, module: g).prompts(for: batch, model: model, cache: &cache)
            return try fullLoss { p[$0] }
        }
        let before = try loss(target, module)
        let r = try AttemptTrainer(model: model, scorer: scorer, config: config(steps: 6, lr: 0.05), moduleLearningRate: 0.05)
            .train(initial: target, sources: sources, module: module, train: train)
        let after = try loss(r.target, r.module)
        print("ATTEMPT training-set loss \(before) -> \(after)")
        XCTAssertLessThan(after, before * 0.9)
    }

    func testAMPLowersTheLoss() throws {
        let tasks = [TaskData(task: task, train: train), TaskData(task: TaskSpec(name: "copy", labels: task.labels), train: train)]
        let sources = [rows(4, seed: 5), rows(4, seed: 6)]
        let module = DAMModule(width: 384, keyWidth: 16, pooling: .mean, seed: 1)
        let before = try fullLoss { _ in module.forward(sources: sources).targets[0] }
        let r = try DAMTrainer(model: model, config: config(steps: 6, lr: 0.01), mixingCap: 100)
            .train(tasks: tasks, sources: sources, module: module)
        let after = try fullLoss { _ in r.targets[0] }
        print("AMP training-set loss (task 0) \(before) -> \(after)")
        XCTAssertLessThan(after, before * 0.9)
    }

    func testComPTLowersTheLoss() throws {
        let tasks = [TaskData(task: task, train: train)]
        let sources = [rows(2, seed: 7), rows(2, seed: 8)]
        let privates = [rows(2, seed: 9)]
        let module = ComPTModule(width: 384, tasks: 1, sources: 2, composition: .ssum, seed: 1)
        let before = try fullLoss { _ in module.forward(sources: sources, privates: privates, weights: module.inferenceWeights, tau: nil).prompts[0] }
        let r = try ComPTTrainer(model: model, config: config(steps: 6, lr: 1), rates: ComPTRates(), mixingCap: 100)
            .train(tasks: tasks, sources: sources, privates: privates, module: module)
        let after = try fullLoss { _ in r.composed[0] }
        print("ComPT (ssum) training-set loss \(before) -> \(after)")
        // Trained with sampled (Relaxed Bernoulli) weights, scored with softmax ones: a smaller gain.
        XCTAssertLessThan(after, before * 0.95)
    }

    func testMetaInitLowersTheLoss() throws {
        let tasks = [TaskData(task: task, train: train)]
        let start = rows(4, seed: 10)
        var c = MetaInitConfig()
        c.method = .fomaml
        c.outerSteps = 4
        c.innerSteps = 1
        c.batchSize = 8
        c.maxLength = maxLength
        c.outerLearningRate = 0.05
        let before = try fullLoss { _ in start }
        let r = try MetaInitTrainer(model: model, config: c).train(initial: start, tasks: tasks)
        let after = try fullLoss { _ in r.prompt }
        print("meta-init (fomaml) training-set loss \(before) -> \(after)")
        XCTAssertLessThan(after, before)
    }
}
