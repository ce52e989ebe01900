import ArgumentParser
import PVecOps
import PVecStore

extension PVec {
    struct Norm: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "norm",
            abstract: "L2 norm of flattened vectors (or prompts with --raw).",
            discussion: "Example: pvec norm mnli qnli")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Use stored tensors as they are, without deriving vectors.") var raw = false
        @Argument(help: "Artifacts to measure.", completion: NameCompletion.names) var names: [String]

        func validate() throws {
            if names.isEmpty { throw ValidationError("Please name at least one artifact.") }
        }

        func run() throws {
            let registry = try global.open(readonly: true)
            var out: [(String, Float)] = []
            for n in names {
                let (_, t) = try registry.analysisTensors([n], asVectors: !raw)[0]
                out.append((n, t.norm))
            }
            if global.json {
                Output.json(.array(out.map { ["name": .string($0.0), "norm": .double(Double($0.1))] }))
            } else {
                Output.table(out.map { [$0.0, String(format: "%.6f", $0.1)] })
            }
        }
    }
}
