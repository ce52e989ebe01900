import Foundation
import PVecModel
import PVecOps
import PVecStore
import PVecTensor

/// An ATTEMPT training request as the CLI gives it.
public struct AttemptRequest {
    public var task: TaskSpec
    public var train: Dataset
    /// Name of the mixture; the parts go to NAME.target, NAME.module (and NAME.init).
    public var name: String
    /// The frozen source prompts (names or ids), in attention order.
    public var sources: [String]
    /// Start P_t from this registry prompt or init; otherwise a seeded vocab-sample init.
    public var initSpec: String?
    public var initSeed: UInt64 = 0
    public var shots: Int?
    public var rank: Int = 100
    /// Peak learning rate of G; P_t uses `config.learningRate`.
    public var moduleLearningRate: Float = 0.1
    /// Seed of G's initial weights.
    public var moduleSeed: UInt64 = 0
    public var config = TrainConfig()

    public init(task: TaskSpec, train: Dataset, name: String, sources: [String]) {
        self.task = task
        self.train = train
        self.name = name
        self.sources = sources
    }
}

/// What `trainAttempt` stored.
public struct AttemptOutcome {
    public var initArtifact: Stored
    public var target: Stored
    public var module: Stored
    public var mixture: Stored
    public var result: AttemptResult
}

extension Registry {
    /// Trains ATTEMPT (see `AttemptTrainer`) and stores, with lineage:
    /// - `NAME.target` (prompt): P_t; parents its init (`init`) and every source (`source`);
    /// - `NAME.module` (module): W_down, W_up, ln_gain, ln_bias; parents every source (`source`);
    ///   the recipe lists the sources in attention order;
    /// - `NAME` (mixture, no blob): parents P_t (`tuned`), G (`module`), the sources (`source`) in
    ///   attention order. `pvec eval NAME` runs the instance-wise composition.
    ///
    /// Names, sources and the init are checked before training; nothing is stored on failure.
    public func trainAttempt(_ req: AttemptRequest, model: any BackboneModel, command: String,
                             progress: ((TrainProgress) -> Void)? = nil) throws -> AttemptOutcome {
        try validateNames([req.name, "\(req.name).target", "\(req.name).module", "\(req.name).init"])
        guard !req.sources.isEmpty else { throw MixtureError.badSources("ATTEMPT needs at least one --sources prompt") }
        guard req.rank > 0 else { throw MixtureError.badModule("--rank must be at least 1") }
        let backbone = model.fingerprint
        let sources = try resolvePrompts(req.sources, model: model, role: "an ATTEMPT source")
        let rows = sources[0].tensor.shape.rows
        var initial: Tensor
        var pending: PendingInit?
        var initID: ArtifactID?
        if let spec = req.initSpec {
            let i = try resolvePrompts([spec], model: model, role: "the target's init")[0]
            guard i.tensor.shape == sources[0].tensor.shape else {
                throw OpsError.shapeMismatch(spec, i.tensor.shape, sources[0].spec, sources[0].tensor.shape)
            }
            initial = i.tensor
            initID = i.id
        } else {
            pending = try pendingInit(rows: rows, seed: req.initSeed, model: model)
            initial = pending!.tensor
        }
        var trainSet = req.train
        if let k = req.shots { trainSet = try trainSet.fewShot(k, labels: req.task.labels.count, seed: req.config.seed) }
        let scorer = try LabelScorer(task: req.task, model: model, temperature: req.config.temperature, maxLength: req.config.maxLength)
        let module = AttemptModule(width: model.width, rank: req.rank, seed: req.moduleSeed)
        let trainer = AttemptTrainer(model: model, scorer: scorer, config: req.config, moduleLearningRate: req.moduleLearningRate)
        let result = try trainer.train(initial: initial, sources: sources.map(\.tensor), module: module, train: trainSet, progress: progress)
        guard result.target.isFinite else { throw TrainError.diverged(step: result.losses.count) }

        // Store: init, target, module, mixture.
        let initStored: Stored
        if let pending {
            initStored = try storeInit(pending, backbone: backbone, name: "\(req.name).init", command: command)
        } else {
            initStored = Stored(id: initID!, manifest: try manifest(initID!))
        }
        var params = trainer.config.recipeParams.merging(taskParams(req.task, req.train)) { a, _ in a }
        params["prompt_len"] = .int(Int64(rows))
        params["examples"] = .int(Int64(trainSet.examples.count))
        if let k = req.shots { params["shots"] = .int(Int64(k)) }
        params["module_lr"] = .double(Double(req.moduleLearningRate))
        params["rank"] = .int(Int64(req.rank))
        params["module_seed"] = .int(Int64(bitPattern: req.moduleSeed))
        params["temperature"] = .double(Double(module.temperature))
        params["sources"] = .array(sources.map { .string($0.id.hex) })
        let metrics: [String: JSONValue] = [
            "final_loss": .double(ClassificationMetrics.rounded(Double(result.losses.last ?? .nan))),
            "steps_run": .int(Int64(result.losses.count)),
        ]
        let sourceParents = sources.map { Parent(.source, $0.id) }
        let target = try store(result.target, kind: .prompt, recipe: Recipe(op: "attempt-target", params: params),
                               parents: [Parent(.`init`, initStored.id)] + sourceParents, backbone: backbone,
                               metrics: metrics, name: "\(req.name).target", command: command)
        let g = try storeModule(result.module.tensors, recipe: Recipe(op: "attempt-module", params: params),
                                parents: [Parent(.`init`, initStored.id)] + sourceParents, backbone: backbone, metrics: metrics,
                                name: "\(req.name).module", command: command)
        let mixParams: [String: JSONValue] = ["temperature": .double(Double(module.temperature)), "rank": .int(Int64(req.rank)),
                                              "pool": "max", "composition": "target+attention"]
        let mixture = try storeMixture(recipe: Recipe(op: "attempt", params: mixParams),
                                       parents: [Parent(.tuned, target.id), Parent(.module, g.id)] + sourceParents,
                                       backbone: backbone, metrics: metrics, name: req.name, command: command)
        return AttemptOutcome(initArtifact: initStored, target: target, module: g, mixture: mixture, result: result)
    }

    /// Mean attention of an ATTEMPT mixture over a dataset, per source and the target (last).
    public func attention(_ spec: String, task: TaskSpec, data: Dataset, model: any BackboneModel,
                          maxLength: Int = 128, temperature: Float = 0.05) throws -> (labels: [String], mean: [Double], metrics: ClassificationMetrics) {
        let o = try operand(spec)
        guard o.manifest.kind == .mixture, o.manifest.recipe.op == "attempt" else {
            throw OpsError.wrongKind(spec, o.manifest.kind, expected: "an ATTEMPT mixture (made by `pvec attempt`)")
        }
        let composite = try composer(forMixture: o.id)
        let scorer = try LabelScorer(task: task, model: model, temperature: temperature, maxLength: maxLength)
        let (metrics, mean) = try Evaluator(model: model, scorer: scorer, batchSize: 32, maxLength: maxLength)
            .evaluate(data, composer: composite)
        var labels: [String] = []
        for p in o.manifest.parents where p.role == .source {
            labels.append((try? names(of: p.id).first) ?? p.id.short)
        }
        let t = o.manifest.parents.first { $0.role == .tuned }!.id
        labels.append(((try? names(of: t).first) ?? t.short) + " (target)")
        return (labels, mean ?? [], metrics)
    }
}
