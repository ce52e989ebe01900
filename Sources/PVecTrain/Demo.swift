import Foundation
import PVecModel
import PVecOps
import PVecStore
import PVecTensor

/// The settings of `pvec demo`: which tasks, how much training, how much evaluation.
public struct DemoPlan: Sendable {
    /// Folder with one sub-folder per task (`task.json`, `train.jsonl`, `test.jsonl`), as
    /// `scripts/fetch-data` writes it.
    var dataDirectory: URL
    public var sources = ["movie", "amazon"]
    public var target = "tweets"
    public var promptLength = 8
    public var sourceShots = 64
    public var sourceSteps = 40
    public var targetShots = 8
    public var targetSteps = 20
    public var learningRate: Float = 0.3
    var batchSize = 16
    var maxLength = 64
    /// Test examples per evaluation.
    public var evalLimit = 300
    /// Seed of the shared source init; the target's random init uses `initSeed + 1`.
    var initSeed: UInt64 = 0
    var lambda = 1.0

    public init(dataDirectory: URL) { self.dataDirectory = dataDirectory }
}

/// One line of the demo's comparison table.
public struct DemoRow: Sendable {
    public var task: String
    public var method: String
    public var artifact: String
    public var accuracy: Double
    public var macroF1: Double
}

/// The main job: shows prompts being trained, turned into task vectors, added, and used to
/// start a new task, with everything recorded in the registry.
///
/// 1. Zero-shot baseline on the target task.
/// 2. Train a prompt per source task from one seeded `vocab-sample` init; store init, prompt, vector.
/// 3. `add` the source vectors onto the init (Belanec et al. eq. 6) and evaluate that prompt
///    on the target without any target training.
/// 4. Few-shot training on the target from a random init and from the sum, and evaluation.
/// 5. Fitted coefficients (`ComposeRun`): the weights of the source vectors learned on the same
///    few shots, starting from their mean, with the backbone and the vectors frozen: the
///    combination the study found best at 8 shots (docs/study.md, part 5).
public struct DemoRunner {
    let registry: Registry
    let model: any BackboneModel
    let plan: DemoPlan
    let command: String

    /// The name of step 5's composed prompt.
    public var composedName: String { "\(plan.target)-composed" }

    public init(registry: Registry, model: any BackboneModel, plan: DemoPlan, command: String) {
        self.registry = registry
        self.model = model
        self.plan = plan
        self.command = command
    }

    func taskFiles(_ name: String) throws -> (TaskSpec, Dataset, Dataset) {
        let folder = TaskFolder(plan.dataDirectory.appendingPathComponent(name))
        guard FileManager.default.fileExists(atPath: folder.testFile.path) else {
            throw TrainError.notEnoughData("no task '\(name)' in \(plan.dataDirectory.path); run scripts/fetch-data")
        }
        let (t, test) = try folder.withTest(limit: plan.evalLimit)
        return (t.task, t.train, test)
    }

    func config(steps: Int) -> TrainConfig {
        var c = TrainConfig()
        c.steps = steps
        c.batchSize = plan.batchSize
        c.learningRate = plan.learningRate
        c.maxLength = plan.maxLength
        return c
    }

    /// Runs every step; `log` receives progress lines, `progress` the training steps.
    public func run(log: (String) -> Void, progress: ((TrainProgress) -> Void)?) throws -> [DemoRow] {
        var rows: [DemoRow] = []
        let session = TrainingSession(registry: registry, model: model, command: command, progress: progress)
        let (targetSpec, targetTrain, targetTest) = try taskFiles(plan.target)
        func evaluate(_ name: String?, _ spec: TaskSpec, _ test: Dataset, task: String, method: String) throws {
            var e = EvaluationRun(name, task: spec, data: test)
            e.maxLength = plan.maxLength
            let m = try session.run(e).metrics
            rows.append(DemoRow(task: task, method: method, artifact: name ?? "-", accuracy: m.accuracy, macroF1: m.macroF1))
            log(String(format: "  %@ on %@: accuracy %.3f", name ?? "no prompt", task, m.accuracy))
        }

        log("1. zero-shot baseline on \(plan.target)")
        try evaluate(nil, targetSpec, targetTest, task: plan.target, method: "zero-shot (no prompt)")

        log("2. source prompts from one seeded init (vocab-sample, seed \(plan.initSeed))")
        for source in plan.sources {
            let (spec, train, test) = try taskFiles(source)
            var req = PromptTuningRun(task: spec, train: train, name: source)
            req.promptLength = plan.promptLength
            req.initSeed = plan.initSeed
            req.shots = plan.sourceShots
            req.config = config(steps: plan.sourceSteps)
            let out = try session.run(req)
            log(String(format: "  %@: loss %.3f -> %.3f, prompt %@, vector %@.tau", source,
                       out.result.losses.first ?? 0, out.result.losses.last ?? 0, out.prompt.id.short, source))
            try evaluate(source, spec, test, task: source, method: "prompt tuning, \(plan.sourceShots) shots/label")
        }

        log("3. add the source vectors onto the init: \(plan.sources.joined(separator: " + "))")
        let sum = try registry.addVectors(plan.sources, lambda: plan.lambda, onto: "\(plan.sources[0]).init",
                                          name: "sources-sum", command: command)
        log("  sources-sum = \(plan.sources[0]).init + \(plan.lambda) * (\(plan.sources.map { "\($0).tau" }.joined(separator: " + "))) -> \(sum.id.short)")
        try evaluate("sources-sum", targetSpec, targetTest, task: plan.target, method: "sum of source vectors, no target training")

        log("4. few-shot training on \(plan.target) (\(plan.targetShots) shots/label, \(plan.targetSteps) steps)")
        for (name, initSpec, method) in [
            ("\(plan.target)-random", nil as String?, "random init + \(plan.targetShots) shots/label"),
            ("\(plan.target)-from-sum", "sources-sum", "sources-sum init + \(plan.targetShots) shots/label"),
        ] {
            var req = PromptTuningRun(task: targetSpec, train: targetTrain, name: name)
            req.promptLength = plan.promptLength
            req.initSpec = initSpec
            req.initSeed = plan.initSeed + 1
            req.shots = plan.targetShots
            req.config = config(steps: plan.targetSteps)
            _ = try session.run(req)
            try evaluate(name, targetSpec, targetTest, task: plan.target, method: method)
        }

        log("5. fitted coefficients: weights of \(plan.sources.map { "\($0).tau" }.joined(separator: ", ")) fitted on \(plan.targetShots) shots/label (pvec compose)")
        var compose = ComposeRun(task: targetSpec, train: targetTrain, sources: plan.sources.map { "\($0).tau" },
                                 name: composedName)
        compose.initSpec = "\(plan.sources[0]).init"
        compose.shots = plan.targetShots
        // Start from the mean of the vectors (1/n), as the study fits them (docs/study.md, part 5).
        compose.startWeight = nil
        compose.config.maxLength = plan.maxLength
        compose.config.seed = plan.initSeed + 1
        compose.config.steps = plan.targetSteps
        let c = try session.run(compose)
        log("  \(composedName) = \(plan.sources[0]).init + "
            + zip(plan.sources, c.weights).map { String(format: "%.3f", $1) + " * \($0).tau" }.joined(separator: " + ")
            + String(format: " (few-shot loss %.3f -> %.3f)", c.startLoss, c.endLoss))
        try evaluate(composedName, targetSpec, targetTest, task: plan.target,
                     method: "fitted weights of the source vectors, \(plan.targetShots) shots/label")
        return rows
    }
}
