import PVecStore
import PVecTensor

/// One finding of `verify`: what is wrong and with which artifact or object.
public struct VerifyProblem: Sendable, Equatable {
    /// The id (hex) or name at fault, the catalog file, `audit_log` or `trusted_keys`.
    public var subject: String
    /// What is wrong, for a person to read.
    public var message: String
}

/// What `verify` checked and found.
public struct VerifyReport: Sendable {
    /// Findings that make the registry unclean; empty when every check passed.
    public var problems: [VerifyProblem] = []
    /// Artifacts whose objects were re-hashed.
    public var checked = 0
    /// Derived artifacts and seeded inits recomputed bit for bit.
    public var recomputed = 0
    /// Derived artifacts that could not be recomputed here (e.g. no model for a vocab-sample init).
    public var skipped: [VerifyProblem] = []
    /// Whether nothing was found wrong; `skipped` recomputations do not count against it.
    public var isClean: Bool { problems.isEmpty }
}

extension Registry {
    /// Re-hashes objects, checks catalog against objects (every manifest against its blob),
    /// checks the audit chain and its anchor in `logs/refs` (the whole registry) or the trust
    /// store against the chain (one artifact), and recomputes every derived artifact and seeded
    /// init from its recipe, comparing the result's blob id bit for bit.
    ///
    /// - Parameters:
    ///   - spec: a name or id to check with its whole lineage; nil checks the whole registry.
    ///   - embeddingTable: loads a backbone's embedding table, for `vocab-sample` inits.
    public func verify(_ spec: String?, embeddingTable: ((Backbone) throws -> Tensor)? = nil) throws -> VerifyReport {
        var report = VerifyReport()
        var targets: [ArtifactID]
        if let spec {
            let id = try resolve(spec)
            let graph = try lineage(of: id)
            targets = graph.nodes.keys.sorted()
            for t in targets {
                report.problems += try checkIntegrity(t).map { VerifyProblem(subject: $0.subject, message: $0.message) }
            }
        } else {
            report.problems += try checkIntegrity(nil).map { VerifyProblem(subject: $0.subject, message: $0.message) }
            targets = try list().map(\.id)
        }
        // The audit chain vouches for the trust store that signature checks rely on.
        let audit = try verifyAuditLog()
        for p in audit.problems where spec == nil || p.kind == .trustMismatch {
            let subject = p.kind == .trustMismatch ? "trusted_keys" : "audit_log"
            report.problems.append(VerifyProblem(subject: subject, message: p.sequence > 0 ? "seq \(p.sequence): \(p.message)" : p.message))
        }
        report.checked = targets.count
        let broken = Set(report.problems.map(\.subject))
        for id in targets where !broken.contains(id.hex) {
            guard let m = try? manifest(id), let blob = m.blob,
                  Derivation.recomputableOps.contains(m.recipe.op) else { continue }
            do {
                let inputs = try m.parents.map { (role: $0.role, tensor: try tensor($0.id)) }
                let t = try Derivation.compute(m.recipe, parents: inputs, backbone: m.backbone, embeddingTable: embeddingTable)
                let hex = Digest.sha256Hex(Safetensors.canonical(t))
                if hex != blob.hex {
                    report.problems.append(VerifyProblem(
                        subject: id.hex,
                        message: "\(m.kind.rawValue) made by '\(m.recipe.op)' does not match its recipe: recomputed blob \(hex.prefix(12)) ≠ stored \(blob.short)"))
                } else {
                    report.recomputed += 1
                }
            } catch let e as OpsError {
                if case .notRecomputable(let why) = e {
                    report.skipped.append(VerifyProblem(subject: id.hex, message: why))
                } else {
                    report.problems.append(VerifyProblem(subject: id.hex, message: e.localizedDescription))
                }
            } catch {
                report.problems.append(VerifyProblem(subject: id.hex, message: "recompute failed: \(error.localizedDescription)"))
            }
        }
        return report
    }
}
