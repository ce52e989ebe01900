import PVecModel
import PVecStore

/// `train`: a soft prompt tuned on one task (`pvec train`); parent its init.
struct TrainRecipe: TypedRecipe {
    static let op = "train"
    var training: TrainingHyperparameters
    var task: TaskRecord
    var promptLength: Int
    /// Examples trained on (after few-shot sampling).
    var examples: Int
    var shots: Int?
    var devSHA256: String?

    init(training: TrainingHyperparameters, task: TaskRecord, promptLength: Int, examples: Int, shots: Int?, devSHA256: String?) {
        self.training = training
        self.task = task
        self.promptLength = promptLength
        self.examples = examples
        self.shots = shots
        self.devSHA256 = devSHA256
    }

    var params: [String: JSONValue] {
        var p = training.params.adding(task.params)
        p["prompt_len"] = .count(promptLength)
        p["examples"] = .count(examples)
        if let shots { p["shots"] = .count(shots) }
        if let devSHA256 { p["dev_sha256"] = .string(devSHA256) }
        return p
    }

    init(params: [String: JSONValue]) throws {
        let r = RecipeParams(params, op: Self.op)
        training = try TrainingHyperparameters(r)
        task = try TaskRecord(r)
        promptLength = try r.int("prompt_len")
        examples = try r.int("examples")
        shots = try r.optionalInt("shots")
        devSHA256 = try r.optionalString("dev_sha256")
    }
}

/// `eval`: an evaluation of a prompt, a mixture or no prompt on a labelled dataset (no blob;
/// parent the evaluated artifact, role `evaluated`).
struct EvalRecipe: TypedRecipe {
    static let op = "eval"
    var task: String
    var taskSHA256: String
    /// The data file's name.
    var data: String
    var dataSHA256: String
    var n: Int
    var temperature: Double
    var maxLength: Int
    /// Whether a prompt (or mixture) was evaluated; false for the zero-shot baseline.
    var prompt: Bool
    /// Where the prompt went; recorded only when it is not `.afterCLS` (older evaluations
    /// record none and meant after-cls).
    var placement: PromptPlacement?

    init(task: TaskSpec, data: Dataset, temperature: Float, maxLength: Int, prompt: Bool, placement: PromptPlacement? = nil) {
        self.task = task.name
        taskSHA256 = task.sha256
        self.data = data.source
        dataSHA256 = data.sha256
        n = data.examples.count
        self.temperature = Double(temperature)
        self.maxLength = maxLength
        self.prompt = prompt
        self.placement = prompt && placement != PromptPlacement.recordedDefault ? placement : nil
    }

    var params: [String: JSONValue] {
        var p: [String: JSONValue] = [
            "task": .string(task), "task_sha256": .string(taskSHA256), "data": .string(data),
            "data_sha256": .string(dataSHA256), "n": .count(n), "temperature": .double(temperature),
            "max_length": .count(maxLength), "prompt": .bool(prompt)]
        if let placement { p["placement"] = .string(placement.rawValue) }
        return p
    }

    init(params: [String: JSONValue]) throws {
        let r = RecipeParams(params, op: Self.op)
        task = try r.string("task")
        taskSHA256 = try r.string("task_sha256")
        data = try r.string("data")
        dataSHA256 = try r.string("data_sha256")
        n = try r.int("n")
        temperature = try r.double("temperature")
        maxLength = try r.int("max_length")
        prompt = try r.bool("prompt")
        placement = r.has("placement") ? try r.word("placement", as: PromptPlacement.self) : nil
    }
}
