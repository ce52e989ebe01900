import Foundation
import PVecModel
import PVecOps
import PVecStore
import PVecTensor

/// Scores a prompt, an init, an ATTEMPT mixture (one prompt per input) or no prompt (the
/// zero-shot baseline) on a labelled dataset (`pvec eval`), and stores an `evaluation` artifact
/// (`eval`, no blob) linked to it (role `evaluated`) with the task and data hashes.
public struct EvaluationRun: TrainingRun {
    /// The prompt or mixture; nil for the zero-shot baseline.
    var spec: String?
    var task: TaskSpec
    var data: Dataset
    public var temperature: Float = 0.05
    public var maxLength: Int = 128
    /// Where the prompt goes; nil: `Registry.evaluationPlacement(of:)` (what it was trained with).
    public var placement: PromptPlacement?
    /// Hears how many examples are done.
    public var progress: ((Int) -> Void)?

    public init(_ spec: String?, task: TaskSpec, data: Dataset) {
        self.spec = spec
        self.task = task
        self.data = data
    }

    public var outputNames: [String] { [] }
    public var inputNames: [String] { spec.map { [$0] } ?? [] }

    public func run(in session: TrainingSession) throws -> (stored: Stored, metrics: ClassificationMetrics) {
        let model = try session.model(placement: PromptPlacement.recordedDefault)
        var prompt: Tensor?
        var parents: [Parent] = []
        var composite: AttemptComposite?
        var used: PromptPlacement?
        if let spec {
            let o = try session.registry.operand(spec)
            used = placement ?? session.registry.evaluationPlacement(of: o.id)
            model.promptPlacement = used ?? PromptPlacement.recordedDefault
            if o.manifest.kind == .mixture {
                // A mixture (ATTEMPT) makes one prompt per input: run its composition.
                composite = try session.composer(forMixture: o.id)
            } else if !(o.manifest.kind == .prompt || o.manifest.kind == .`init`) {
                throw TrainError.notEvaluable("\(spec) is a \(o.manifest.kind.rawValue), not a prompt; evaluate a prompt made from it, e.g. `pvec add \(spec) --onto INIT --name P`")
            }
            if let b = o.manifest.backbone, !b.isCompatible(with: model.fingerprint) {
                throw OpsError.backboneMismatch("\(spec) (\(b))", "the model (\(model.fingerprint))")
            }
            if composite == nil { prompt = try session.registry.tensor(o.id) }
            parents = [Parent(.evaluated, o.id)]
        }
        let scorer = try LabelScorer(task: task, model: model, temperature: temperature, maxLength: maxLength)
        let evaluator = Evaluator(model: model, scorer: scorer, batchSize: 32, maxLength: maxLength)
        let metrics = try composite.map { try evaluator.evaluate(data, composer: $0, progress: progress).metrics }
            ?? evaluator.evaluate(data, prompt: prompt, progress: progress)
        let recipe = EvalRecipe(task: task, data: data, temperature: temperature, maxLength: maxLength, prompt: spec != nil,
                                placement: used)
        let m = Manifest(kind: .evaluation, blob: nil, shape: nil, backbone: model.fingerprint, parents: parents,
                         recipe: recipe.recipe, metrics: metrics.json(labelNames: task.labels.map(\.name)))
        return (try session.record(m, name: nil), metrics)
    }
}

/// The mean attention of an ATTEMPT mixture over a dataset, per source and the target (last),
/// and the accuracy (`pvec attention`, `pvec show --attention`); stores nothing.
public struct AttentionRun: TrainingRun {
    var mixture: String
    var task: TaskSpec
    var data: Dataset
    public var maxLength: Int = 128
    var temperature: Float = 0.05

    public init(_ mixture: String, task: TaskSpec, data: Dataset) {
        self.mixture = mixture
        self.task = task
        self.data = data
    }

    public var outputNames: [String] { [] }
    public var inputNames: [String] { [mixture] }

    public func run(in session: TrainingSession) throws -> (labels: [String], mean: [Double], metrics: ClassificationMetrics) {
        let registry = session.registry
        let o = try registry.operand(mixture)
        let model = try session.model(placement: registry.evaluationPlacement(of: o.id))
        guard o.manifest.kind == .mixture, o.manifest.recipe.op == AttemptRecipe.op else {
            throw OpsError.wrongKind(mixture, o.manifest.kind, expected: "an ATTEMPT mixture (made by `pvec attempt`)")
        }
        let composite = try session.composer(forMixture: o.id)
        guard let t = o.manifest.parents.first(where: { $0.role == .tuned })?.id else {
            throw TrainError.badModule("mixture \(o.id.short) lacks its target (tuned) parent")
        }
        let scorer = try LabelScorer(task: task, model: model, temperature: temperature, maxLength: maxLength)
        let (metrics, mean) = try Evaluator(model: model, scorer: scorer, batchSize: 32, maxLength: maxLength)
            .evaluate(data, composer: composite)
        var labels: [String] = []
        for p in o.manifest.parents where p.role == .source {
            labels.append((try? registry.names(of: p.id).first) ?? p.id.short)
        }
        labels.append(((try? registry.names(of: t).first) ?? t.short) + " (target)")
        return (labels, mean ?? [], metrics)
    }
}
