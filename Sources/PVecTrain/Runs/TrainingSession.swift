import Foundation
import PVecModel
import PVecOps
import PVecStore
import PVecTensor

/// What every training run shares: the registry it records into, the frozen model (loaded on
/// first use), the command line for ref history, and the steps every run repeats: name checks,
/// operands and inits, few-shot sampling, metrics and storing results with lineage.
public final class TrainingSession {
    let registry: Registry
    /// The command line, recorded in ref history and the audit log.
    let command: String
    /// Hears about every training step.
    var progress: ((TrainProgress) -> Void)?
    private let loadModel: () throws -> any BackboneModel
    private var loaded: (any BackboneModel)?

    /// A session whose model is loaded only once a run's inputs have been checked.
    public init(registry: Registry, command: String, progress: ((TrainProgress) -> Void)? = nil,
                model: @escaping () throws -> any BackboneModel) {
        self.registry = registry
        self.command = command
        self.progress = progress
        loadModel = model
    }

    public convenience init(registry: Registry, model: any BackboneModel, command: String,
                            progress: ((TrainProgress) -> Void)? = nil) {
        self.init(registry: registry, command: command, progress: progress, model: { model })
    }

    /// Checks `r` (the request, the names it writes, the names it reads), loads the model and runs it.
    public func run<R: TrainingRun>(_ r: R) throws -> R.Outcome {
        try r.validate()
        for n in r.outputNames { try RefName.validate(n) }
        for s in r.inputNames { _ = try registry.resolve(s) }
        _ = try model()
        return try r.run(in: self)
    }

    /// The frozen backbone (loaded on first use).
    func model() throws -> any BackboneModel {
        if let loaded { return loaded }
        let m = try loadModel()
        loaded = m
        return m
    }

    /// The frozen backbone, set to put prompts where `placement` says (a session's model serves
    /// one run at a time, and every run states its placement).
    func model(placement: PromptPlacement) throws -> any BackboneModel {
        let m = try model()
        m.promptPlacement = placement
        return m
    }

    // MARK: - Tasks and data

    /// Refuses two tasks of one name (their outputs would collide).
    static func checkDistinctNames(_ tasks: [TaskData]) throws {
        let names = tasks.map(\.task.name)
        guard Set(names).count == names.count else {
            throw TrainError.badTasks("task names must differ (\(names.joined(separator: ", ")))")
        }
    }

    /// Each task's class-balanced few-shot sample (`shots` per label, seeded), or the tasks as given.
    static func fewShot(_ tasks: [TaskData], shots: Int?, seed: UInt64) throws -> [TaskData] {
        guard let k = shots else { return tasks }
        return try tasks.map { TaskData(task: $0.task, train: try $0.train.fewShot(k, labels: $0.task.labels.count, seed: seed)) }
    }

    // MARK: - Operands

    /// A prompt (or init) to read: on the model's backbone; `expected` says what was wanted.
    func resolvePrompt(_ spec: String, expected: String) throws -> ResolvedPrompt {
        let backbone = try model().fingerprint
        let o = try registry.operand(spec)
        guard o.manifest.kind == .prompt || o.manifest.kind == .`init` else {
            throw OpsError.wrongKind(spec, o.manifest.kind, expected: expected)
        }
        guard let b = o.manifest.backbone, b.isCompatible(with: backbone) else {
            throw OpsError.backboneMismatch("\(spec) (\(o.manifest.backbone?.description ?? "no backbone"))", "the model (\(backbone))")
        }
        return ResolvedPrompt(spec: spec, id: o.id, tensor: try registry.tensor(o.id))
    }

    /// Prompts (or inits) for a composition: each on the model's backbone, all of one shape.
    ///
    /// - Throws: `OpsError.wrongKind`, `.backboneMismatch`, `.shapeMismatch`, store errors for unknown names.
    func resolvePrompts(_ specs: [String], role: String) throws -> [ResolvedPrompt] {
        var out: [ResolvedPrompt] = []
        for spec in specs {
            let p = try resolvePrompt(spec, expected: "a prompt to use as \(role)")
            if let first = out.first, p.tensor.shape != first.tensor.shape {
                throw OpsError.shapeMismatch(first.spec, first.tensor.shape, spec, p.tensor.shape)
            }
            out.append(p)
        }
        return out
    }

