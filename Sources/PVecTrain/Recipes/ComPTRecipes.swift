import PVecStore

/// What ComPT's four recipes share: the settings of the one multi-task run that made them.
struct ComPTSettings: Hashable, Sendable {
    /// The schedule, batch, clipping and weight decay (`lr` is the schedule's peak, 1).
    var training: TrainingHyperparameters
    var tasks: [TaskRecord]
    var composition: ComPTComposition
    var routerLR: Double
    var sourceLR: Double
    var privateLR: Double
    var mixingCap: Int
    var moduleSeed: UInt64
    var initSeed: UInt64
    /// Rows l of each source prompt.
    var promptLength: Int
    var shots: Int?
    /// The Relaxed Bernoulli temperature's anneal (`ComPTModule.temperature(at:total:)`).
    static let tau: JSONValue = ["start": 5.0, "end": 0.001, "schedule": "linear"]

    init(training: TrainingHyperparameters, tasks: [TaskRecord], composition: ComPTComposition, rates: ComPTRates,
         mixingCap: Int, moduleSeed: UInt64, initSeed: UInt64, promptLength: Int, shots: Int?) {
        self.training = training
        self.tasks = tasks
        self.composition = composition
        routerLR = Double(rates.router)
        sourceLR = Double(rates.sources)
        privateLR = Double(rates.privates)
        self.mixingCap = mixingCap
        self.moduleSeed = moduleSeed
        self.initSeed = initSeed
        self.promptLength = promptLength
        self.shots = shots
    }

    var params: [String: JSONValue] {
        var p = training.params
        p["tasks"] = TaskRecord.list(tasks)
        p["composition"] = .string(composition.rawValue)
        p["router_lr"] = .double(routerLR)
        p["source_lr"] = .double(sourceLR)
        p["private_lr"] = .double(privateLR)
        p["tau"] = Self.tau
        p["mixing_cap"] = .count(mixingCap)
        p["module_seed"] = .seed(moduleSeed)
        p["init_seed"] = .seed(initSeed)
        p["prompt_len"] = .count(promptLength)
        if let shots { p["shots"] = .count(shots) }
        return p
    }

    init(_ r: RecipeParams) throws {
        training = try TrainingHyperparameters(r)
        tasks = try r.objects("tasks", TaskRecord.init)
        composition = try r.word("composition", as: ComPTComposition.self)
        routerLR = try r.double("router_lr")
        sourceLR = try r.double("source_lr")
        privateLR = try r.double("private_lr")
        try r.constant("tau", Self.tau)
        mixingCap = try r.int("mixing_cap")
        moduleSeed = try r.seed("module_seed")
        initSeed = try r.seed("init_seed")
        promptLength = try r.int("prompt_len")
        shots = try r.optionalInt("shots")
    }
}

/// `compt-source`: a trained shared source prompt NAME.src<i>; parent its init.
struct ComPTSourceRecipe: TypedRecipe {
    static let op = "compt-source"
    var settings: ComPTSettings
    var sourceIndex: Int

    init(settings: ComPTSettings, sourceIndex: Int) {
        self.settings = settings
        self.sourceIndex = sourceIndex
    }

    var params: [String: JSONValue] { settings.params.merging(["source_index": .count(sourceIndex)]) { _, b in b } }

    init(params: [String: JSONValue]) throws {
        let r = RecipeParams(params, op: Self.op)
        settings = try ComPTSettings(r)
        sourceIndex = try r.int("source_index")
    }
}

/// `compt-private`: a task's trained private prompt; parent its init.
struct ComPTPrivateRecipe: TypedRecipe {
    static let op = "compt-private"
    var settings: ComPTSettings
    var targetTask: String

    init(settings: ComPTSettings, targetTask: String) {
        self.settings = settings
        self.targetTask = targetTask
    }

    var params: [String: JSONValue] { settings.params.merging(["target_task": .string(targetTask)]) { _, b in b } }

    init(params: [String: JSONValue]) throws {
        let r = RecipeParams(params, op: Self.op)
        settings = try ComPTSettings(r)
        targetTask = try r.string("target_task")
    }
}

/// `compt-router`: router logits and both prompt encoders; parents the sources and privates.
struct ComPTRouterRecipe: TypedRecipe {
    static let op = "compt-router"
    var settings: ComPTSettings

    init(settings: ComPTSettings) { self.settings = settings }

    var params: [String: JSONValue] { settings.params }

    init(params: [String: JSONValue]) throws {
        settings = try ComPTSettings(RecipeParams(params, op: Self.op))
    }
}

/// `compt`: a task's composed prompt with inference weights; parents the sources, its private
/// prompt (`operand`) and the router (`module`).
struct ComPTRecipe: TypedRecipe {
    static let op = "compt"
    var settings: ComPTSettings
    var targetTask: String
    var targetIndex: Int

    init(settings: ComPTSettings, targetTask: String, targetIndex: Int) {
        self.settings = settings
        self.targetTask = targetTask
        self.targetIndex = targetIndex
    }

    var params: [String: JSONValue] {
        settings.params.merging(["target_task": .string(targetTask), "target_index": .count(targetIndex)]) { _, b in b }
    }

    init(params: [String: JSONValue]) throws {
        let r = RecipeParams(params, op: Self.op)
        settings = try ComPTSettings(r)
        targetTask = try r.string("target_task")
        targetIndex = try r.int("target_index")
    }
}
