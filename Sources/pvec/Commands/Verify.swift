import ArgumentParser
import PVecOps
import PVecRemote
import PVecStore

extension PVec {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Re-hash objects and recompute derived artifacts and seeded inits bit for bit.",
            discussion: """
                Exits non-zero when anything is wrong. With --repair, first rebuilds the catalog from the \
                manifest objects and logs/refs (a lost catalog.sqlite, or manifests a crash left unindexed).
                Example: pvec verify    pvec verify nli    pvec verify --repair
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @Flag(help: "Rebuild the catalog from objects and logs/refs before checking.") var repair = false
        @Argument(help: "Check only this artifact and its lineage.", completion: NameCompletion.names) var name: String?

        func validate() throws {
            if repair && name != nil {
                throw ValidationError("Please use --repair without a name: it rebuilds the whole catalog (pvec verify --repair)")
            }
        }

        func run() throws {
            let registry: Registry
            var repaired: RepairReport?
            if repair {
                (registry, repaired) = try Registry.repairCatalog(at: global.registryURL)
            } else {
                registry = try global.open(readonly: true)
            }
            let report = try registry.verify(name, embeddingTable: EmbeddingTables.loader(modelDirectory: modelOptions.model))
            // Signatures on manifests (of the artifact and its lineage, or of everything).
            let scope = try name.map { try registry.closure(of: [registry.resolve($0)]).manifests }
            let signatures = try SignatureCheck.all(registry, ids: scope)
            let badSignatures = signatures.filter { !$0.valid }
            let problems = report.problems.count + badSignatures.count
            if global.json {
                var out: [String: JSONValue] = [
                    "clean": .bool(problems == 0),
                    "checked": .int(Int64(report.checked)),
                    "recomputed": .int(Int64(report.recomputed)),
                    "problems": .array(report.problems.map { ["subject": .string($0.subject), "message": .string($0.message)] }),
                    "skipped": .array(report.skipped.map { ["subject": .string($0.subject), "message": .string($0.message)] }),
                    "signatures": .array(signatures.map {
                        ["artifact": .string($0.signature.artifact.hex), "key": .string($0.signature.key),
                         "valid": .bool($0.valid), "team": $0.team.map { .string($0) } ?? .null]
                    }),
                ]
                if let r = repaired { out["repair"] = Self.json(r) }
                Output.json(.object(out))
            } else {
                if let r = repaired { for line in Self.lines(r) { print(line) } }
                for p in report.problems { print("problem  \(p.subject.prefix(12))  \(p.message)") }
                for s in report.skipped { print("skipped  \(s.subject.prefix(12))  \(s.message)") }
                for s in signatures {
                    let tag = s.valid ? "signed " : "problem"
                    print("\(tag)  \(s.signature.artifact.short)  \(ArtifactSignature.fingerprint(s.signature.key)) \(s.summary)")
                }
                print("checked \(report.checked) artifacts, recomputed \(report.recomputed) bit for bit, \(problems) problem\(problems == 1 ? "" : "s")")
            }
            if problems > 0 { throw ExitCode(1) }
        }

        static func lines(_ r: RepairReport) -> [String] {
            var out = ["repaired catalog: \(r.manifests) manifests (\(r.newlyIndexed) newly indexed), \(r.names) names, \(r.versions) versions, \(r.tags) tags"
                + (r.replayedLog ? " from logs/refs" : "") + (r.trustedKeys + r.signatures > 0 ? ", \(r.trustedKeys) trusted keys, \(r.signatures) signatures" : "")]
            for t in r.skippedTransactions { out.append("left out  \(t) (it never committed)") }
            if r.newChain {
                let old = r.previousHead.map { "seq \($0.sequence) head \($0.hash.prefix(16))" } ?? "an unknown head"
                out.append("new audit chain: the old one was lost with the catalog; it ended at \(old)")
            }
            return out
        }

        static func json(_ r: RepairReport) -> JSONValue {
            ["manifests": .int(Int64(r.manifests)), "newly_indexed": .int(Int64(r.newlyIndexed)), "replayed_log": .bool(r.replayedLog),
             "names": .int(Int64(r.names)), "versions": .int(Int64(r.versions)), "tags": .int(Int64(r.tags)),
             "trusted_keys": .int(Int64(r.trustedKeys)), "signatures": .int(Int64(r.signatures)),
             "skipped_transactions": .array(r.skippedTransactions.map { .string($0) }), "new_chain": .bool(r.newChain),
             "previous_head": r.previousHead.map { ["seq": .int($0.sequence), "hash": .string($0.hash)] } ?? .null]
        }
    }
}
