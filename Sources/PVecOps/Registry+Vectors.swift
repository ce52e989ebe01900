import PVecStore
import PVecTensor

extension Registry {
    /// Records tau = tuned − init as a `vector` artifact (Belanec et al. 2024).
    ///
    /// - Throws: `OpsError` when kinds, shapes or backbones do not fit.
    public func makeVector(tuned: String, init initSpec: String, name: String?, command: String,
                           peftConfig: [String: JSONValue]? = nil) throws -> Stored {
        if let name { try RefName.validate(name) }
        let t = try operand(tuned)
        let i = try operand(initSpec)
        guard t.manifest.kind.isPromptShaped else { throw OpsError.wrongKind(t.spec, t.manifest.kind, expected: "a prompt") }
        guard i.manifest.kind.isPromptShaped else { throw OpsError.wrongKind(i.spec, i.manifest.kind, expected: "an init or prompt") }
        let backbone = try commonBackbone([t, i])
        _ = try commonShape([t, i])
        return try derive(kind: .vector, recipe: VectorRecipe(),
                          parents: [(.tuned, t), (.`init`, i)], backbone: backbone, name: name, command: command,
                          peftConfig: peftConfig)
    }

    /// The artifact to use where a task vector is wanted.
    ///
    /// A vector is itself. A prompt that records its init stands for tuned − init: that vector is
    /// found among the prompt's children or, when `store` is true, derived and stored with
    /// lineage; with `store` false (read-only commands) it is computed in memory only.
    ///
    /// - Returns: the operand (for a computed-only vector, the prompt itself) and its tensor.
    ///   - peftConfig: the PEFT config a derived vector exports with (`--peft-config`).
    public func vectorOperand(_ spec: String, store: Bool, command: String,
                              peftConfig: [String: JSONValue]? = nil) throws -> (Operand, Tensor) {
        try vectorOperand(spec, store: store, command: command, peftConfig: peftConfig, batch: nil)
    }

    /// `vectorOperand` staging a derived vector in `batch` (nil: written at once) and reading
    /// tensors through it (`tensor(of:batch:)`).
    func vectorOperand(_ spec: String, store: Bool, command: String,
                       peftConfig: [String: JSONValue]?, batch: WriteBatch?) throws -> (Operand, Tensor) {
        let o = try operand(spec)
        switch o.manifest.kind {
        case .vector:
            return (o, try tensor(of: o, batch: batch))
        case .prompt, .`init`:
            guard let initID = o.initParent else { throw OpsError.noRecordedInit(spec) }
            for child in try children(of: o.id) where child.role == .tuned {
                guard let m = try? manifest(child.id), m.kind == .vector, m.parents.contains(Parent(.`init`, initID)) else { continue }
                let existing = Operand(spec: spec, id: child.id, manifest: m)
                return (existing, try tensor(of: existing, batch: batch))
            }
            let i = Operand(spec: initID.short, id: initID, manifest: try manifest(initID))
            let backbone = try commonBackbone([o, i])
            _ = try commonShape([o, i])
            let inputs = [try tensor(of: o, batch: batch), try tensor(of: i, batch: batch)]
            if store {
                let (s, t) = try derive(kind: .vector, recipe: VectorRecipe(), parents: [(.tuned, o), (.`init`, i)],
                                        tensors: inputs, backbone: backbone, name: nil, command: command, peftConfig: peftConfig,
                                        batch: batch)
                return (Operand(spec: spec, id: s.id, manifest: s.manifest), t)
            }
            return (o, try inputs[0].subtracting(inputs[1]))
        default:
            throw OpsError.wrongKind(spec, o.manifest.kind, expected: "a vector or a prompt with a recorded init")
        }
    }

    /// Resolves every spec and checks, from manifests alone, that each is a vector or a prompt
    /// with a recorded init and that all share one backbone and shape. Run before anything is
    /// stored, so a refused command leaves the registry as it was.
    ///
    /// The PEFT adapters they come from must agree too (`AdapterProfile.combine`), unless
    /// `peftConfig` says what the result is.
    func checkVectorOperands(_ specs: [String], extra: [Operand] = [], peftConfig: [String: JSONValue]? = nil) throws {
        var sources: [Operand] = []
        var adapters: [(role: ParentRole, operand: Operand)] = extra.map { (.`init`, $0) }
        for spec in specs {
            let o = try operand(spec)
            switch o.manifest.kind {
            case .vector:
                adapters.append((.operand, o))
            case .prompt, .`init`:
                guard let i = o.initParent else { throw OpsError.noRecordedInit(spec) }
                let im = Operand(spec: "\(spec)'s init", id: i, manifest: try manifest(i))
                _ = try commonBackbone([o, im])
                _ = try commonShape([o, im])
                adapters += [(.operand, o), (.`init`, im)]
            default:
                throw OpsError.wrongKind(spec, o.manifest.kind, expected: "a vector or a prompt with a recorded init")
            }
            sources.append(o)
        }
        _ = try commonBackbone(sources + extra)
        let shape = try commonShape(sources + extra)
        _ = try AdapterProfile.combine(adapters, override: peftConfig, shape: shape)
    }

