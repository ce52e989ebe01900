import ArgumentParser
import PVecStore

extension PVec {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create an empty registry (safe to run on an existing one).")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let registry = try Registry.create(at: global.registryURL)
            if global.json {
                Output.json(["registry": .string(registry.root.path)])
            } else {
                print("registry ready at \(registry.root.path)")
            }
        }
    }
}
