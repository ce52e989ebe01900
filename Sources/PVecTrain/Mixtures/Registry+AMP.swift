import Foundation
import PVecModel
import PVecOps
import PVecStore
import PVecTensor

/// An AMP (DAM) training request as the CLI gives it.
public struct AMPRequest {
    public var tasks: [TaskData]
    /// One frozen source prompt per task, in task order.
    public var sources: [String]
    /// The module goes to NAME.module, task t's target prompt to NAME.<task name>.
    public var name: String
    public var shots: Int?
    /// k: width of the queries and keys.
    public var keyWidth: Int = 64
    public var pooling: DAMModule.Pooling = .mean
    public var moduleSeed: UInt64 = 0
    /// Start W_Q, W_K, W_V from this stored AMP module (e.g. to add a task to a trained set by
    /// retraining the kept module); its key width and pooling are used.
    public var moduleSpec: String?
    /// Per-task cap of examples-proportional mixing (0: no cap).
    public var mixingCap: Int = 1000
    public var config = TrainConfig()

    public init(tasks: [TaskData], sources: [String], name: String) {
        self.tasks = tasks
        self.sources = sources
        self.name = name
    }
}

public struct AMPOutcome {
    public var module: Stored
    /// One per task, in task order.
    public var targets: [Stored]
    public var result: DAMResult
}

extension Registry {
    /// Trains AMP's DAM over all tasks and stores `NAME.module` (module: W_Q, W_K, W_V; parents
    /// the sources, role `source`, and the start module, role `module`, with `moduleSpec`) and, per task, `NAME.<task>` (a plain prompt; parents the
    /// sources, role `source`, in order, and the module, role `module`).
    ///
    /// Everything is checked before training; nothing is stored on failure.
    public func trainAMP(_ req: AMPRequest, model: any BackboneModel, command: String,
                         progress: ((TrainProgress) -> Void)? = nil) throws -> AMPOutcome {
        guard req.tasks.count >= 2 else { throw MixtureError.badTasks("AMP trains at least two tasks together; give --tasks A,B[,...]") }
        guard req.sources.count == req.tasks.count else {
            throw MixtureError.badSources("AMP needs one source prompt per task: \(req.tasks.count) tasks but \(req.sources.count) --sources")
        }
        let taskNames = req.tasks.map(\.task.name)
        guard Set(taskNames).count == taskNames.count else { throw MixtureError.badTasks("task names must differ (\(taskNames.joined(separator: ", ")))") }
        guard req.keyWidth > 0 else { throw MixtureError.badModule("--key-width must be at least 1") }
        try validateNames(["\(req.name).module"] + taskNames.map { "\(req.name).\($0)" })
        let backbone = model.fingerprint
        let sources = try resolvePrompts(req.sources, model: model, role: "an AMP source")
        var tasks = req.tasks
        if let k = req.shots {
            for i in tasks.indices { tasks[i].train = try tasks[i].train.fewShot(k, labels: tasks[i].task.labels.count, seed: req.config.seed) }
        }
        var module = DAMModule(width: model.width, keyWidth: req.keyWidth, pooling: req.pooling, seed: req.moduleSeed)
        var startModule: ArtifactID?
        if let spec = req.moduleSpec {
            let o = try storedModule(spec, op: "amp-module", what: "an AMP module (NAME.module of `pvec amp`)", backbone: backbone)
            let pooling = o.manifest.recipe.params["pooling"]?.stringValue.flatMap(DAMModule.Pooling.init(rawValue:)) ?? req.pooling
            module = try DAMModule(tensors: o.tensors, pooling: pooling)
            guard module.width == model.width else {
                throw MixtureError.badModule("\(spec) is \(module.width) wide; the model is \(model.width)")
            }
            startModule = o.id
        }
        let trainer = DAMTrainer(model: model, config: req.config, mixingCap: req.mixingCap)
        let result = try trainer.train(tasks: tasks, sources: sources.map(\.tensor), module: module, progress: progress)
        guard result.targets.allSatisfy(\.isFinite) else { throw TrainError.diverged(step: result.losses.count) }

        var params = req.config.recipeParams
        params["tasks"] = .array(req.tasks.map { .object(taskParams($0.task, $0.train)) })
        params["key_width"] = .int(Int64(module.keyWidth))
        params["pooling"] = .string(module.pooling.rawValue)
        if startModule == nil { params["module_seed"] = .int(Int64(bitPattern: req.moduleSeed)) }
        params["mixing_cap"] = .int(Int64(req.mixingCap))
        params["sources"] = .array(sources.map { .string($0.id.hex) })
        if let k = req.shots { params["shots"] = .int(Int64(k)) }
        let n = sources.count
        let metrics: [String: JSONValue] = [
            "final_loss": .double(ClassificationMetrics.rounded(Double(result.losses.last ?? .nan))),
            "steps_run": .int(Int64(result.losses.count)),
            "attention": .array((0..<n).map { i in .array((0..<n).map { .double(ClassificationMetrics.rounded(Double(result.attention[i * n + $0]))) }) }),
        ]
        let sourceParents = sources.map { Parent(.source, $0.id) }
        let g = try storeModule(result.module.tensors, recipe: Recipe(op: "amp-module", params: params),
                                parents: sourceParents + (startModule.map { [Parent(.module, $0)] } ?? []),
                                backbone: backbone, metrics: metrics, name: "\(req.name).module", command: command)
        var targets: [Stored] = []
        for (i, t) in req.tasks.enumerated() {
            var p = params
            p["target_task"] = .string(t.task.name)
            p["target_index"] = .int(Int64(i))
            let m: [String: JSONValue] = ["attention": .array((0..<n).map { .double(ClassificationMetrics.rounded(Double(result.attention[i * n + $0]))) })]
            targets.append(try store(result.targets[i], kind: .prompt, recipe: Recipe(op: "amp", params: p),
                                     parents: sourceParents + [Parent(.module, g.id)], backbone: backbone, metrics: m,
                                     name: "\(req.name).\(t.task.name)", command: command))
        }
        return AMPOutcome(module: g, targets: targets, result: result)
    }
}
