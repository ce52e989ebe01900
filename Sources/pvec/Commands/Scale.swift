import ArgumentParser
import PVecOps

extension PVec {
    struct Scale: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "scale",
            abstract: "Scale a task prompt vector by a factor.",
            discussion: "Example: pvec scale mnli --by 0.5 --name half-mnli")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The vector to scale.", completion: NameCompletion.names) var a: String
        @Option(help: "The factor.") var by: Double
        @Option(help: "Name for the result.") var name: String?
        @OptionGroup var peft: PEFTOptions

        func validate() throws {
            guard by.isFinite else { throw ValidationError("Please give a finite --by.") }
        }

        func run() throws {
            let registry = try global.open()
            Output.report(try registry.scaleVector(a, by: by, name: name, command: GlobalOptions.commandLine, peftConfig: try peft.config()), json: global.json)
        }
    }
}