    /// tau₁ + … + tauₙ scaled by λ, optionally materialised onto an init
    /// (Belanec et al. 2024, eq. 6: P = P_init + λ Σ τ_i).
    public func addVectors(_ specs: [String], lambda: Double, onto: String?, name: String?, command: String,
                           peftConfig: [String: JSONValue]? = nil) throws -> Stored {
        if let name { try RefName.validate(name) }
        guard !specs.isEmpty else { throw OpsError.tooFewOperands(1) }
        let base = try onto.map { try operand($0) }
        try checkVectorOperands(specs, extra: base.map { [$0] } ?? [], peftConfig: peftConfig)
        let batch = WriteBatch()
        let vectors = try specs.map { try vectorOperand($0, store: true, command: command, peftConfig: peftConfig, batch: batch) }
        var ops = vectors.map(\.0)
        var tensors = vectors.map(\.1)
        var parents: [(role: ParentRole, operand: Operand)] = ops.map { (.operand, $0) }
        var kind = ArtifactKind.vector
        if let onto, let base {
            guard base.manifest.kind.isPromptShaped, base.manifest.kind != .vector else {
                throw OpsError.wrongKind(onto, base.manifest.kind, expected: "an init or prompt to add onto")
            }
            parents.append((.`init`, base))
            ops.append(base)
            tensors.append(try tensor(of: base, batch: batch))
            kind = .prompt
        }
        let backbone = try commonBackbone(ops)
        _ = try commonShape(ops)
        // The derived vectors, the sum and its name: one group of object writes, one catalog commit.
        var stored = try derive(kind: kind, recipe: AddRecipe(lambda: lambda),
                                parents: parents, tensors: tensors, backbone: backbone, name: name, command: command,
                                peftConfig: peftConfig, batch: batch).stored
        if let v = try commit(batch).last, name != nil { stored.version = v }
        return stored
    }

    /// tau_a − tau_b.
    public func subVectors(_ a: String, _ b: String, name: String?, command: String,
                           peftConfig: [String: JSONValue]? = nil) throws -> Stored {
        if let name { try RefName.validate(name) }
        try checkVectorOperands([a, b], peftConfig: peftConfig)
        let batch = WriteBatch()
        let pairs = try [a, b].map { try vectorOperand($0, store: true, command: command, peftConfig: peftConfig, batch: batch) }
        let ops = pairs.map(\.0)
        let backbone = try commonBackbone(ops)
        _ = try commonShape(ops)
        return try deriveAndCommit(kind: .vector, recipe: SubRecipe(), parents: ops.map { (.operand, $0) }, tensors: pairs.map(\.1),
                                   backbone: backbone, name: name, command: command, peftConfig: peftConfig, batch: batch)
    }

    /// −tau.
    public func negVector(_ a: String, name: String?, command: String,
                          peftConfig: [String: JSONValue]? = nil) throws -> Stored {
        if let name { try RefName.validate(name) }
        try checkVectorOperands([a], peftConfig: peftConfig)
        let batch = WriteBatch()
        let (o, t) = try vectorOperand(a, store: true, command: command, peftConfig: peftConfig, batch: batch)
        return try deriveAndCommit(kind: .vector, recipe: NegRecipe(), parents: [(.operand, o)], tensors: [t],
                                   backbone: o.manifest.backbone, name: name, command: command, peftConfig: peftConfig, batch: batch)
    }

    /// s · tau.
    public func scaleVector(_ a: String, by s: Double, name: String?, command: String,
                            peftConfig: [String: JSONValue]? = nil) throws -> Stored {
        if let name { try RefName.validate(name) }
        try checkVectorOperands([a], peftConfig: peftConfig)
        let batch = WriteBatch()
        let (o, t) = try vectorOperand(a, store: true, command: command, peftConfig: peftConfig, batch: batch)
        return try deriveAndCommit(kind: .vector, recipe: ScaleRecipe(by: s), parents: [(.operand, o)], tensors: [t],
                                   backbone: o.manifest.backbone, name: name, command: command, peftConfig: peftConfig, batch: batch)
    }
}
