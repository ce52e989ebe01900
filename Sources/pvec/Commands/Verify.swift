import ArgumentParser
import PVecOps
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
            if global.json {
                Output.json([
                    "clean": .bool(report.isClean),
                    "checked": .int(Int64(report.checked)),
                    "recomputed": .int(Int64(report.recomputed)),
                    "problems": .array(report.problems.map { ["subject": .string($0.subject), "message": .string($0.message)] }),
                    "skipped": .array(report.skipped.map { ["subject": .string($0.subject), "message": .string($0.message)] }),
                ])
            } else {
                for p in report.problems { print("problem  \(p.subject.prefix(12))  \(p.message)") }
                for s in report.skipped { print("skipped  \(s.subject.prefix(12))  \(s.message)") }
                print("checked \(report.checked) artifacts, recomputed \(report.recomputed) bit for bit, \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")")
            }
            if !report.isClean { throw ExitCode(1) }
        }
    }
}
