import ArgumentParser
import PVecOps

extension PVec {
    struct Neg: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "neg",
            abstract: "Negate a task prompt vector.",
            discussion: "Example: pvec neg toxic --name anti-toxic")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The vector to negate.", completion: NameCompletion.names) var a: String
        @Option(help: "Name for the result.") var name: String?
        @OptionGroup var peft: PEFTOptions

        func run() throws {
            let registry = try global.open()
            Output.report(try registry.negVector(a, name: name, command: GlobalOptions.commandLine, peftConfig: try peft.config()), json: global.json)
        }
    }
}
