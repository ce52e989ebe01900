import ArgumentParser
import Foundation
import PVecOps
import PVecStore

extension PVec {
    struct Similar: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "similar",
            abstract: "Rank registry prompts or vectors by cosine similarity.",
            discussion: """
            Candidates share the artifact's backbone and shape. --by prompt (default for \
            prompts) compares stored prompts, as SPoT does (Vu et al. 2022); --by vector \
            compares task vectors, tuned - init, as Belanec et al. do (prompts without a \
            recorded init are left out). --kind vector ranks vector artifacts, always as \
            vectors. Read-only. --tag ranks only artifacts with that tag.
            Example: pvec similar rte --top 5 --by vector --tag source
            """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The artifact to compare with.", completion: NameCompletion.names) var name: String
        @Option(help: "Show only the best K.") var top: Int?
        @Option(help: "Rank prompt or vector artifacts.") var kind: RankedKind = .prompt
        @Option(help: "Compare as prompt or as vector (task vectors).") var by: SimilaritySpace?
        @Option(help: "Only rank artifacts with this tag.") var tag: String?

        func validate() throws {
            if let top, top < 1 { throw ValidationError("Please give a --top of at least 1.") }
            if kind == .vector, by == .prompt { throw ValidationError("Please drop --by prompt: vectors are compared as vectors.") }
        }

        func run() throws {
            let registry = try global.open(readonly: true)
            let k = kind.artifactKind
            let space = by ?? (k == .vector ? .vector : .prompt)
            let ranked = try registry.similar(to: name, kind: k, by: space, top: top, tag: tag)
            if global.json {
                Output.json(.array(ranked.map { r in
                    ["id": .string(r.id.hex), "kind": .string(r.kind.rawValue), "names": .array(r.names.map { .string($0) }),
                     "cosine": .double(Double(r.cosine))]
                }))
                return
            }
            var rows = [["RANK", "NAME", "ID", "COSINE"]]
            for (i, r) in ranked.enumerated() {
                rows.append(["\(i + 1)", r.names.joined(separator: ","), r.id.short, String(format: "%.6f", r.cosine)])
            }
            Output.table(rows)
        }
    }
}
