import Foundation
import PVecOps
import PVecStore
import PVecTensor

/// ATTEMPT (see `AttemptTrainer`, `pvec attempt`). Stores, with lineage, per task:
/// - the target prompt (`attempt-target`): P_t; parents its init (`init`) and every source (`source`);
/// - the mixture (`attempt`, no blob): parents P_t (`tuned`), G (`module`), the sources
///   (`source`) in attention order. `pvec eval` runs the instance-wise composition;
///
/// and once the module G (`attempt-module`): W_down, W_up, ln_gain, ln_bias; parents every
/// task's init (`init`), the module it started from (`module`, with `moduleSpec`) and every
/// source (`source`); the recipe lists the sources in attention order.
public struct AttemptRun: TrainingRun {
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

    init(task: TaskSpec, train: Dataset, name: String, sources: [String]) {
        self.init(tasks: [TaskData(task: task, train: train)], name: name, sources: sources)
    }

    /// Per task, the prefix of its outputs.
    var prefixes: [String] { tasks.count == 1 ? [name] : tasks.map { "\(name).\($0.task.name)" } }

    public func validate() throws {
        guard !tasks.isEmpty else { throw TrainError.badTasks("ATTEMPT needs a task") }
        try TrainingSession.checkDistinctNames(tasks)
        guard !sources.isEmpty else { throw TrainError.badSources("ATTEMPT needs at least one --sources prompt") }
        guard moduleSpec != nil || rank > 0 else { throw TrainError.badModule("--rank must be at least 1") }
    }

    public var outputNames: [String] {
        [name, "\(name).module"] + prefixes.flatMap { [$0, "\($0).target", "\($0).init"] }
    }

    public var inputNames: [String] { sources + (moduleSpec.map { [$0] } ?? []) + (initSpec.map { [$0] } ?? []) }

    public func run(in session: TrainingSession) throws -> AttemptOutcome {
        let model = try session.model(placement: config.placement)
        let T = tasks.count
        let sources = try session.resolvePrompts(self.sources, role: "an ATTEMPT source")
        let shape = sources[0].tensor.shape
        let inits: [TrainingSession.StartingPoint]
        if let spec = initSpec {
            let i = try session.startingPoint(spec, expected: "a prompt to use as the target's init", rows: shape.rows, seed: initSeed)
            guard i.tensor.shape == shape else { throw OpsError.shapeMismatch(spec, i.tensor.shape, sources[0].spec, shape) }
            inits = Array(repeating: i, count: T)
        } else {
            inits = try (0..<T).map { try session.seededInit(rows: shape.rows, seed: initSeed &+ UInt64(T == 1 ? 0 : $0)) }
        }
        // The targets will carry the sources' (and init's) adapter config: refuse a mix now.
        let startIDs = inits.compactMap { i -> ArtifactID? in if case .stored(let id) = i.source { return id } else { return nil } }
        _ = try session.carriedProfile(sources.map { Parent(.source, $0.id) } + startIDs.map { Parent(.`init`, $0) }, shape: shape)
        let module: AttemptModule
        var startModule: ArtifactID?
        if let spec = moduleSpec {
            let o = try session.startModule(spec, made: AttemptModuleRecipe.self, what: "an ATTEMPT module (NAME.module of `pvec attempt`)")
            let temperature = o.recipe.map { Float($0.settings.temperature) } ?? 0
            module = try AttemptModule(tensors: o.tensors, temperature: temperature > 0 ? temperature : Float(model.width) * Float(M_E))
            guard module.width == model.width else {
                throw TrainError.badModule("\(spec) is \(module.width) wide; the model is \(model.width)")
            }
            startModule = o.id
        } else {
            module = AttemptModule(width: model.width, rank: rank, seed: moduleSeed)
        }
        let sampled = try TrainingSession.fewShot(tasks, shots: shots, seed: config.seed)
        let trainer = AttemptTrainer(model: model, config: config, moduleLearningRate: moduleLearningRate)
        let result = T == 1
            ? try trainer.train(task: sampled[0], initial: inits[0].tensor, sources: sources.map(\.tensor), module: module, progress: session.progress)
            : try trainer.train(tasks: sampled, initials: inits.map(\.tensor), sources: sources.map(\.tensor), module: module,
                                mixingCap: mixingCap, progress: session.progress)
        guard result.targets.allSatisfy(\.isFinite) else { throw TrainError.diverged(step: result.losses.count) }

        // Store: inits, module, then per task the target and the mixture.
        let initStored = try zip(inits, prefixes).map { try session.store($0, name: "\($1).init") }
        let settings = AttemptSettings(training: TrainingHyperparameters(trainer.config), promptLength: shape.rows, shots: shots,
                                       moduleLR: Double(moduleLearningRate), rank: module.rank,
                                       moduleSeed: startModule == nil ? moduleSeed : nil,
                                       temperature: Double(module.temperature), sources: sources.map(\.id.hex))
        let moduleRecipe = AttemptModuleRecipe(settings: settings, tasks: T == 1
            ? .one(TaskRecord(tasks[0]), examples: sampled[0].train.examples.count)
            : .several(tasks.map(TaskRecord.init), mixingCap: mixingCap))
        let metrics = TrainingSession.lossMetrics(result.losses)
        let sourceParents = sources.map { Parent(.source, $0.id) }
        var initParents: [Parent] = []
        for s in initStored where !initParents.contains(where: { $0.id == s.id }) { initParents.append(Parent(.`init`, s.id)) }
        let g = try session.storeModule(result.module.tensors, recipe: moduleRecipe,
                                        parents: initParents + (startModule.map { [Parent(.module, $0)] } ?? []) + sourceParents,
                                        metrics: metrics, name: "\(name).module")
        var outcomes: [AttemptTaskOutcome] = []
        for t in 0..<T {
            let recipe = AttemptTargetRecipe(settings: settings, task: TaskRecord(tasks[t]), examples: sampled[t].train.examples.count,
                                             tasksTrainedTogether: T > 1 ? tasks.map(\.task.name) : nil)
            let target = try session.store(result.targets[t], recipe: recipe, parents: [Parent(.`init`, initStored[t].id)] + sourceParents,
                                           metrics: metrics, name: "\(prefixes[t]).target")
            let mixture = try session.storeMixture(recipe: AttemptRecipe(temperature: Double(module.temperature), rank: module.rank),
                                                   parents: [Parent(.tuned, target.id), Parent(.module, g.id)] + sourceParents,
                                                   metrics: metrics, name: prefixes[t])
            outcomes.append(AttemptTaskOutcome(initArtifact: initStored[t], target: target, mixture: mixture))
        }
        return AttemptOutcome(tasks: outcomes, module: g, result: result)
    }
}

/// What an ATTEMPT run stored for one task.
public struct AttemptTaskOutcome {
    public var initArtifact: Stored
    public var target: Stored
    public var mixture: Stored
}

/// What an ATTEMPT run stored.
public struct AttemptOutcome {
    /// Per task, in task order.
    public var tasks: [AttemptTaskOutcome]
    public var module: Stored
    public var result: AttemptResult

    public var initArtifact: Stored { tasks[0].initArtifact }
    public var target: Stored { tasks[0].target }
    public var mixture: Stored { tasks[0].mixture }
}
