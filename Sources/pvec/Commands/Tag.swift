import ArgumentParser
import PVecStore

extension PVec {
    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tag",
            abstract: "Attach a tag to an artifact.",
            discussion: "Example: pvec tag mnli stable")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Name, name@N or id prefix.", completion: NameCompletion.names) var name: String
        @Argument(help: "The tag.") var tag: String

        func run() throws {
            let registry = try global.open()
            let id = try registry.resolve(name)
            try registry.addTag(tag, to: id, command: GlobalOptions.commandLine)
            if global.json { Output.json(["id": .string(id.hex), "tag": .string(tag)]) } else { print("tagged \(id.short) \(tag)") }
        }
    }
}
