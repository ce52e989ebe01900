import ArgumentParser
import PVecOps

extension PVec {
    struct Sub: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sub",
            abstract: "Subtract task prompt vectors: tau_a - tau_b.",
            discussion: "Example: pvec sub movie amazon --name movie-minus-amazon")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The vector to subtract from.", completion: NameCompletion.names) var a: String
        @Argument(help: "The vector to subtract.", completion: NameCompletion.names) var b: String
        @Option(help: "Name for the result.") var name: String?
        @OptionGroup var peft: PEFTOptions

        func run() throws {
            let registry = try global.open()
            Output.report(try registry.subVectors(a, b, name: name, command: GlobalOptions.commandLine, peftConfig: try peft.config()), json: global.json)
        }
    }
}
