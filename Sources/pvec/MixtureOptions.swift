import ArgumentParser
import Foundation
import PVecStore
import PVecTrain

/// Flags every gradient-trained command shares (train, attempt, amp, compt).
struct TrainingFlags: ParsableArguments {
    @Option(help: "Class-balanced examples per label of each task (few-shot).") var shots: Int?
    @Option(help: "Seed of batch order and few-shot sampling.") var seed: UInt64 = 0
    @Option(help: "Weight decay.") var weightDecay: Float = 1e-5
    @Option(help: "Warm-up fraction of the steps.") var warmup: Float = 0.06
    @Option(help: "Gradient clipping norm over all trained tensors (0: off).") var clip: Float = 1.0
    @Option(help: "Softmax temperature of the cosine logits.") var temperature: Float = 0.05
    @Option(help: "Longest input in tokens.") var maxLength: Int = 128

    func validate() throws {
        if let shots, shots <= 0 { throw ValidationError("Please give --shots of at least 1.") }
        guard temperature > 0 else { throw ValidationError("Please give a positive --temperature.") }
    }

    /// Sets these flags' fields of `c`.
    func apply(to c: inout TrainConfig) {
        c.seed = seed
        c.weightDecay = weightDecay
        c.warmupFraction = warmup
        c.clipNorm = clip
        c.temperature = temperature
        c.maxLength = maxLength
    }
}

/// Training flags of the composition commands (attempt, amp, compt).
struct MixTrainOptions: ParsableArguments {
    @Option(help: "Optimizer steps.") var steps: Int = 60
    @Option(help: "Batch size.") var batch: Int = 8
    @OptionGroup var flags: TrainingFlags

    var shots: Int? { flags.shots }

    func validate() throws {
        guard steps > 0 else { throw ValidationError("Please give --steps of at least 1.") }
        guard batch > 0 else { throw ValidationError("Please give --batch of at least 1.") }
    }

    /// The config with these flags and the given peak learning rate.
    func config(learningRate: Float) -> TrainConfig {
        var c = TrainConfig()
        c.steps = steps
        c.batchSize = batch
        c.learningRate = learningRate
        flags.apply(to: &c)
        return c
    }
}

/// `--tasks A,B,...`: task directories holding task.json and train.jsonl (a bare name is looked
/// up under --data-root).
struct TaskListOptions: ParsableArguments {
    @Option(help: "Comma-separated task directories (each with task.json and train.jsonl), or names under --data-root.", completion: .directory)
    var tasks: String
    @Option(help: "Where bare task names are looked up.", completion: .directory) var dataRoot: String = "data"

    var taskList: [String] { commaList(tasks) }

    func validate() throws {
        guard !taskList.isEmpty else { throw ValidationError("Please give --tasks as a comma-separated list, e.g. --tasks data/movie,data/amazon.") }
    }

    /// Every task's spec and training data.
    func load() throws -> [TaskData] { try TaskFolder.load(taskList, dataRoot: URL(fileURLWithPath: dataRoot)) }
}

/// Splits a comma-separated list of registry names.
func commaList(_ s: String?) -> [String] {
    (s ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

/// The loss line the training commands print.
func lossLine(_ losses: [Float], seconds: Double) -> String {
    let first = losses.first.map { String(format: "%.4f", $0) } ?? "-"
    let last = losses.last.map { String(format: "%.4f", $0) } ?? "-"
    return "loss \(first) -> \(last) in \(losses.count) steps, \(String(format: "%.1f", seconds))s"
}
