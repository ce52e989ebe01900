import PVecStore

/// What AMP's module and target recipes share.
struct AMPSettings: Hashable, Sendable {
    var training: TrainingHyperparameters
    var tasks: [TaskRecord]
    var keyWidth: Int
    var pooling: DAMModule.Pooling
    /// Seed of a fresh module; nil when the run started from a stored module.
    var moduleSeed: UInt64?
    var mixingCap: Int
    /// Source prompt ids, one per task, in task order.
    var sources: [String]
    var shots: Int?

    init(training: TrainingHyperparameters, tasks: [TaskRecord], keyWidth: Int, pooling: DAMModule.Pooling,
         moduleSeed: UInt64?, mixingCap: Int, sources: [String], shots: Int?) {
        self.training = training
        self.tasks = tasks
        self.keyWidth = keyWidth
        self.pooling = pooling
        self.moduleSeed = moduleSeed
        self.mixingCap = mixingCap
        self.sources = sources
        self.shots = shots
    }

    var params: [String: JSONValue] {
        var p = training.params
        p["tasks"] = TaskRecord.list(tasks)
        p["key_width"] = .count(keyWidth)
        p["pooling"] = .string(pooling.rawValue)
        if let moduleSeed { p["module_seed"] = .seed(moduleSeed) }
        p["mixing_cap"] = .count(mixingCap)
        p["sources"] = .array(sources.map { .string($0) })
        if let shots { p["shots"] = .count(shots) }
        return p
    }

    init(_ r: RecipeParams) throws {
        training = try TrainingHyperparameters(r)
        tasks = try r.objects("tasks", TaskRecord.init)
        keyWidth = try r.int("key_width")
        pooling = try r.word("pooling", as: DAMModule.Pooling.self)
        moduleSeed = try r.optionalSeed("module_seed")
        mixingCap = try r.int("mixing_cap")
        sources = try r.strings("sources")
        shots = try r.optionalInt("shots")
    }
}

/// `amp-module`: AMP's trained W_Q, W_K, W_V; parents the sources and the start module.
struct AMPModuleRecipe: TypedRecipe {
    static let op = "amp-module"
    var settings: AMPSettings

    init(settings: AMPSettings) { self.settings = settings }

    var params: [String: JSONValue] { settings.params }

    init(params: [String: JSONValue]) throws {
        settings = try AMPSettings(RecipeParams(params, op: Self.op))
    }
}

/// `amp`: one task's target prompt of an AMP run; parents the sources and the module.
struct AMPRecipe: TypedRecipe {
    static let op = "amp"
    var settings: AMPSettings
    var targetTask: String
    var targetIndex: Int

    init(settings: AMPSettings, targetTask: String, targetIndex: Int) {
        self.settings = settings
        self.targetTask = targetTask
        self.targetIndex = targetIndex
    }

    var params: [String: JSONValue] {
        var p = settings.params
        p["target_task"] = .string(targetTask)
        p["target_index"] = .count(targetIndex)
        return p
    }

    init(params: [String: JSONValue]) throws {
        let r = RecipeParams(params, op: Self.op)
        settings = try AMPSettings(r)
        targetTask = try r.string("target_task")
        targetIndex = try r.int("target_index")
    }
}
