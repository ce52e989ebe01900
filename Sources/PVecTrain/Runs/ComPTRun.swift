import Foundation
import PVecOps
import PVecStore
import PVecTensor

/// ComPT over several tasks (see `ComPTTrainer`, `pvec compt`). Stores, with lineage:
/// - `NAME.src<i>` (`compt-source`): the trained shared sources; parent their init (`init`);
/// - `NAME.<task>.private` (`compt-private`): each task's private prompt; parent its init;
/// - `NAME.router` (`compt-router`, module): router logits and both prompt encoders; parents
///   the sources (`source`) and private prompts (`operand`);
/// - `NAME.<task>` (`compt`): the composed prompt with inference weights (softmax of the router
///   logits); parents the sources (`source`), its private prompt (`operand`) and the router
///   (`module`). Use it like any prompt (`pvec eval`, `pvec add`).
public struct ComPTRun: TrainingRun {
    public var tasks: [TaskData]
    /// Outputs: NAME.src<i> (sources), NAME.<task>.private, NAME.router (module), NAME.<task> (composed).
    public var name: String
    /// Start the shared sources from these registry prompts; otherwise `sourceCount` seeded inits.
    public var sources: [String] = []
    public var sourceCount: Int = 2
    /// l: rows of each source prompt (taken from `sources` when given).
    public var promptLength: Int = 8
    public var composition: ComPTComposition = .ssum
    public var rates = ComPTRates()
    public var shots: Int?
    public var mixingCap: Int = 1000
    /// Seed of the vocab-sample inits (source i uses seed + i, task t's private seed + 100 + t).
    public var initSeed: UInt64 = 0
    public var moduleSeed: UInt64 = 0
    public var config = TrainConfig()

    public init(tasks: [TaskData], name: String) {
        self.tasks = tasks
        self.name = name
    }

    /// M: the number of shared sources.
    var sourceTotal: Int { sources.isEmpty ? sourceCount : sources.count }

    public func validate() throws {
        guard !tasks.isEmpty else { throw TrainError.badTasks("ComPT needs at least one task; give --tasks A[,B...]") }
        try TrainingSession.checkDistinctNames(tasks)
        guard sourceTotal >= 1 else { throw TrainError.badSources("ComPT needs at least one source prompt (--num-sources)") }
        guard !sources.isEmpty || promptLength > 0 else { throw TrainError.badSources("--prompt-len must be at least 1") }
    }

    public var outputNames: [String] {
        ["\(name).router"] + (0..<sourceTotal).flatMap { ["\(name).src\($0)", "\(name).src\($0).init"] }
            + tasks.flatMap { ["\(name).\($0.task.name)", "\(name).\($0.task.name).private", "\(name).\($0.task.name).private.init"] }
    }

    public var inputNames: [String] { sources }

    public func run(in session: TrainingSession) throws -> ComPTOutcome {
        let model = try session.model(placement: config.placement)
        let M = sourceTotal
        // Inits: registry sources or seeded vocab-sample ones, and seeded private prompts.
        let sourceInits = sources.isEmpty
            ? try (0..<M).map { try session.seededInit(rows: promptLength, seed: initSeed &+ UInt64($0)) }
            : try session.resolvePrompts(sources, role: "a ComPT source init").map {
                TrainingSession.StartingPoint(tensor: $0.tensor, source: .stored($0.id))
            }
        let l = sourceInits[0].tensor.shape.rows
        // The compositions will carry the sources' adapter config: refuse a mix now.
        let sourceIDs = sourceInits.compactMap { i -> ArtifactID? in if case .stored(let id) = i.source { return id } else { return nil } }
        _ = try session.carriedProfile(sourceIDs.map { Parent(.`init`, $0) }, shape: sourceInits[0].tensor.shape)
        let rows = composition.privateRows(sourceRows: l, sources: M)
        let privateInits = try tasks.indices.map { try session.seededInit(rows: rows, seed: initSeed &+ 100 &+ UInt64($0)) }
        let sampled = try TrainingSession.fewShot(tasks, shots: shots, seed: config.seed)
        let module = ComPTModule(width: model.width, tasks: tasks.count, sources: M, composition: composition, seed: moduleSeed)
        let trainer = ComPTTrainer(model: model, config: config, rates: rates, mixingCap: mixingCap)
        let result = try trainer.train(tasks: sampled, sources: sourceInits.map(\.tensor), privates: privateInits.map(\.tensor),
                                       module: module, progress: session.progress)
        guard result.composed.allSatisfy(\.isFinite) else { throw TrainError.diverged(step: result.losses.count) }

        let settings = ComPTSettings(training: TrainingHyperparameters(trainer.config), tasks: tasks.map(TaskRecord.init),
                                     composition: composition, rates: rates, mixingCap: mixingCap, moduleSeed: moduleSeed,
                                     initSeed: initSeed, promptLength: l, shots: shots)
        let metrics = TrainingSession.lossMetrics(result.losses)
        var storedSources: [Stored] = []
        for i in 0..<M {
            let initID = try session.store(sourceInits[i], name: "\(name).src\(i).init").id
            storedSources.append(try session.store(result.sources[i], recipe: ComPTSourceRecipe(settings: settings, sourceIndex: i),
                                                   parents: [Parent(.`init`, initID)], metrics: metrics, name: "\(name).src\(i)"))
        }
        var privates: [Stored] = []
        for (t, td) in tasks.enumerated() {
            let initID = try session.store(privateInits[t], name: "\(name).\(td.task.name).private.init").id
            privates.append(try session.store(result.privates[t], recipe: ComPTPrivateRecipe(settings: settings, targetTask: td.task.name),
                                              parents: [Parent(.`init`, initID)], metrics: metrics, name: "\(name).\(td.task.name).private"))
        }
        let sourceParents = storedSources.map { Parent(.source, $0.id) }
        let router = try session.storeModule(result.module.tensors, recipe: ComPTRouterRecipe(settings: settings),
                                             parents: sourceParents + privates.map { Parent(.operand, $0.id) },
                                             metrics: metrics, name: "\(name).router")
        let weights = result.module.inferenceWeights
        let targets = try tasks.enumerated().map { t, td in
            let m: [String: JSONValue] = ["router_weights": .array((0..<M).map { .double(ClassificationMetrics.rounded(Double(weights[t * M + $0]))) })]
            return try session.store(result.composed[t], recipe: ComPTRecipe(settings: settings, targetTask: td.task.name, targetIndex: t),
                                     parents: sourceParents + [Parent(.operand, privates[t].id), Parent(.module, router.id)],
                                     metrics: m, name: "\(name).\(td.task.name)")
        }
        return ComPTOutcome(sources: storedSources, privates: privates, router: router, targets: targets, result: result)
    }
}

/// What a ComPT run stored.
public struct ComPTOutcome {
    public var sources: [Stored]
    public var privates: [Stored]
    public var router: Stored
    /// Composed prompt per task, in task order.
    public var targets: [Stored]
    public var result: ComPTResult
}
