import ArgumentParser

@main
struct PVec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pvec",
        abstract: "A content-addressed registry and toolkit for soft prompts.",
        version: "0.1.0",
        subcommands: []
    )
}
