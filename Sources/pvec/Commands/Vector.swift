import ArgumentParser
import PVecOps

extension PVec {
    struct Vector: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "vector",
            abstract: "Record the task prompt vector tau = tuned - init, with lineage to both.",
            discussion: """
            Without --name the vector is stored by id only (a prompt with a recorded init \
            also stands for its vector wherever one is wanted).
            Example: pvec vector --tuned mnli --init mnli-init --name mnli-tau
            """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "Name for the vector.") var name: String?
        /// The name as a positional argument, as before `--name`; still accepted, not shown.
        @Argument(help: .hidden) var positionalName: String?
        @Option(help: "The tuned prompt.", completion: NameCompletion.names) var tuned: String
        @Option(name: .customLong("init"), help: "The init it was tuned from.", completion: NameCompletion.names) var initName: String
        @OptionGroup var peft: PEFTOptions

        func validate() throws {
            if name != nil && positionalName != nil {
                throw ValidationError("Please give the name once, as --name \(name ?? "").")
            }
        }

        func run() throws {
            let registry = try global.open()
            let s = try registry.makeVector(tuned: tuned, init: initName, name: name ?? positionalName, command: GlobalOptions.commandLine, peftConfig: try peft.config())
            Output.report(s, json: global.json)
        }
    }
}
