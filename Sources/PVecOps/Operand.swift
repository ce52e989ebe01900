import PVecStore
import PVecTensor

/// A resolved registry artifact with its manifest, as the operations see it.
public struct Operand: Sendable {
    /// What the user typed (for messages).
    public var spec: String
    /// The artifact `spec` resolved to.
    public var id: ArtifactID
    /// The artifact's manifest (kind, shape, backbone, parents, recipe).
    public var manifest: Manifest

    /// An operand for an artifact already resolved; `operand(_:)` is the usual way to get one.
    ///
    /// - Parameters:
    ///   - spec: what to call it in messages (what the user typed, or a short id).
    ///   - id: the artifact's id.
    ///   - manifest: the manifest stored under `id`; not checked against it here.
    public init(spec: String, id: ArtifactID, manifest: Manifest) {
        self.spec = spec
        self.id = id
        self.manifest = manifest
    }

    /// The `init` parent, if the artifact records one.
    public var initParent: ArtifactID? {
        manifest.parents.first { $0.role == .`init` }?.id
    }
}

extension Registry {
    /// Resolves a name, `name@N`, tag or id prefix and reads its manifest.
    public func operand(_ spec: String) throws -> Operand {
        let id = try resolve(spec)
        return Operand(spec: spec, id: id, manifest: try manifest(id))
    }
}

/// Checks that operands may be combined: same backbone (model, width, embedding table when
/// known) and the same shape. Returns the backbone the result carries: the most specific one.
func commonBackbone(_ ops: [Operand]) throws -> Backbone? {
    guard let first = ops.first else { return nil }
    var best = first.manifest.backbone
    for o in ops.dropFirst() {
        switch (best, o.manifest.backbone) {
        case (let a?, let b?):
            guard a.isCompatible(with: b) else {
                throw OpsError.backboneMismatch("\(first.spec) (\(a))", "\(o.spec) (\(b))")
            }
            if a.embedding == nil { best = b }
        case (nil, let b?):
            throw OpsError.backboneMismatch("\(first.spec) (no backbone)", "\(o.spec) (\(b))")
        case (let a?, nil):
            throw OpsError.backboneMismatch("\(first.spec) (\(a))", "\(o.spec) (no backbone)")
        case (nil, nil):
            break
        }
    }
    return best
}

func commonShape(_ ops: [Operand]) throws -> Shape {
    guard let first = ops.first, let s = first.manifest.shape else { throw OpsError.tooFewOperands(1) }
    for o in ops.dropFirst() {
        let t = o.manifest.shape ?? []
        guard t == s else { throw OpsError.shapeMismatch(first.spec, s, o.spec, t) }
    }
    return s
}
