import Foundation

/// Problems with composition-method (ATTEMPT, AMP, ComPT, meta-init) inputs and artifacts.
public enum MixtureError: Error, Equatable, LocalizedError {
    /// A stored module lacks a tensor or has the wrong shapes.
    case badModule(String)
    /// The sources cannot be used together (count, shape or kind).
    case badSources(String)
    /// The task list is unusable (too few tasks, or a task without data).
    case badTasks(String)
    /// The mixture's recipe names a method this version does not run.
    case unknownMethod(String)

    public var errorDescription: String? {
        switch self {
        case .badModule(let why): return "bad module: \(why)"
        case .badSources(let why): return "bad sources: \(why)"
        case .badTasks(let why): return "bad tasks: \(why)"
        case .unknownMethod(let op): return "mixture made by '\(op)' cannot be run by this pvec; upgrade pvec"
        }
    }
}
