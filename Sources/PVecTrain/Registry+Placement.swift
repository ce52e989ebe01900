import Foundation
import PVecModel
import PVecOps
import PVecStore
import PVecTensor

extension Registry {
    /// The placement the prompt `id` was trained with: that of the nearest training run in its
    /// lineage (the artifact itself, or the prompts an `add --onto` or a merge was made from),
    /// read from the run's recipe (`placement`, absent meaning `.afterCLS`); nil when nothing
    /// in its lineage was trained here (a PEFT import, a seeded init).
    ///
    /// Looks at most `limit` artifacts, breadth first, so a hostile lineage cannot make it spin.
    public func trainedPlacement(of id: ArtifactID, limit: Int = 256) -> PromptPlacement? {
        var queue = [id]
        var seen: Set<ArtifactID> = [id]
        var next = 0
        while next < queue.count && next < limit {
            let current = queue[next]
            next += 1
            guard let m = try? manifest(current) else { continue }
            let params = m.recipe.params
            // Every gradient-trained run records TrainingHyperparameters, and with them the optimizer.
            if params["optimizer"] != nil {
                guard let word = params["placement"]?.stringValue else { return PromptPlacement.recordedDefault }
                return PromptPlacement(rawValue: word)
            }
            for p in m.parents where p.role != .module && seen.insert(p.id).inserted {
                queue.append(p.id)
            }
        }
        return nil
    }

    /// The placement to evaluate the prompt `id` with when none is given: the one it was
    /// trained with; PEFT's (`.prepend`) for a PEFT adapter imported as it is; else the default
    /// for new prompts.
    public func evaluationPlacement(of id: ArtifactID) -> PromptPlacement {
        if let p = trainedPlacement(of: id) { return p }
        if let m = try? manifest(id), AdapterProfile.of(m).config != nil { return .prepend }
        return PromptPlacement.defaultForNewPrompts
    }
}

/// `pvec export` with what pvec knows about placements: a PEFT adapter's weights record the
/// placement the prompt was trained with (`pvec_placement` in the safetensors metadata, which
/// PEFT ignores), and a prompt trained after `[CLS]` comes with a warning, since PEFT prepends.
public enum PromptExport {
    /// The metadata key of the training placement in an exported adapter's weights file.
    public static let placementKey = "pvec_placement"

    /// Exports `spec` as `Registry.export` does.
    ///
    /// - Returns: the artifact's id, and a one-line warning to print when a PEFT adapter is
    ///   written for a prompt trained with a placement PEFT does not use.
    public static func run(_ registry: Registry, _ spec: String, to url: URL, format: TensorFileFormat, dtype: DType?,
                           key: String, allowVector: Bool) throws -> (id: ArtifactID, warning: String?) {
        guard format == .peft else {
            return (try registry.export(spec, to: url, format: format, dtype: dtype, key: key, allowVector: allowVector), nil)
        }
        let placement = registry.trainedPlacement(of: try registry.resolve(spec))
        let metadata = placement.map { [placementKey: $0.rawValue] } ?? [:]
        let id = try registry.export(spec, to: url, format: format, dtype: dtype, key: key, allowVector: allowVector,
                                     weightsMetadata: metadata)
        guard placement == .afterCLS else { return (id, nil) }
        return (id, "warning: \(TerminalText.quoted(spec)) was trained with its prompt after [CLS]; PEFT prepends it before [CLS], so it may score differently there (train with --placement prepend for PEFT)")
    }
}
