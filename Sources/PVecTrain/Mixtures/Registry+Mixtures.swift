import Foundation
import PVecModel
import PVecOps
import PVecStore
import PVecTensor

/// A prompt operand resolved for a composition method: what the user typed, the artifact, its tensor.
public struct ResolvedPrompt: Sendable {
    public var spec: String
    public var id: ArtifactID
    public var tensor: Tensor
}

/// A seeded `vocab-sample` init computed but not stored yet (stored only once training succeeded).
struct PendingInit {
    var recipe: Recipe
    var tensor: Tensor
}

extension Registry {
    // MARK: - Checking operands

    /// Resolves prompts (or inits) for a composition: each must be prompt-shaped, of kind prompt
    /// or init, on the model's backbone, and all of one shape.
    ///
    /// - Throws: `OpsError.wrongKind`, `.backboneMismatch`, `.shapeMismatch`, store errors for unknown names.
    public func resolvePrompts(_ specs: [String], model: any BackboneModel, role: String) throws -> [ResolvedPrompt] {
        var out: [ResolvedPrompt] = []
        for spec in specs {
            let o = try operand(spec)
            guard o.manifest.kind == .prompt || o.manifest.kind == .`init` else {
                throw OpsError.wrongKind(spec, o.manifest.kind, expected: "a prompt to use as \(role)")
            }
            guard let b = o.manifest.backbone, b.isCompatible(with: model.fingerprint) else {
                throw OpsError.backboneMismatch("\(spec) (\(o.manifest.backbone?.description ?? "no backbone"))", "the model (\(model.fingerprint))")
            }
            if let first = out.first, let s = o.manifest.shape, s != first.tensor.shape {
                throw OpsError.shapeMismatch(first.spec, first.tensor.shape, spec, s)
            }
            out.append(ResolvedPrompt(spec: spec, id: o.id, tensor: try tensor(o.id)))
        }
        return out
    }

    /// Checks that names can be written before any training starts (a refusal stores nothing).
    func validateNames(_ names: [String]) throws {
        for n in names { try RefName.validate(n) }
    }

    // MARK: - Inits

    /// The seeded `vocab-sample` init of `rows` rows, computed with the model's embedding table.
    func pendingInit(rows: Int, seed: UInt64, model: any BackboneModel) throws -> PendingInit {
        let recipe = InitRecipe(method: .vocabSample, rows: rows, width: model.width, seed: seed)
        let r = Recipe(op: "init", params: recipe.params)
        let t = try Derivation.compute(r, parents: [], backbone: model.fingerprint,
                                       embeddingTable: { _ in model.wordEmbeddings(rows: 0..<min(recipe.firstK, model.vocabularySize)) })
        return PendingInit(recipe: r, tensor: t)
    }

    func storeInit(_ p: PendingInit, backbone: Backbone, name: String?, command: String) throws -> Stored {
        try store(p.tensor, kind: .`init`, recipe: p.recipe, parents: [], backbone: backbone, name: name, command: command)
    }

    // MARK: - Modules and mixtures

    /// Stores a trained module: one blob holding each named tensor, plus `"tensor"`, the
    /// concatenation of all of them in key order (1-D, the manifest's shape), so that the generic
    /// commands (`show`, `verify`, `export`, `cos`) see a module like any other artifact.
    public func storeModule(_ tensors: [String: Tensor], recipe: Recipe, parents: [Parent], backbone: Backbone,
                            metrics: [String: JSONValue] = [:], name: String?, command: String) throws -> Stored {
        precondition(tensors["tensor"] == nil, "\"tensor\" is reserved for the packed parameters")
        let packed = tensors.keys.sorted().flatMap { tensors[$0]!.scalars }
        var all = tensors
        all["tensor"] = Tensor(shape: [packed.count], scalars: packed)
        guard packed.allSatisfy(\.isFinite) else { throw OpsError.nonFinite("the trained module") }
        let blob = try putBlob(all)
        let m = Manifest(kind: .module, blob: blob, shape: [packed.count], backbone: backbone, parents: parents,
                         recipe: recipe, metrics: metrics)
        let id = try writeManifest(m)
        let version = try name.map { try updateRef($0, to: id, command: command) }
        return Stored(id: id, manifest: m, name: name, version: version)
    }

    /// The named tensors of a module (without the packed `"tensor"`).
    public func moduleTensors(_ id: ArtifactID) throws -> [String: Tensor] {
        let m = try manifest(id)
        guard m.kind == .module, let b = m.blob else {
            throw OpsError.wrongKind(id.short, m.kind, expected: "a module")
        }
        var t = try blob(b)
        t["tensor"] = nil
        return t
    }

    /// A stored module to start a run from: `spec` must be a module made by recipe `op`, on a
    /// backbone compatible with `backbone`.
    ///
    /// - Throws: `OpsError.wrongKind` (naming `what` was expected), `.backboneMismatch`.
    func storedModule(_ spec: String, op: String, what: String,
                      backbone: Backbone) throws -> (id: ArtifactID, manifest: Manifest, tensors: [String: Tensor]) {
        let o = try operand(spec)
        guard o.manifest.kind == .module, o.manifest.recipe.op == op else {
            throw OpsError.wrongKind(spec, o.manifest.kind, expected: what)
        }
        guard let b = o.manifest.backbone, b.isCompatible(with: backbone) else {
            throw OpsError.backboneMismatch("\(spec) (\(o.manifest.backbone?.description ?? "no backbone"))", "the model (\(backbone))")
        }
        return (o.id, o.manifest, try moduleTensors(o.id))
    }

    /// Stores a mixture: a blob-less manifest that names its parts as parents (the method's
    /// recipe says how to run them); `pvec eval` runs it.
    public func storeMixture(recipe: Recipe, parents: [Parent], backbone: Backbone, metrics: [String: JSONValue] = [:],
                             name: String?, command: String) throws -> Stored {
        let m = Manifest(kind: .mixture, blob: nil, shape: nil, backbone: backbone, parents: parents, recipe: recipe, metrics: metrics)
        let id = try writeManifest(m)
        let version = try name.map { try updateRef($0, to: id, command: command) }
        return Stored(id: id, manifest: m, name: name, version: version)
    }

    /// The composite a mixture artifact stands for, ready to run.
    ///
    /// - Throws: `MixtureError.unknownMethod` for a recipe this version cannot run.
    public func composer(forMixture id: ArtifactID) throws -> AttemptComposite {
        let m = try manifest(id)
        guard m.kind == .mixture else { throw OpsError.wrongKind(id.short, m.kind, expected: "a mixture") }
        switch m.recipe.op {
        case "attempt":
            guard let t = m.parents.first(where: { $0.role == .tuned }), let g = m.parents.first(where: { $0.role == .module }) else {
                throw MixtureError.badModule("mixture \(id.short) lacks its target (tuned) or module parent")
            }
            let sources = try m.parents.filter { $0.role == .source }.map { try tensor($0.id) }
            let temperature = Float(m.recipe.params["temperature"]?.doubleValue ?? 0)
            guard temperature > 0 else { throw MixtureError.badModule("mixture \(id.short) records no attention temperature") }
            let module = try AttemptModule(tensors: moduleTensors(g.id), temperature: temperature)
            return AttemptComposite(target: try tensor(t.id), sources: sources, module: module)
        default:
            throw MixtureError.unknownMethod(m.recipe.op)
        }
    }
}

/// Recipe parameters every composition method records about a task and its data.
func taskParams(_ task: TaskSpec, _ data: Dataset) -> [String: JSONValue] {
    ["task": .string(task.name), "task_sha256": .string(task.sha256), "data_sha256": .string(data.sha256)]
}
