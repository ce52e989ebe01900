import ArgumentParser
import PVecOps

extension PVec {
    struct InitFrom: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init-from",
            abstract: "Create an init from the most similar registry prompts (SPoT).",
            discussion: """
            --top 1 copies the most similar prompt (SPoT-t); --top K averages the best \
            K, weighted by cosine with --weighted (SPoT-s), else evenly (Vu et al.). \
            --by prompt compares stored prompts, as SPoT does; --by vector compares task \
            vectors, as Belanec et al. do (only prompts with an init qualify). The \
            recipe (op spot) records method, K, scores and the query; the chosen prompts \
            are parents of role source, best first; `pvec verify` recomputes. --tag \
            limits the candidates to a curated set (say, prompts tagged source); the tag \
            is recorded in the recipe.
            Example: pvec init-from --similar-to rte --top 3 --weighted --name rte-init
            """)

        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("similar-to"), help: "The artifact whose neighbours to use.", completion: NameCompletion.names) var similarTo: String
        @Option(help: "How many of the most similar prompts to use.") var top: Int = 1
        @Flag(help: "Weight the average by cosine similarity (SPoT-s).") var weighted = false
        @Option(help: "Compare as prompt or as vector (task vectors).") var by: SimilaritySpace = .prompt
        @Option(help: "Only consider prompts with this tag.") var tag: String?
        @Option(help: "Name for the init.") var name: String?
        @OptionGroup var peft: PEFTOptions

        func validate() throws {
            guard top >= 1 else { throw ValidationError("Please give a --top of at least 1.") }
            if weighted && top == 1 { throw ValidationError("Please give --top 2 or more with --weighted; one prompt has nothing to weigh.") }
        }

        func run() throws {
            let registry = try global.open()
            let s = try registry.initFromSimilar(similarTo, top: top, by: by, weighted: weighted,
                                                 tag: tag, name: name, command: GlobalOptions.commandLine, peftConfig: try peft.config())
            Output.report(s, json: global.json)
        }
    }
}
