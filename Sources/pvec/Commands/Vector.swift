import ArgumentParser
import PVecOps

extension PVec {
    struct Vector: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the task prompt vector tau = tuned - init, with lineage to both.",
            discussion: "Example: pvec vector mnli-tau --tuned mnli --init mnli-init")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Name for the vector.") var name: String?
        @Option(help: "The tuned prompt.") var tuned: String
        @Option(name: .customLong("init"), help: "The init it was tuned from.") var initName: String
        @OptionGroup var peft: PEFTOptions

        func run() throws {
            let registry = try global.open()
            let s = try registry.makeVector(tuned: tuned, init: initName, name: name, command: GlobalOptions.commandLine, peftConfig: try peft.config())
            Output.report(s, json: global.json)
        }
    }
}
