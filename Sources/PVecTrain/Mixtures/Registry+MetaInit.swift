import Foundation
import PVecModel
import PVecOps
import PVecStore
import PVecTensor

/// A meta-init request as the CLI gives it.
public struct MetaInitRequest {
    public var tasks: [TaskData]
    public var name: String
    public var promptLength: Int = 8
    /// Start from this registry init or prompt; otherwise a seeded vocab-sample init (stored as NAME.start).
    public var initSpec: String?
    public var initSeed: UInt64 = 0
    /// Use at most this many class-balanced examples per label of each task.
    public var shots: Int?
    public var config = MetaInitConfig()

    public init(tasks: [TaskData], name: String) {
        self.tasks = tasks
        self.name = name
    }
}

public struct MetaInitOutcome {
    public var start: Stored
    public var initArtifact: Stored
    public var result: MetaInitResult
}

extension Registry {
    /// Meta-learns a prompt init over source tasks (see `MetaInitTrainer`) and stores it as an
    /// `init` artifact NAME whose recipe (op `meta-init`) names the method, its settings and the
    /// source datasets (task names, task and data SHA-256); its parent (role `init`) is the
    /// starting point. Train a new task from it with `pvec train --init NAME`.
    public func metaInit(_ req: MetaInitRequest, model: any BackboneModel, command: String,
                         progress: ((TrainProgress) -> Void)? = nil) throws -> MetaInitOutcome {
        guard !req.tasks.isEmpty else { throw MixtureError.badTasks("meta-init needs at least one source task; give --tasks A[,B...]") }
        let c = req.config
        guard c.outerSteps > 0, c.innerSteps > 0, c.batchSize > 0 else {
            throw MixtureError.badTasks("--outer-steps, --inner-steps and --batch must be at least 1")
        }
        try validateNames([req.name, "\(req.name).start"])
        let backbone = model.fingerprint
        var start: (tensor: Tensor, id: ArtifactID?, pending: PendingInit?)
        if let spec = req.initSpec {
            let r = try resolvePrompts([spec], model: model, role: "the meta-init's start")[0]
            start = (r.tensor, r.id, nil)
        } else {
            let p = try pendingInit(rows: req.promptLength, seed: req.initSeed, model: model)
            start = (p.tensor, nil, p)
        }
        var tasks = req.tasks
        if let k = req.shots {
            for i in tasks.indices { tasks[i].train = try tasks[i].train.fewShot(k, labels: tasks[i].task.labels.count, seed: c.seed) }
        }
        for t in tasks where t.train.examples.count < 2 {
            throw MixtureError.badTasks("\(t.task.name) has \(t.train.examples.count) example; meta-init splits each task into support and query")
        }
        let trainer = MetaInitTrainer(model: model, config: c)
        let result = try trainer.train(initial: start.tensor, tasks: tasks, progress: progress)
        guard result.prompt.isFinite else { throw TrainError.diverged(step: result.queryLosses.count) }

        let startStored: Stored
        if let id = start.id {
            startStored = Stored(id: id, manifest: try manifest(id))
        } else {
            startStored = try storeInit(start.pending!, backbone: backbone, name: "\(req.name).start", command: command)
        }
        var params: [String: JSONValue] = [
            "method": .string(c.method.rawValue),
            "outer_steps": .int(Int64(c.outerSteps)), "inner_steps": .int(Int64(c.innerSteps)),
            "inner_lr": .double(Double(c.innerLearningRate)), "outer_lr": .double(Double(c.effectiveOuterLearningRate)),
            "inner_optimizer": "sgd", "outer_optimizer": c.method == .reptile ? "interpolate" : "adamw",
            "batch": .int(Int64(c.batchSize)), "temperature": .double(Double(c.temperature)),
            "max_length": .int(Int64(c.maxLength)), "clip": .double(Double(c.clipNorm)),
            "seed": .int(Int64(bitPattern: c.seed)), "split": "seeded halves: support, query",
            "prompt_len": .int(Int64(start.tensor.shape.rows)),
            "tasks": .array(req.tasks.map { .object(taskParams($0.task, $0.train)) }),
        ]
        if let k = req.shots { params["shots"] = .int(Int64(k)) }
        if c.method == .fomaml { params["lr_scale"] = .double(Double(trainer.config.learningRateScale!)) }
        let metrics: [String: JSONValue] = [
            "final_query_loss": .double(ClassificationMetrics.rounded(Double(result.queryLosses.last ?? .nan))),
        ]
        let stored = try store(result.prompt, kind: .`init`, recipe: Recipe(op: "meta-init", params: params),
                               parents: [Parent(.`init`, startStored.id)], backbone: backbone, metrics: metrics,
                               name: req.name, command: command)
        return MetaInitOutcome(start: startStored, initArtifact: stored, result: result)
    }
}
