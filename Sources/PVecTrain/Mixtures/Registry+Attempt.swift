import Foundation
import PVecModel
import PVecOps
import PVecStore
import PVecTensor

/// An ATTEMPT training request as the CLI gives it.
public struct AttemptRequest {
    /// One task (the usual case) or several trained together with one shared module.
    public var tasks: [TaskData]
    /// Name of the mixture. One task: the parts go to NAME.target, NAME.module (and NAME.init).
    /// Several: NAME.module is shared, and each task gets NAME.<task>, NAME.<task>.target (and
    /// NAME.<task>.init).
    public var name: String
    /// The frozen source prompts (names or ids), in attention order.
    public var sources: [String]
    /// Start every P_t from this registry prompt or init; otherwise a seeded vocab-sample init
    /// (seed `initSeed`, plus the task's index when there are several).
    public var initSpec: String?
    public var initSeed: UInt64 = 0
    /// Start G from this stored ATTEMPT module (e.g. one trained on the source tasks: the paper's
    /// pre-trained attention); otherwise a fresh seeded module of width `rank`.
    public var moduleSpec: String?
    public var shots: Int?
    public var rank: Int = 100
    /// Peak learning rate of G; the P_t use `config.learningRate` (embedding-RMS units).
    public var moduleLearningRate: Float = 0.1
    /// Seed of G's initial weights.
    public var moduleSeed: UInt64 = 0
    /// Per-task cap of the examples-proportional mixing (several tasks; 0: none).
    public var mixingCap: Int = 1000
    public var config = TrainConfig()

    public init(tasks: [TaskData], name: String, sources: [String]) {
        self.tasks = tasks
        self.name = name
        self.sources = sources
    }

    public init(task: TaskSpec, train: Dataset, name: String, sources: [String]) {
        self.init(tasks: [TaskData(task: task, train: train)], name: name, sources: sources)
    }
}

/// What `trainAttempt` stored for one task.
public struct AttemptTaskOutcome {
    public var initArtifact: Stored
    public var target: Stored
    public var mixture: Stored
}

/// What `trainAttempt` stored.
public struct AttemptOutcome {
    /// Per task, in task order.
    public var tasks: [AttemptTaskOutcome]
    public var module: Stored
    public var result: AttemptResult

    public var initArtifact: Stored { tasks[0].initArtifact }
    public var target: Stored { tasks[0].target }
    public var mixture: Stored { tasks[0].mixture }
}

