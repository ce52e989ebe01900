import Foundation
import PVecOps
import PVecStore
import PVecTensor

/// AMP's DAM over several tasks at once (see `DAMTrainer`, `pvec amp`). Stores `NAME.module`
/// (`amp-module`: W_Q, W_K, W_V; parents the sources, role `source`, and the start module, role
/// `module`, with `moduleSpec`) and, per task, `NAME.<task>` (`amp`, a plain prompt; parents the
/// sources, role `source`, in order, and the module, role `module`).
public struct AMPRun: TrainingRun {
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

    public func validate() throws {
        guard tasks.count >= 2 else { throw TrainError.badTasks("AMP trains at least two tasks together; give --tasks A,B[,...]") }
        guard sources.count == tasks.count else {
            throw TrainError.badSources("AMP needs one source prompt per task: \(tasks.count) tasks but \(sources.count) --sources")
        }
        try TrainingSession.checkDistinctNames(tasks)
        guard keyWidth > 0 else { throw TrainError.badModule("--key-width must be at least 1") }
    }

    public var outputNames: [String] { ["\(name).module"] + tasks.map { "\(name).\($0.task.name)" } }
    public var inputNames: [String] { sources + (moduleSpec.map { [$0] } ?? []) }

    public func run(in session: TrainingSession) throws -> AMPOutcome {
        let model = try session.model(placement: config.placement)
        let sources = try session.resolvePrompts(self.sources, role: "an AMP source")
        // The targets will carry the sources' adapter config: refuse a mix now.
        _ = try session.carriedProfile(sources.map { Parent(.source, $0.id) }, shape: sources.first?.tensor.shape)
        let sampled = try TrainingSession.fewShot(tasks, shots: shots, seed: config.seed)
        var module = DAMModule(width: model.width, keyWidth: keyWidth, pooling: pooling, seed: moduleSeed)
        var startModule: ArtifactID?
        if let spec = moduleSpec {
            let o = try session.startModule(spec, made: AMPModuleRecipe.self, what: "an AMP module (NAME.module of `pvec amp`)")
            module = try DAMModule(tensors: o.tensors, pooling: o.recipe?.settings.pooling ?? pooling)
            guard module.width == model.width else {
                throw TrainError.badModule("\(spec) is \(module.width) wide; the model is \(model.width)")
            }
            startModule = o.id
        }
        let trainer = DAMTrainer(model: model, config: config, mixingCap: mixingCap)
        let result = try trainer.train(tasks: sampled, sources: sources.map(\.tensor), module: module, progress: session.progress)
        guard result.targets.allSatisfy(\.isFinite) else { throw TrainError.diverged(step: result.losses.count) }

        let settings = AMPSettings(training: TrainingHyperparameters(config), tasks: tasks.map(TaskRecord.init),
                                   keyWidth: module.keyWidth, pooling: module.pooling,
                                   moduleSeed: startModule == nil ? moduleSeed : nil, mixingCap: mixingCap,
                                   sources: sources.map(\.id.hex), shots: shots)
        let n = sources.count
        func attention(_ i: Int) -> JSONValue {
            .array((0..<n).map { .double(ClassificationMetrics.rounded(Double(result.attention[i * n + $0]))) })
        }
        var metrics = TrainingSession.lossMetrics(result.losses)
        metrics["attention"] = .array((0..<n).map(attention))
        let sourceParents = sources.map { Parent(.source, $0.id) }
        let g = try session.storeModule(result.module.tensors, recipe: AMPModuleRecipe(settings: settings),
                                        parents: sourceParents + (startModule.map { [Parent(.module, $0)] } ?? []),
                                        metrics: metrics, name: "\(name).module")
        let targets = try tasks.enumerated().map { i, t in
            try session.store(result.targets[i], recipe: AMPRecipe(settings: settings, targetTask: t.task.name, targetIndex: i),
                              parents: sourceParents + [Parent(.module, g.id)], metrics: ["attention": attention(i)],
                              name: "\(name).\(t.task.name)")
        }
        return AMPOutcome(module: g, targets: targets, result: result)
    }
}

/// What an AMP run stored.
public struct AMPOutcome {
    public var module: Stored
    /// One per task, in task order.
    public var targets: [Stored]
    public var result: DAMResult
}
