import PVecStore

/// `meta-init`: a meta-learned prompt init (kind `init`); parent its starting point.
struct MetaInitRecipe: TypedRecipe {
    static let op = "meta-init"
    static let innerOptimizer: JSONValue = "sgd"
    static let split: JSONValue = "seeded halves: support, query"
    var method: MetaMethod
    var outerSteps: Int
    var innerSteps: Int
    var innerLR: Double
    /// The outer rate used (the method's default when none was given).
    var outerLR: Double
    var batch: Int
    var temperature: Double
    var maxLength: Int
    var clip: Double
    var seed: UInt64
    var promptLength: Int
    var tasks: [TaskRecord]
    var shots: Int?
    /// FOMAML's embedding RMS (the unit of its outer rate); nil for Reptile.
    var lrScale: Double?

    /// Reptile interpolates; FOMAML steps AdamW on the query gradient.
    static func outerOptimizer(_ m: MetaMethod) -> JSONValue { m == .reptile ? "interpolate" : "adamw" }

    /// The recipe of a run with the resolved config `c` (`lrScale` measured for FOMAML).
    init(_ c: MetaInitConfig, promptLength: Int, tasks: [TaskRecord], shots: Int?) {
        method = c.method
        outerSteps = c.outerSteps
        innerSteps = c.innerSteps
        innerLR = Double(c.innerLearningRate)
        outerLR = Double(c.effectiveOuterLearningRate)
        batch = c.batchSize
        temperature = Double(c.temperature)
        maxLength = c.maxLength
        clip = Double(c.clipNorm)
        seed = c.seed
        self.promptLength = promptLength
        self.tasks = tasks
        self.shots = shots
        lrScale = c.method == .fomaml ? c.learningRateScale.map(Double.init) : nil
    }

    var params: [String: JSONValue] {
        var p: [String: JSONValue] = [
            "method": .string(method.rawValue),
            "outer_steps": .count(outerSteps), "inner_steps": .count(innerSteps),
            "inner_lr": .double(innerLR), "outer_lr": .double(outerLR),
            "inner_optimizer": Self.innerOptimizer, "outer_optimizer": Self.outerOptimizer(method),
            "batch": .count(batch), "temperature": .double(temperature),
            "max_length": .count(maxLength), "clip": .double(clip),
            "seed": .seed(seed), "split": Self.split,
            "prompt_len": .count(promptLength),
            "tasks": TaskRecord.list(tasks),
        ]
        if let shots { p["shots"] = .count(shots) }
        if let lrScale { p["lr_scale"] = .double(lrScale) }
        return p
    }

    init(params: [String: JSONValue]) throws {
        let r = RecipeParams(params, op: Self.op)
        method = try r.word("method", as: MetaMethod.self)
        outerSteps = try r.int("outer_steps")
        innerSteps = try r.int("inner_steps")
        innerLR = try r.double("inner_lr")
        outerLR = try r.double("outer_lr")
        try r.constant("inner_optimizer", Self.innerOptimizer)
        try r.constant("outer_optimizer", Self.outerOptimizer(method))
        batch = try r.int("batch")
        temperature = try r.double("temperature")
        maxLength = try r.int("max_length")
        clip = try r.double("clip")
        seed = try r.seed("seed")
        try r.constant("split", Self.split)
        promptLength = try r.int("prompt_len")
        tasks = try r.objects("tasks", TaskRecord.init)
        shots = try r.optionalInt("shots")
        lrScale = try r.optionalDouble("lr_scale")
    }
}
