import PVecStore

/// What ATTEMPT's target and module recipes share: the training settings, the module's and the
/// sources (ids in attention order).
struct AttemptSettings: Hashable, Sendable {
    /// The run's hyperparameters; their `temperature` is not recorded (the key holds the
    /// attention temperature).
    var training: TrainingHyperparameters
    var promptLength: Int
    var shots: Int?
    var moduleLR: Double
    var rank: Int
    /// Seed of a fresh module; nil when the run started from a stored module.
    var moduleSeed: UInt64?
    /// The attention softmax temperature T.
    var temperature: Double
    var sources: [String]

    init(training: TrainingHyperparameters, promptLength: Int, shots: Int?, moduleLR: Double, rank: Int,
         moduleSeed: UInt64?, temperature: Double, sources: [String]) {
        self.training = training
        self.training.temperature = nil
        self.promptLength = promptLength
        self.shots = shots
        self.moduleLR = moduleLR
        self.rank = rank
        self.moduleSeed = moduleSeed
        self.temperature = temperature
        self.sources = sources
    }

    var params: [String: JSONValue] {
        var p = training.params
        p["prompt_len"] = .count(promptLength)
        if let shots { p["shots"] = .count(shots) }
        p["module_lr"] = .double(moduleLR)
        p["rank"] = .count(rank)
        if let moduleSeed { p["module_seed"] = .seed(moduleSeed) }
        p["temperature"] = .double(temperature)
        p["sources"] = .array(sources.map { .string($0) })
        return p
    }

    init(_ r: RecipeParams) throws {
        training = try TrainingHyperparameters(r, temperature: false)
        promptLength = try r.int("prompt_len")
        shots = try r.optionalInt("shots")
        moduleLR = try r.double("module_lr")
        rank = try r.int("rank")
        moduleSeed = try r.optionalSeed("module_seed")
        temperature = try r.double("temperature")
        sources = try r.strings("sources")
    }
}

/// `attempt-target`: a task's trained target prompt P_t; parents its init and the sources.
struct AttemptTargetRecipe: TypedRecipe {
    static let op = "attempt-target"
    var settings: AttemptSettings
    var task: TaskRecord
    var examples: Int
    /// Every task's name when several were trained with one shared module.
    var tasksTrainedTogether: [String]?

    init(settings: AttemptSettings, task: TaskRecord, examples: Int, tasksTrainedTogether: [String]?) {
        self.settings = settings
        self.task = task
        self.examples = examples
        self.tasksTrainedTogether = tasksTrainedTogether
    }

    var params: [String: JSONValue] {
        var p = settings.params.adding(task.params)
        p["examples"] = .count(examples)
        if let tasksTrainedTogether { p["tasks_trained_together"] = .array(tasksTrainedTogether.map { .string($0) }) }
        return p
    }

    init(params: [String: JSONValue]) throws {
        let r = RecipeParams(params, op: Self.op)
        settings = try AttemptSettings(r)
        task = try TaskRecord(r)
        examples = try r.int("examples")
        tasksTrainedTogether = try r.optionalStrings("tasks_trained_together")
    }
}

/// `attempt-module`: the attention module G; parents the inits, the start module, the sources.
struct AttemptModuleRecipe: TypedRecipe {
    static let op = "attempt-module"

    /// What G was trained on.
    enum Tasks: Hashable, Sendable {
        case one(TaskRecord, examples: Int)
        /// Several tasks, mixed examples-proportionally with a per-task cap.
        case several([TaskRecord], mixingCap: Int)
    }

    var settings: AttemptSettings
    var tasks: Tasks

    init(settings: AttemptSettings, tasks: Tasks) {
        self.settings = settings
        self.tasks = tasks
    }

    var params: [String: JSONValue] {
        var p = settings.params
        switch tasks {
        case .one(let t, let examples):
            p = p.adding(t.params)
            p["examples"] = .count(examples)
        case .several(let ts, let cap):
            p["tasks"] = TaskRecord.list(ts)
            p["mixing_cap"] = .count(cap)
        }
        return p
    }

    init(params: [String: JSONValue]) throws {
        let r = RecipeParams(params, op: Self.op)
        settings = try AttemptSettings(r)
        if r.has("tasks") {
            tasks = .several(try r.objects("tasks", TaskRecord.init), mixingCap: try r.int("mixing_cap"))
        } else {
            tasks = .one(try TaskRecord(r), examples: try r.int("examples"))
        }
    }
}

/// `attempt`: an ATTEMPT mixture (no blob); parents its target (`tuned`), G (`module`) and the
/// sources in attention order. `pvec eval` runs the instance-wise composition.
struct AttemptRecipe: TypedRecipe {
    static let op = "attempt"
    static let pool: JSONValue = "max"
    static let composition: JSONValue = "target+attention"
    var temperature: Double
    var rank: Int

    init(temperature: Double, rank: Int) {
        self.temperature = temperature
        self.rank = rank
    }

    var params: [String: JSONValue] {
        ["temperature": .double(temperature), "rank": .count(rank), "pool": Self.pool, "composition": Self.composition]
    }

    init(params: [String: JSONValue]) throws {
        let r = RecipeParams(params, op: Self.op)
        temperature = try r.double("temperature")
        rank = try r.int("rank")
        try r.constant("pool", Self.pool)
        try r.constant("composition", Self.composition)
    }
}
