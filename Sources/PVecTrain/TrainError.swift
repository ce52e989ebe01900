import Foundation

/// Problems with training inputs, runs and the composition methods' (ATTEMPT, AMP, ComPT,
/// meta-init) artifacts.
public enum TrainError: Error, Equatable, LocalizedError {
    /// A JSONL row that cannot be used; `line` is 1-based.
    case badRow(file: String, line: Int, reason: String)
    /// The task file is missing a field or holds a bad value.
    case badTask(file: String, reason: String)
    /// The data has no usable rows (or too few for the requested shots).
    case notEnoughData(String)
    /// A checkpoint that does not belong to this run.
    case badCheckpoint(String)
    /// The loss became NaN or infinite.
    case diverged(step: Int)
    /// The artifact cannot be evaluated as given.
    case notEvaluable(String)
    /// A stored module lacks a tensor or has the wrong shapes.
    case badModule(String)
    /// The sources cannot be used together (count, shape or kind).
    case badSources(String)
    /// The task list is unusable (too few tasks, or a task without data).
    case badTasks(String)
    /// The mixture's recipe names a method this version does not run.
    case unknownMethod(String)
    /// Neither `item` nor `tried` (the folder of that name under the data root) holds a task.json.
    case noTaskFolder(item: String, tried: String)

    public var errorDescription: String? {
        switch self {
        case .badRow(let file, let line, let reason):
            return "\(file):\(line): \(reason)"
        case .badTask(let file, let reason):
            return "task file \(file): \(reason)"
        case .notEnoughData(let why):
            return "not enough data: \(why)"
        case .badCheckpoint(let why):
            return "cannot resume: \(why)"
        case .diverged(let step):
            return "training diverged at step \(step) (loss is NaN or Inf); lower --lr"
        case .notEvaluable(let why):
            return why
        case .badModule(let why): return "bad module: \(why)"
        case .badSources(let why): return "bad sources: \(why)"
        case .badTasks(let why): return "bad tasks: \(why)"
        case .unknownMethod(let op): return "mixture made by '\(op)' cannot be run by this pvec; upgrade pvec"
        case .noTaskFolder(let item, let tried):
            return "Please give task directories with task.json and train.jsonl: found neither \(item)/task.json nor \(tried)/task.json."
        }
    }
}