    /// A stored module to start a run from: made by recipe `R`, on the model's backbone.
    ///
    /// - Throws: `OpsError.wrongKind` (naming `what` was expected), `.backboneMismatch`.
    func startModule<R: TypedRecipe>(_ spec: String, made: R.Type, what: String) throws
        -> (id: ArtifactID, recipe: R?, tensors: [String: Tensor]) {
        let backbone = try model().fingerprint
        let o = try registry.operand(spec)
        guard o.manifest.kind == .module, o.manifest.recipe.op == R.op else {
            throw OpsError.wrongKind(spec, o.manifest.kind, expected: what)
        }
        guard let b = o.manifest.backbone, b.isCompatible(with: backbone) else {
            throw OpsError.backboneMismatch("\(spec) (\(o.manifest.backbone?.description ?? "no backbone"))", "the model (\(backbone))")
        }
        return (o.id, try? R(o.manifest.recipe), try moduleTensors(o.id))
    }

    /// The named tensors of a module (without the packed `"tensor"`).
    func moduleTensors(_ id: ArtifactID) throws -> [String: Tensor] {
        let m = try registry.manifest(id)
        guard m.kind == .module, let b = m.blob else {
            throw OpsError.wrongKind(id.short, m.kind, expected: "a module")
        }
        var t = try registry.blob(b)
        t["tensor"] = nil
        return t
    }

    /// The composite a mixture artifact stands for, ready to run.
    ///
    /// - Throws: `TrainError.unknownMethod` for a recipe this version cannot run.
    func composer(forMixture id: ArtifactID) throws -> AttemptComposite {
        let m = try registry.manifest(id)
        guard m.kind == .mixture else { throw OpsError.wrongKind(id.short, m.kind, expected: "a mixture") }
        guard m.recipe.op == AttemptRecipe.op else { throw TrainError.unknownMethod(m.recipe.op) }
        guard let t = m.parents.first(where: { $0.role == .tuned }), let g = m.parents.first(where: { $0.role == .module }) else {
            throw TrainError.badModule("mixture \(id.short) lacks its target (tuned) or module parent")
        }
        let sources = try m.parents.filter { $0.role == .source }.map { try registry.tensor($0.id) }
        guard let recipe = try? AttemptRecipe(m.recipe), recipe.temperature > 0 else {
            throw TrainError.badModule("mixture \(id.short) records no attention temperature")
        }
        let module = try AttemptModule(tensors: moduleTensors(g.id), temperature: Float(recipe.temperature))
        return AttemptComposite(target: try registry.tensor(t.id), sources: sources, module: module)
    }

    // MARK: - Inits

    /// Where a run starts: a registry prompt or init, or a seeded `vocab-sample` init that is
    /// stored only once the run has succeeded.
    struct StartingPoint {
        enum Source {
            case stored(ArtifactID)
            case seeded(Recipe)
        }
        var tensor: Tensor
        var source: Source
    }

    /// The registry prompt `spec` (checked as `expected`), or else the seeded init of `rows` rows.
    func startingPoint(_ spec: String?, expected: String, rows: Int, seed: UInt64) throws -> StartingPoint {
        if let spec {
            let p = try resolvePrompt(spec, expected: expected)
            return StartingPoint(tensor: p.tensor, source: .stored(p.id))
        }
        return try seededInit(rows: rows, seed: seed)
    }

    /// The seeded `vocab-sample` init of `rows` rows, computed with the model's embedding table.
    func seededInit(rows: Int, seed: UInt64) throws -> StartingPoint {
        let model = try model()
        let recipe = InitRecipe(method: .vocabSample, rows: rows, width: model.width, seed: seed)
        let r = recipe.recipe
        let t = try Derivation.compute(r, parents: [], backbone: model.fingerprint,
                                       embeddingTable: { _ in model.wordEmbeddings(rows: 0..<min(recipe.firstK, model.vocabularySize)) })
        return StartingPoint(tensor: t, source: .seeded(r))
    }

    /// The starting point as an artifact: a seeded init is stored under `name`.
    func store(_ start: StartingPoint, name: String) throws -> Stored {
        switch start.source {
        case .stored(let id):
            return Stored(id: id, manifest: try registry.manifest(id))
        case .seeded(let recipe):
            return try registry.store(start.tensor, kind: .`init`, recipe: recipe, parents: [], backbone: try model().fingerprint,
                                      name: name, command: command)
        }
    }

    // MARK: - Results

