import Foundation
import PVecModel
import PVecOps
import PVecStore
import PVecTensor

/// A training request as the CLI gives it.
public struct TrainRequest {
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
}

/// What `trainPrompt` stored.
public struct TrainOutcome {
    public var initArtifact: Stored
    public var prompt: Stored
    public var vector: Stored
    public var result: TrainResult
}

extension Registry {
    /// Trains a soft prompt and records the init, the tuned prompt and its task vector with
    /// lineage: `NAME` (prompt), `NAME.init`, `NAME.tau`.
    ///
    /// The prompt's recipe holds the task and data hashes, every hyperparameter and the seeds;
    /// its metrics hold the final loss and the best dev accuracy.
    public func trainPrompt(_ req: TrainRequest, model: any BackboneModel, command: String,
                            progress: ((TrainProgress) -> Void)? = nil) throws -> TrainOutcome {
        try RefName.validate(req.name)
        let backbone = model.fingerprint
        // 1. The init: a registry artifact, or a seeded vocab-sample recipe.
        let initStored: Stored
        if let spec = req.initSpec {
            let o = try operand(spec)
            guard o.manifest.kind == .`init` || o.manifest.kind == .prompt else {
                throw OpsError.wrongKind(spec, o.manifest.kind, expected: "an init or prompt to start from")
            }
            guard let b = o.manifest.backbone, b.isCompatible(with: backbone) else {
                throw OpsError.backboneMismatch("\(spec) (\(o.manifest.backbone?.description ?? "no backbone"))", "the model (\(backbone))")
            }
            initStored = Stored(id: o.id, manifest: o.manifest, name: nil, version: nil)
        } else {
            let recipe = InitRecipe(method: .vocabSample, rows: req.promptLength, width: model.width, seed: req.initSeed)
            initStored = try createInit(recipe, backbone: backbone, name: "\(req.name).init", command: command,
                                        embeddingTable: { _ in model.wordEmbeddings(rows: 0..<min(recipe.firstK, model.vocabularySize)) })
        }
        let initial = try tensor(initStored.id)

        // 2. Data: few-shot sample if asked.
        var trainSet = req.train
        if let k = req.shots {
            trainSet = try trainSet.fewShot(k, labels: req.task.labels.count, seed: req.config.seed)
        }
        let scorer = try LabelScorer(task: req.task, model: model, temperature: req.config.temperature,
                                     maxLength: req.config.maxLength)
        let tuner = PromptTuner(model: model, scorer: scorer, config: req.config)
        var params = tuner.config.recipeParams
        let resume = try req.resume.map { try Checkpoint.read($0) }
        let result = try tuner.train(initial: initial, train: trainSet, dev: req.dev, checkpoint: req.checkpoint,
                                     resume: resume, progress: progress)
        guard result.prompt.isFinite else { throw TrainError.diverged(step: result.stepsRun) }

        // 3. Record the prompt and its vector.
        params["task"] = .string(req.task.name)
        params["task_sha256"] = .string(req.task.sha256)
        params["data_sha256"] = .string(req.train.sha256)
        params["prompt_len"] = .int(Int64(initial.shape.rows))
        params["examples"] = .int(Int64(trainSet.examples.count))
        if let k = req.shots { params["shots"] = .int(Int64(k)) }
        if let dev = req.dev { params["dev_sha256"] = .string(dev.sha256) }
        var metrics: [String: JSONValue] = [
            "final_loss": .double(ClassificationMetrics.rounded(Double(result.losses.last ?? .nan))),
            "steps_run": .int(Int64(result.stepsRun)),
        ]
        if let acc = result.bestDevAccuracy { metrics["dev_accuracy"] = .double(ClassificationMetrics.rounded(acc)) }
        let prompt = try store(result.prompt, kind: .prompt, recipe: Recipe(op: "train", params: params),
                               parents: [Parent(.`init`, initStored.id)], backbone: backbone, metrics: metrics,
                               name: req.name, command: command)
        let vector = try makeVector(tuned: prompt.id.hex, init: initStored.id.hex, name: "\(req.name).tau", command: command)
        return TrainOutcome(initArtifact: initStored, prompt: prompt, vector: vector, result: result)
    }

    /// Evaluates a prompt (or no prompt: the zero-shot baseline) and stores an `evaluation`
    /// artifact linked to it, with the task and data hashes in its recipe.
    public func evaluate(_ spec: String?, task: TaskSpec, data: Dataset, model: any BackboneModel,
                         temperature: Float = 0.05, maxLength: Int = 128, command: String,
                         progress: ((Int) -> Void)? = nil) throws -> (Stored, ClassificationMetrics) {
        var prompt: Tensor?
        var parents: [Parent] = []
        var composite: AttemptComposite?
        if let spec {
            let o = try operand(spec)
            if o.manifest.kind == .mixture {
                // A mixture (ATTEMPT) makes one prompt per input: run its composition.
                composite = try composer(forMixture: o.id)
            } else if !(o.manifest.kind == .prompt || o.manifest.kind == .`init`) {
                throw TrainError.notEvaluable("\(spec) is a \(o.manifest.kind.rawValue), not a prompt; evaluate a prompt made from it, e.g. `pvec add \(spec) --onto INIT --name P`")
            }
            if let b = o.manifest.backbone, !b.isCompatible(with: model.fingerprint) {
                throw OpsError.backboneMismatch("\(spec) (\(b))", "the model (\(model.fingerprint))")
            }
            if composite == nil { prompt = try tensor(o.id) }
            parents = [Parent(.evaluated, o.id)]
        }
        let scorer = try LabelScorer(task: task, model: model, temperature: temperature, maxLength: maxLength)
        let evaluator = Evaluator(model: model, scorer: scorer, batchSize: 32, maxLength: maxLength)
        let metrics = try composite.map { try evaluator.evaluate(data, composer: $0, progress: progress).metrics }
            ?? evaluator.evaluate(data, prompt: prompt, progress: progress)
        let params: [String: JSONValue] = [
            "task": .string(task.name), "task_sha256": .string(task.sha256),
            "data": .string(data.source), "data_sha256": .string(data.sha256),
            "n": .int(Int64(data.examples.count)), "temperature": .double(Double(temperature)),
            "max_length": .int(Int64(maxLength)), "prompt": .bool(spec != nil),
        ]
        let m = Manifest(kind: .evaluation, blob: nil, shape: nil, backbone: model.fingerprint, parents: parents,
                         recipe: Recipe(op: "eval", params: params), metrics: metrics.json(labelNames: task.labels.map(\.name)))
        let id = try writeManifest(m)
        return (Stored(id: id, manifest: m, name: nil, version: nil), metrics)
    }
}
