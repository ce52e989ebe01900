import ArgumentParser
import PVecOps
import PVecRemote
import PVecStore

extension PVec {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-hash objects and recompute derived artifacts and seeded inits bit for bit.",
            discussion: "Exits non-zero when anything is wrong. Example: pvec verify    pvec verify nli")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @Argument(help: "Check only this artifact and its lineage.") var name: String?

        func run() throws {
            let registry = try global.open(readonly: true)
            let report = try registry.verify(name, embeddingTable: EmbeddingTables.loader(modelDirectory: modelOptions.model))
            // Signatures on manifests (of the artifact and its lineage, or of everything).
            let scope = try name.map { try registry.closure(of: [registry.resolve($0)]).manifests }
            let signatures = try SignatureCheck.all(registry, ids: scope)
            let badSignatures = signatures.filter { !$0.valid }
            if global.json {
                Output.json([
                    "clean": .bool(report.isClean && badSignatures.isEmpty),
                    "checked": .int(Int64(report.checked)),
                    "recomputed": .int(Int64(report.recomputed)),
                    "problems": .array(report.problems.map { ["subject": .string($0.subject), "message": .string($0.message)] }),
                    "skipped": .array(report.skipped.map { ["subject": .string($0.subject), "message": .string($0.message)] }),
                    "signatures": .array(signatures.map {
                        ["artifact": .string($0.signature.artifact.hex), "key": .string($0.signature.key),
                         "valid": .bool($0.valid), "team": $0.team.map { .string($0) } ?? .null]
                    }),
                ])
            } else {
                for p in report.problems { print("problem  \(p.subject.prefix(12))  \(p.message)") }
                for s in report.skipped { print("skipped  \(s.subject.prefix(12))  \(s.message)") }
                for s in signatures {
                    let tag = s.valid ? "signed " : "problem"
                    print("\(tag)  \(s.signature.artifact.short)  \(ArtifactSignature.fingerprint(s.signature.key)) \(s.summary)")
                }
                print("checked \(report.checked) artifacts, recomputed \(report.recomputed) bit for bit, \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")")
            }
            if !report.isClean || !badSignatures.isEmpty { throw ExitCode(1) }
        }
    }
}