    /// The metrics every trained artifact records: the last step's loss and the steps run.
    static func lossMetrics(_ losses: [Float]) -> [String: JSONValue] {
        ["final_loss": .double(ClassificationMetrics.rounded(Double(losses.last ?? .nan))),
         "steps_run": .int(Int64(losses.count))]
    }

    /// Stores a trained tensor (a prompt, or an init) with its recipe and lineage.
    ///
    /// Like every derivation it carries its parents' PEFT adapter config and element type
    /// (`AdapterProfile.combine`), so a prompt trained or composed from PEFT adapters exports as
    /// one; with no parent from PEFT the recipe is unchanged (and so is the id).
    func store(_ tensor: Tensor, kind: ArtifactKind = .prompt, recipe: some TypedRecipe, parents: [Parent],
               metrics: [String: JSONValue], name: String) throws -> Stored {
        let profile = try carriedProfile(parents, shape: tensor.shape)
        return try registry.store(tensor, kind: kind, recipe: profile.applied(to: recipe.recipe), parents: parents + profile.parents,
                                  backbone: try model().fingerprint, metrics: metrics, name: name, command: command)
    }

    /// The adapter profile a trained result of `parents` carries: config and element type as
    /// `AdapterProfile.combine` gives them, but no head. A head (`modules_to_save`) was trained
    /// with its adapter's own prompt, and these results are new prompts (an ATTEMPT target, an
    /// AMP or ComPT composition, a meta-init), so none of their parents' heads belongs to them.
    ///
    /// - Throws: `OpsError.peftMismatch` when parents from different kinds of adapter meet.
    func carriedProfile(_ parents: [Parent], shape: Shape?) throws -> AdapterProfile {
        var seen = Set<ArtifactID>()
        var operands: [(role: ParentRole, operand: Operand)] = []
        for p in parents where seen.insert(p.id).inserted {
            var m = try registry.manifest(p.id)
            guard m.kind.isPromptShaped else { continue }   // modules and mixtures carry no adapter config
            m.parents.removeAll { $0.role == .module }      // heads are not carried (see above)
            let spec = (try? registry.names(of: p.id).first) ?? p.id.short
            operands.append((p.role, Operand(spec: spec, id: p.id, manifest: m)))
        }
        return try AdapterProfile.combine(operands, override: nil, shape: shape)
    }

    /// Stores a trained module: one blob holding each named tensor, plus `"tensor"`, the
    /// concatenation of all of them in key order (1-D, the manifest's shape), so that the generic
    /// commands (`show`, `verify`, `export`, `cos`) see a module like any other artifact.
    func storeModule(_ tensors: [String: Tensor], recipe: some TypedRecipe, parents: [Parent],
                     metrics: [String: JSONValue], name: String) throws -> Stored {
        precondition(tensors["tensor"] == nil, "\"tensor\" is reserved for the packed parameters")
        let packed = tensors.keys.sorted().flatMap { tensors[$0]!.scalars }
        var all = tensors
        all["tensor"] = Tensor(shape: [packed.count], scalars: packed)
        guard packed.allSatisfy(\.isFinite) else { throw OpsError.nonFinite("the trained module") }
        let blob = try registry.putBlob(all)
        let m = Manifest(kind: .module, blob: blob, shape: [packed.count], backbone: try model().fingerprint, parents: parents,
                         recipe: recipe.recipe, metrics: metrics)
        return try record(m, name: name)
    }

    /// Stores a mixture: a blob-less manifest that names its parts as parents (its recipe says
    /// how to run them); `pvec eval` runs it.
    func storeMixture(recipe: some TypedRecipe, parents: [Parent], metrics: [String: JSONValue], name: String) throws -> Stored {
        let m = Manifest(kind: .mixture, blob: nil, shape: nil, backbone: try model().fingerprint, parents: parents,
                         recipe: recipe.recipe, metrics: metrics)
        return try record(m, name: name)
    }

    /// Writes a manifest and, with a name, points the name at it.
    func record(_ m: Manifest, name: String?) throws -> Stored {
        let id = try registry.writeManifest(m)
        let version = try name.map { try registry.updateRef($0, to: id, command: command) }
        return Stored(id: id, manifest: m, name: name, version: version)
    }
}

/// A prompt operand resolved for a run: what the user typed, the artifact, its tensor.
struct ResolvedPrompt: Sendable {
    var spec: String
    var id: ArtifactID
    var tensor: Tensor
}
