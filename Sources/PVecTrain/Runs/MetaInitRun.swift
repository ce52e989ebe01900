import Foundation
import PVecOps
import PVecStore
import PVecTensor

/// A meta-learned prompt init over source tasks (see `MetaInitTrainer`, `pvec meta-init`),
/// stored as an `init` artifact NAME whose recipe (`meta-init`) names the method, its settings
/// and the source datasets; its parent (role `init`) is the starting point (a registry init or
/// prompt, or a seeded one stored as NAME.start). Train a new task from it with `pvec train --init NAME`.
public struct MetaInitRun: TrainingRun {
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

    public func validate() throws {
        guard !tasks.isEmpty else { throw TrainError.badTasks("meta-init needs at least one source task; give --tasks A[,B...]") }
        guard config.outerSteps > 0, config.innerSteps > 0, config.batchSize > 0 else {
            throw TrainError.badTasks("--outer-steps, --inner-steps and --batch must be at least 1")
        }
    }

    public var outputNames: [String] { [name, "\(name).start"] }
    public var inputNames: [String] { initSpec.map { [$0] } ?? [] }

    public func run(in session: TrainingSession) throws -> MetaInitOutcome {
        let model = try session.model(placement: .afterCLS)
        let start = try session.startingPoint(initSpec, expected: "a prompt to use as the meta-init's start",
                                              rows: promptLength, seed: initSeed)
        let sampled = try TrainingSession.fewShot(tasks, shots: shots, seed: config.seed)
        for t in sampled where t.train.examples.count < 2 {
            throw TrainError.badTasks("\(t.task.name) has \(t.train.examples.count) example; meta-init splits each task into support and query")
        }
        let trainer = MetaInitTrainer(model: model, config: config)
        let result = try trainer.train(initial: start.tensor, tasks: sampled, progress: session.progress)
        guard result.prompt.isFinite else { throw TrainError.diverged(step: result.queryLosses.count) }

        let startStored = try session.store(start, name: "\(name).start")
        let recipe = MetaInitRecipe(trainer.config, promptLength: start.tensor.shape.rows, tasks: tasks.map(TaskRecord.init), shots: shots)
        let metrics: [String: JSONValue] = [
            "final_query_loss": .double(ClassificationMetrics.rounded(Double(result.queryLosses.last ?? .nan))),
        ]
        let stored = try session.store(result.prompt, kind: .`init`, recipe: recipe, parents: [Parent(.`init`, startStored.id)],
                                       metrics: metrics, name: name)
        return MetaInitOutcome(start: startStored, initArtifact: stored, result: result)
    }
}

/// What a meta-init run stored.
public struct MetaInitOutcome {
    public var start: Stored
    public var initArtifact: Stored
    public var result: MetaInitResult
}
