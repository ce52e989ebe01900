import ArgumentParser
import PVecOps

extension PVec {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add task prompt vectors: lambda * sum(tau_i), optionally onto an init.",
            discussion: """
            A prompt with a recorded init stands for its vector (derived and stored on \
            first use). With --onto INIT the result is the prompt INIT + lambda * \
            sum(tau_i).
            Example: pvec add mnli qnli --lambda 0.5 --name nli
            """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Vectors (or prompts with a recorded init) to add.", completion: NameCompletion.names) var operands: [String]
        @Option(name: .customLong("lambda"), help: "Scale applied to the sum.") var lambda: Double = 1
        @Option(help: "Materialise INIT + lambda * sum as a prompt.", completion: NameCompletion.names) var onto: String?
        @Option(help: "Name for the result.") var name: String?
        @OptionGroup var peft: PEFTOptions

        func validate() throws {
            guard !operands.isEmpty else { throw ValidationError("Please name at least one vector to add.") }
            guard lambda.isFinite else { throw ValidationError("Please give a finite --lambda.") }
        }

        func run() throws {
            let registry = try global.open()
            let s = try registry.addVectors(operands, lambda: lambda, onto: onto, name: name, command: GlobalOptions.commandLine, peftConfig: try peft.config())
            Output.report(s, json: global.json)
        }
    }
}
