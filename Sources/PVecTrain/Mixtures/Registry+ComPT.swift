import Foundation
import PVecModel
import PVecOps
import PVecStore
import PVecTensor

/// A ComPT training request as the CLI gives it.
public struct ComPTRequest {
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
}

public struct ComPTOutcome {
    public var sources: [Stored]
    public var privates: [Stored]
    public var router: Stored
    /// Composed prompt per task, in task order.
    public var targets: [Stored]
    public var result: ComPTResult
}

extension Registry {
    /// Trains ComPT over the tasks and stores, with lineage:
    /// - `NAME.src<i>` (prompt): the trained shared sources; parent their init (`init`);
    /// - `NAME.<task>.private` (prompt): each task's private prompt; parent its init (`init`);
    /// - `NAME.router` (module): router logits and both prompt encoders; parents the sources
    ///   (`source`) and private prompts (`operand`);
    /// - `NAME.<task>` (prompt): the composed prompt with inference weights (softmax of the
    ///   router logits); parents the sources (`source`), its private prompt (`operand`) and the
    ///   router (`module`). Use it like any prompt (`pvec eval`, `pvec add`).
    public func trainComPT(_ req: ComPTRequest, model: any BackboneModel, command: String,
                           progress: ((TrainProgress) -> Void)? = nil) throws -> ComPTOutcome {
        guard !req.tasks.isEmpty else { throw MixtureError.badTasks("ComPT needs at least one task; give --tasks A[,B...]") }
        let taskNames = req.tasks.map(\.task.name)
        guard Set(taskNames).count == taskNames.count else { throw MixtureError.badTasks("task names must differ (\(taskNames.joined(separator: ", ")))") }
        let M = req.sources.isEmpty ? req.sourceCount : req.sources.count
        guard M >= 1 else { throw MixtureError.badSources("ComPT needs at least one source prompt (--num-sources)") }
        try validateNames(["\(req.name).router"] + (0..<M).flatMap { ["\(req.name).src\($0)", "\(req.name).src\($0).init"] }
                          + taskNames.flatMap { ["\(req.name).\($0)", "\(req.name).\($0).private", "\(req.name).\($0).private.init"] })
        let backbone = model.fingerprint
        // Inits: registry sources or seeded vocab-sample ones, and seeded private prompts.
        var sourceInits: [(tensor: Tensor, id: ArtifactID?, pending: PendingInit?)] = []
        if !req.sources.isEmpty {
            sourceInits = try resolvePrompts(req.sources, model: model, role: "a ComPT source init").map { ($0.tensor, $0.id, nil) }
        } else {
            guard req.promptLength > 0 else { throw MixtureError.badSources("--prompt-len must be at least 1") }
            for i in 0..<M {
                let p = try pendingInit(rows: req.promptLength, seed: req.initSeed &+ UInt64(i), model: model)
                sourceInits.append((p.tensor, nil, p))
            }
        }
        let l = sourceInits[0].tensor.shape.rows
        let rows = req.composition.privateRows(sourceRows: l, sources: M)
        let privateInits = try req.tasks.indices.map { try pendingInit(rows: rows, seed: req.initSeed &+ 100 &+ UInt64($0), model: model) }
        var tasks = req.tasks
        if let k = req.shots {
            for i in tasks.indices { tasks[i].train = try tasks[i].train.fewShot(k, labels: tasks[i].task.labels.count, seed: req.config.seed) }
        }
        let module = ComPTModule(width: model.width, tasks: tasks.count, sources: M, composition: req.composition, seed: req.moduleSeed)
        let trainer = ComPTTrainer(model: model, config: req.config, rates: req.rates, mixingCap: req.mixingCap)
        let result = try trainer.train(tasks: tasks, sources: sourceInits.map(\.tensor), privates: privateInits.map(\.tensor),
                                       module: module, progress: progress)
        guard result.composed.allSatisfy(\.isFinite) else { throw TrainError.diverged(step: result.losses.count) }

        var params = trainer.config.recipeParams
        params["tasks"] = .array(req.tasks.map { .object(taskParams($0.task, $0.train)) })
        params["composition"] = .string(req.composition.rawValue)
        params["router_lr"] = .double(Double(req.rates.router))
        params["source_lr"] = .double(Double(req.rates.sources))
        params["private_lr"] = .double(Double(req.rates.privates))
        params["tau"] = ["start": 5.0, "end": 0.001, "schedule": "linear"]
        params["mixing_cap"] = .int(Int64(req.mixingCap))
        params["module_seed"] = .int(Int64(bitPattern: req.moduleSeed))
        params["init_seed"] = .int(Int64(bitPattern: req.initSeed))
        params["prompt_len"] = .int(Int64(l))
        if let k = req.shots { params["shots"] = .int(Int64(k)) }
        let metrics: [String: JSONValue] = [
            "final_loss": .double(ClassificationMetrics.rounded(Double(result.losses.last ?? .nan))),
            "steps_run": .int(Int64(result.losses.count)),
        ]
        var sources: [Stored] = []
        for i in 0..<M {
            let initID = try sourceInits[i].id ?? storeInit(sourceInits[i].pending!, backbone: backbone, name: "\(req.name).src\(i).init", command: command).id
            var p = params
            p["source_index"] = .int(Int64(i))
            sources.append(try store(result.sources[i], kind: .prompt, recipe: Recipe(op: "compt-source", params: p),
                                     parents: [Parent(.`init`, initID)], backbone: backbone, metrics: metrics,
                                     name: "\(req.name).src\(i)", command: command))
        }
        var privates: [Stored] = []
        for (t, td) in req.tasks.enumerated() {
            let initID = try storeInit(privateInits[t], backbone: backbone, name: "\(req.name).\(td.task.name).private.init", command: command).id
            var p = params
            p["target_task"] = .string(td.task.name)
            privates.append(try store(result.privates[t], kind: .prompt, recipe: Recipe(op: "compt-private", params: p),
                                      parents: [Parent(.`init`, initID)], backbone: backbone, metrics: metrics,
                                      name: "\(req.name).\(td.task.name).private", command: command))
        }
        let sourceParents = sources.map { Parent(.source, $0.id) }
        let router = try storeModule(result.module.tensors, recipe: Recipe(op: "compt-router", params: params),
                                     parents: sourceParents + privates.map { Parent(.operand, $0.id) }, backbone: backbone,
                                     metrics: metrics, name: "\(req.name).router", command: command)
        let weights = result.module.inferenceWeights
        var targets: [Stored] = []
        for (t, td) in req.tasks.enumerated() {
            var p = params
            p["target_task"] = .string(td.task.name)
            p["target_index"] = .int(Int64(t))
            let m: [String: JSONValue] = ["router_weights": .array((0..<M).map { .double(ClassificationMetrics.rounded(Double(weights[t * M + $0]))) })]
            targets.append(try store(result.composed[t], kind: .prompt, recipe: Recipe(op: "compt", params: p),
                                     parents: sourceParents + [Parent(.operand, privates[t].id), Parent(.module, router.id)],
                                     backbone: backbone, metrics: m, name: "\(req.name).\(td.task.name)", command: command))
        }
        return ComPTOutcome(sources: sources, privates: privates, router: router, targets: targets, result: result)
    }
}
