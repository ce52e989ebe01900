import PVecModel
import PVecStore

/// The hyperparameters a gradient-trained run records (`TrainConfig`), the base of the
/// `train`, `attempt-*`, `amp*` and `compt*` recipes.
struct TrainingHyperparameters: Hashable, Sendable {
    /// How long the run was: a number of steps, or passes over the data.
    enum Length: Hashable, Sendable {
        case steps(Int)
        case epochs(Int)
    }

    var length: Length
    var batch: Int
    var lr: Double
    /// The embedding RMS the prompt-space rates were multiplied by (absent when not resolved).
    var lrScale: Double?
    var weightDecay: Double
    var warmup: Double
    var clip: Double
    /// Softmax temperature of the cosine logits. Nil in ATTEMPT's recipes, which record the
    /// attention temperature under the same key instead.
    var temperature: Double?
    var maxLength: Int
    var seed: UInt64
    var evalEvery: Int
    var patience: Int
    /// Recorded only when it is not `.afterCLS`, so recipes made before placements existed keep
    /// their bytes (and ids), and a recipe without it means after-cls.
    var placement: PromptPlacement
    static let optimizer: JSONValue = "adamw"

    init(_ c: TrainConfig) {
        length = c.steps.map { .steps($0) } ?? .epochs(c.epochs)
        batch = c.batchSize
        lr = Double(c.learningRate)
        lrScale = c.learningRateScale.map(Double.init)
        weightDecay = Double(c.weightDecay)
        warmup = Double(c.warmupFraction)
        clip = Double(c.clipNorm)
        temperature = Double(c.temperature)
        maxLength = c.maxLength
        seed = c.seed
        evalEvery = c.evalEvery
        patience = c.patience
        placement = c.placement
    }

    var params: [String: JSONValue] {
        var p: [String: JSONValue] = [
            "batch": .count(batch), "lr": .double(lr), "weight_decay": .double(weightDecay),
            "warmup": .double(warmup), "clip": .double(clip), "max_length": .count(maxLength),
            "seed": .seed(seed), "optimizer": Self.optimizer, "eval_every": .count(evalEvery),
            "patience": .count(patience),
        ]
        if let temperature { p["temperature"] = .double(temperature) }
        if let lrScale { p["lr_scale"] = .double(lrScale) }
        if placement != PromptPlacement.recordedDefault { p["placement"] = .string(placement.rawValue) }
        switch length {
        case .steps(let n): p["steps"] = .count(n)
        case .epochs(let n): p["epochs"] = .count(n)
        }
        return p
    }

    /// - Parameter temperature: false where the recipe's `temperature` means something else.
    init(_ r: RecipeParams, temperature readsTemperature: Bool = true) throws {
        try r.constant("optimizer", Self.optimizer)
        if r.has("steps") {
            length = .steps(try r.int("steps"))
        } else {
            length = .epochs(try r.int("epochs"))
        }
        batch = try r.int("batch")
        lr = try r.double("lr")
        lrScale = try r.optionalDouble("lr_scale")
        weightDecay = try r.double("weight_decay")
        warmup = try r.double("warmup")
        clip = try r.double("clip")
        temperature = readsTemperature ? try r.double("temperature") : nil
        maxLength = try r.int("max_length")
        seed = try r.seed("seed")
        evalEvery = try r.int("eval_every")
        patience = try r.int("patience")
        placement = r.has("placement") ? try r.word("placement", as: PromptPlacement.self) : PromptPlacement.recordedDefault
    }
}

/// What a recipe records about one task and its training data.
struct TaskRecord: Hashable, Sendable {
    var task: String
    var taskSHA256: String
    var dataSHA256: String

    init(_ task: TaskSpec, _ data: Dataset) {
        self.task = task.name
        taskSHA256 = task.sha256
        dataSHA256 = data.sha256
    }

    init(_ t: TaskData) { self.init(t.task, t.train) }

    var params: [String: JSONValue] {
        ["task": .string(task), "task_sha256": .string(taskSHA256), "data_sha256": .string(dataSHA256)]
    }

    init(_ r: RecipeParams) throws {
        task = try r.string("task")
        taskSHA256 = try r.string("task_sha256")
        dataSHA256 = try r.string("data_sha256")
    }

    static func list(_ tasks: [TaskRecord]) -> JSONValue { .array(tasks.map { .object($0.params) }) }
}