extension Registry {
    /// Trains ATTEMPT (see `AttemptTrainer`) and stores, with lineage, per task:
    /// - the target prompt (prompt): P_t; parents its init (`init`) and every source (`source`);
    /// - the mixture (no blob): parents P_t (`tuned`), G (`module`), the sources (`source`) in
    ///   attention order. `pvec eval` runs the instance-wise composition;
    ///
    /// and once the module G (module): W_down, W_up, ln_gain, ln_bias; parents every task's init
    /// (`init`), the module it started from (`module`, with `moduleSpec`) and every source
    /// (`source`); the recipe lists the sources in attention order.
    ///
    /// Names, sources, inits and the start module are checked before training; nothing is stored
    /// on failure.
    public func trainAttempt(_ req: AttemptRequest, model: any BackboneModel, command: String,
                             progress: ((TrainProgress) -> Void)? = nil) throws -> AttemptOutcome {
        let T = req.tasks.count
        guard T > 0 else { throw MixtureError.badTasks("ATTEMPT needs a task") }
        let taskNames = req.tasks.map(\.task.name)
        guard Set(taskNames).count == T else {
            throw MixtureError.badTasks("the tasks must have distinct names; got \(taskNames.joined(separator: ", "))")
        }
        let prefixes = T == 1 ? [req.name] : taskNames.map { "\(req.name).\($0)" }
        try validateNames([req.name, "\(req.name).module"] + prefixes.flatMap { [$0, "\($0).target", "\($0).init"] })
        guard !req.sources.isEmpty else { throw MixtureError.badSources("ATTEMPT needs at least one --sources prompt") }
        let backbone = model.fingerprint
        let sources = try resolvePrompts(req.sources, model: model, role: "an ATTEMPT source")
        let rows = sources[0].tensor.shape.rows
        var inits: [(tensor: Tensor, id: ArtifactID?, pending: PendingInit?)] = []
        if let spec = req.initSpec {
            let i = try resolvePrompts([spec], model: model, role: "the target's init")[0]
            guard i.tensor.shape == sources[0].tensor.shape else {
                throw OpsError.shapeMismatch(spec, i.tensor.shape, sources[0].spec, sources[0].tensor.shape)
            }
            inits = Array(repeating: (i.tensor, i.id, nil), count: T)
        } else {
            for t in 0..<T {
                let p = try pendingInit(rows: rows, seed: req.initSeed &+ UInt64(T == 1 ? 0 : t), model: model)
                inits.append((p.tensor, nil, p))
            }
        }
        let module: AttemptModule
        var startModule: ArtifactID?
        if let spec = req.moduleSpec {
            let o = try storedModule(spec, op: "attempt-module", what: "an ATTEMPT module (NAME.module of `pvec attempt`)", backbone: backbone)
            let temperature = Float(o.manifest.recipe.params["temperature"]?.doubleValue ?? 0)
            module = try AttemptModule(tensors: o.tensors, temperature: temperature > 0 ? temperature : Float(model.width) * Float(M_E))
            guard module.width == model.width else {
                throw MixtureError.badModule("\(spec) is \(module.width) wide; the model is \(model.width)")
            }
            startModule = o.id
        } else {
            guard req.rank > 0 else { throw MixtureError.badModule("--rank must be at least 1") }
            module = AttemptModule(width: model.width, rank: req.rank, seed: req.moduleSeed)
        }
        var tasks = req.tasks
        if let k = req.shots {
            for i in tasks.indices { tasks[i].train = try tasks[i].train.fewShot(k, labels: tasks[i].task.labels.count, seed: req.config.seed) }
        }
        let trainer = AttemptTrainer(model: model, config: req.config, moduleLearningRate: req.moduleLearningRate)
        let result = T == 1
            ? try trainer.train(task: tasks[0], initial: inits[0].tensor, sources: sources.map(\.tensor), module: module, progress: progress)
            : try trainer.train(tasks: tasks, initials: inits.map(\.tensor), sources: sources.map(\.tensor), module: module,
                                mixingCap: req.mixingCap, progress: progress)
        guard result.targets.allSatisfy(\.isFinite) else { throw TrainError.diverged(step: result.losses.count) }

        // Store: inits, module, then per task the target and the mixture.
        var initStored: [Stored] = []
        for (t, i) in inits.enumerated() {
            if let pending = i.pending {
                initStored.append(try storeInit(pending, backbone: backbone, name: "\(prefixes[t]).init", command: command))
            } else {
                initStored.append(Stored(id: i.id!, manifest: try manifest(i.id!)))
            }
        }
        var params = trainer.config.recipeParams
        params["prompt_len"] = .int(Int64(rows))
        if let k = req.shots { params["shots"] = .int(Int64(k)) }
        params["module_lr"] = .double(Double(req.moduleLearningRate))
        params["rank"] = .int(Int64(module.rank))
        if startModule == nil { params["module_seed"] = .int(Int64(bitPattern: req.moduleSeed)) }
        params["temperature"] = .double(Double(module.temperature))
        params["sources"] = .array(sources.map { .string($0.id.hex) })
        var moduleParams = params
        if T == 1 {
            moduleParams.merge(taskParams(req.tasks[0].task, req.tasks[0].train)) { a, _ in a }
            moduleParams["examples"] = .int(Int64(tasks[0].train.examples.count))
        } else {
            moduleParams["tasks"] = .array(req.tasks.map { .object(taskParams($0.task, $0.train)) })
            moduleParams["mixing_cap"] = .int(Int64(req.mixingCap))
        }
        let metrics: [String: JSONValue] = [
            "final_loss": .double(ClassificationMetrics.rounded(Double(result.losses.last ?? .nan))),
            "steps_run": .int(Int64(result.losses.count)),
        ]
        let sourceParents = sources.map { Parent(.source, $0.id) }
        var initParents: [Parent] = []
        for s in initStored where !initParents.contains(where: { $0.id == s.id }) { initParents.append(Parent(.`init`, s.id)) }
        let g = try storeModule(result.module.tensors, recipe: Recipe(op: "attempt-module", params: moduleParams),
                                parents: initParents + (startModule.map { [Parent(.module, $0)] } ?? []) + sourceParents,
                                backbone: backbone, metrics: metrics, name: "\(req.name).module", command: command)
        var outcomes: [AttemptTaskOutcome] = []
        for t in 0..<T {
            var p = params.merging(taskParams(req.tasks[t].task, req.tasks[t].train)) { a, _ in a }
            p["examples"] = .int(Int64(tasks[t].train.examples.count))
            if T > 1 { p["tasks_trained_together"] = .array(taskNames.map { .string($0) }) }
            let target = try store(result.targets[t], kind: .prompt, recipe: Recipe(op: "attempt-target", params: p),
                                   parents: [Parent(.`init`, initStored[t].id)] + sourceParents, backbone: backbone,
                                   metrics: metrics, name: "\(prefixes[t]).target", command: command)
            let mixParams: [String: JSONValue] = ["temperature": .double(Double(module.temperature)), "rank": .int(Int64(module.rank)),
                                                  "pool": "max", "composition": "target+attention"]
            let mixture = try storeMixture(recipe: Recipe(op: "attempt", params: mixParams),
                                           parents: [Parent(.tuned, target.id), Parent(.module, g.id)] + sourceParents,
                                           backbone: backbone, metrics: metrics, name: prefixes[t], command: command)
            outcomes.append(AttemptTaskOutcome(initArtifact: initStored[t], target: target, mixture: mixture))
        }
        return AttemptOutcome(tasks: outcomes, module: g, result: result)
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
