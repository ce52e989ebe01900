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
        let r = try AttemptTrainer(model: model, config: config(steps: 6, lr: 0.05), moduleLearningRate: 0.05)
            .train(task: TaskData(task: task, train: train), initial: target, sources: sources, module: module)
        let after = try loss(r.target, r.module)
        print("ATTEMPT training-set loss \(before) -> \(after)")
        XCTAssertLessThan(after, before * 0.9)
    }

    func testMultiTaskAttemptLowersEveryTasksLoss() throws {
        let copy = TaskData(task: TaskSpec(name: "copy", labels: task.labels), train: train)
        let sources = [rows(4, seed: 1), rows(4, seed: 2)]
        let module = AttemptModule(width: 384, rank: 16, seed: 3)
        let targets = [rows(4, seed: 4), rows(4, seed: 5)]
        func loss(_ t: Tensor, _ g: AttemptModule) throws -> Float {
            let batch = train.examples.map { model.tokenize($0.textA, pair: $0.textB, maxLength: maxLength) }
            var cache: [Int: [Float]] = [:]
            let (p, _) = try AttemptComposite(target: t, sources: sources, module: g).prompts(for: batch, model: model, cache: &cache)
            return try fullLoss { p[$0] }
        }
        let r = try AttemptTrainer(model: model, config: config(steps: 8, lr: 0.3), moduleLearningRate: 0.05)
            .train(tasks: [TaskData(task: task, train: train), copy], initials: targets, sources: sources, module: module, mixingCap: 100)
        XCTAssertEqual(r.targets.count, 2)
        for t in 0..<2 {
            let before = try loss(targets[t], module), after = try loss(r.targets[t], r.module)
            print("multi-task ATTEMPT, task \(t): training-set loss \(before) -> \(after)")
            XCTAssertLessThan(after, before * 0.95)
        }
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
        c.outerLearningRate = 0.3  // embedding-RMS units, as plain prompt tuning's --lr
        let before = try fullLoss { _ in start }
        let r = try MetaInitTrainer(model: model, config: c).train(initial: start, tasks: tasks)
        let after = try fullLoss { _ in r.prompt }
        print("meta-init (fomaml) training-set loss \(before) -> \(after)")
        XCTAssertLessThan(after, before)
    }

    // MARK: - learning-rate units

    /// Largest |after − before| over the entries: after one AdamW step from zero moments, every
    /// entry with a non-zero gradient moves by ≈ the peak rate (m̂/√v̂ = ±1).
    func maxStep(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

    func oneStep(lr: Float) -> TrainConfig {
        var c = config(steps: 1, lr: lr)
        c.warmupFraction = 0
        c.weightDecay = 0
        c.clipNorm = 0
        return c
    }

    /// Prompt-space tensors step in units of the embedding RMS, module weights in plain units,
    /// in every trainer (a mixture trainer using raw rates for its prompts would fail here).
    func testPromptTensorsStepInEmbeddingUnitsModulesInPlainUnits() throws {
        let scale = model.embeddingRMS
        XCTAssertEqual(scale, 0.054, accuracy: 0.005, "all-MiniLM-L6-v2's embedding RMS")
        // ATTEMPT: P_t at lr·scale, G at the module rate.
        let sources = [rows(4, seed: 1), rows(4, seed: 2)]
        let module = AttemptModule(width: 384, rank: 16, seed: 3)
        let target = rows(4, seed: 4)
        let a = try AttemptTrainer(model: model, config: oneStep(lr: 0.3), moduleLearningRate: 0.02)
            .train(task: TaskData(task: task, train: train), initial: target, sources: sources, module: module)
        XCTAssertEqual(maxStep(a.target.scalars, target.scalars), 0.3 * scale, accuracy: 0.3 * scale * 1e-3)
        // (G's gradients are small at the start, so Adam's ε shows in the third digit.)
        XCTAssertEqual(maxStep(a.module.wUp, module.wUp), 0.02, accuracy: 0.02 * 0.03)
        // ComPT: sources and privates at their rates·scale, their encoders at the rates unscaled.
        var rates = ComPTRates()
        rates.sources = 0.5
        rates.privates = 0.2
        rates.router = 0.1
        let cm = ComPTModule(width: 384, tasks: 1, sources: 2, composition: .ssum, seed: 1)
        let cs = [rows(2, seed: 7), rows(2, seed: 8)], cp = [rows(2, seed: 9)]
        let c = try ComPTTrainer(model: model, config: oneStep(lr: 1), rates: rates, mixingCap: 100)
            .train(tasks: [TaskData(task: task, train: train)], sources: cs, privates: cp, module: cm)
        XCTAssertEqual(maxStep(c.sources.flatMap(\.scalars), cs.flatMap(\.scalars)), 0.5 * scale, accuracy: 0.5 * scale * 1e-3)
        XCTAssertEqual(maxStep(c.privates[0].scalars, cp[0].scalars), 0.2 * scale, accuracy: 0.2 * scale * 1e-3)
        XCTAssertEqual(maxStep(c.module.sourceEncoder.w1, cm.sourceEncoder.w1), 0.5, accuracy: 0.5 * 0.03)
        XCTAssertEqual(maxStep(c.module.privateEncoder.w1, cm.privateEncoder.w1), 0.2, accuracy: 0.2 * 0.03)
        // FOMAML: the outer AdamW rate is in embedding units too.
        var m = MetaInitConfig()
        m.method = .fomaml
        m.outerSteps = 1
        m.innerSteps = 1
        m.maxLength = maxLength
        m.outerLearningRate = 0.3
        m.clipNorm = 0
        let start = rows(4, seed: 10)
        let f = try MetaInitTrainer(model: model, config: m).train(initial: start, tasks: [TaskData(task: task, train: train)])
        XCTAssertEqual(maxStep(f.prompt.scalars, start.scalars), 0.3 * scale, accuracy: 0.3 * scale * 1e-3)
    }
}
