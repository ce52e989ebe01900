import Foundation
import PVecOps
import PVecStore
import PVecTensor

/// Prompt tuning on one task (`pvec train`): records the init, the tuned prompt and its task
/// vector with lineage: `NAME` (prompt), `NAME.init`, `NAME.tau`.
///
/// The prompt's recipe (`train`) holds the task and data hashes, every hyperparameter and the
/// seeds; its metrics hold the final loss and the best dev accuracy.
public struct PromptTuningRun: TrainingRun {
    public var task: TaskSpec
    public var train: Dataset
    public var dev: Dataset?
    public var name: String
    public var promptLength: Int = 20
    /// Start from this registry artifact (any init or prompt, e.g. the output of `add --onto`).
    public var initSpec: String?
    /// Otherwise a seeded `vocab-sample` init with this seed.
    public var initSeed: UInt64 = 0
    /// Class-balanced shots per label (nil: all training data).
    public var shots: Int?
    public var config = TrainConfig()
    public var checkpoint: URL?
    public var resume: URL?

    public init(task: TaskSpec, train: Dataset, name: String) {
        self.task = task
        self.train = train
        self.name = name
    }

    public var outputNames: [String] { [name, "\(name).init", "\(name).tau"] }
    public var inputNames: [String] { initSpec.map { [$0] } ?? [] }

    public func run(in session: TrainingSession) throws -> TrainOutcome {
        let model = try session.model(placement: config.placement)
        let start = try session.startingPoint(initSpec, expected: "an init or prompt to start from",
                                              rows: promptLength, seed: initSeed)
        let trainSet = try TrainingSession.fewShot([TaskData(task: task, train: train)], shots: shots, seed: config.seed)[0].train
        let scorer = try LabelScorer(task: task, model: model, temperature: config.temperature, maxLength: config.maxLength)
        let tuner = PromptTuner(model: model, scorer: scorer, config: config)
        let result = try tuner.train(initial: start.tensor, train: trainSet, dev: dev, checkpoint: checkpoint,
                                     resume: try resume.map { try Checkpoint.read($0) }, progress: session.progress)
        guard result.prompt.isFinite else { throw TrainError.diverged(step: result.stepsRun) }

        let initStored = try session.store(start, name: "\(name).init")
        let recipe = TrainRecipe(training: TrainingHyperparameters(tuner.config), task: TaskRecord(task, train),
                                 promptLength: start.tensor.shape.rows, examples: trainSet.examples.count,
                                 shots: shots, devSHA256: dev?.sha256)
        var metrics = TrainingSession.lossMetrics(result.losses)
        if let acc = result.bestDevAccuracy { metrics["dev_accuracy"] = .double(ClassificationMetrics.rounded(acc)) }
        let prompt = try session.store(result.prompt, recipe: recipe, parents: [Parent(.`init`, initStored.id)],
                                       metrics: metrics, name: name)
        let vector = try session.registry.makeVector(tuned: prompt.id.hex, init: initStored.id.hex, name: "\(name).tau",
                                                     command: session.command)
        return TrainOutcome(initArtifact: initStored, prompt: prompt, vector: vector, result: result)
    }
}

/// What a prompt-tuning run stored.
public struct TrainOutcome {
    public var initArtifact: Stored
    public var prompt: Stored
    public var vector: Stored
    public var result: TrainResult
}
