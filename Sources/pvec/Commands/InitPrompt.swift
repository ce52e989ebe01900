import ArgumentParser
import PVecOps
import PVecStore
import PVecTensor

extension PVec {
    struct InitPrompt: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init-prompt",
            abstract: "Create a seeded init prompt that `pvec verify` can regenerate bit for bit.",
            discussion: """
            uniform: rows x width values a*(2u-1), u from SplitMix64(seed), row-major.
            Example: pvec init-prompt --rows 100 --width 768 --seed 7 --name init7
            """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "Number of prompt tokens (rows).") var rows: Int
        @Option(help: "Embedding width.") var width: Int
        @Option(help: "Seed for SplitMix64.") var seed: UInt64
        @Option(help: "Generator: uniform (vocab-sample inits come from `pvec train`).") var method: InitRecipe.Method = .uniform
        @Option(help: "Half-range a of uniform U(-a, a).") var range: Double = 0.5
        @Option(help: "Backbone model id recorded with the init.") var backbone: String = "unknown"
        @Option(help: "Name to give the init.") var name: String?

        func validate() throws {
            guard rows > 0, width > 0 else { throw ValidationError("Please give --rows and --width greater than 0.") }
            guard method == .uniform else {
                throw ValidationError("Please use --method uniform; vocab-sample inits come from `pvec train`, which has the model.")
            }
            guard range > 0, range.isFinite else { throw ValidationError("Please give a positive, finite --range.") }
            do { try RecipeSeed.check(seed, op: "init") } catch { throw ValidationError("Please give a --seed below 2^53.") }
        }

        func run() throws {
            let registry = try global.open()
            let recipe = InitRecipe(method: .uniform, rows: rows, width: width, seed: seed, range: range)
            let stored = try registry.createInit(recipe, backbone: Backbone(model: backbone, width: width),
                                                 name: name, command: GlobalOptions.commandLine)
            Output.report(stored, json: global.json)
        }
    }
}
