import PVecStore

/// A workflow run against a registry with a frozen model: prompt tuning, ATTEMPT, AMP, ComPT,
/// meta-init, evaluation. `TrainingSession.run` checks it, then runs it; a refusal stores nothing.
public protocol TrainingRun {
    associatedtype Outcome
    /// Checks the request itself, before the registry or the model is touched.
    func validate() throws
    /// Every name the run will write (checked before anything is trained).
    var outputNames: [String] { get }
    /// Registry names the run reads (resolved before the model loads, so a typo fails fast).
    var inputNames: [String] { get }
    /// Runs with the session's model and stores the results with lineage.
    func run(in session: TrainingSession) throws -> Outcome
}

extension TrainingRun {
    public func validate() throws {}
}
