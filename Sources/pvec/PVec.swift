import ArgumentParser
import Foundation
import PVecStore

@main
struct PVec: AsyncParsableCommand {
    // Each group is one line per command: adding a command is adding its type to its group.
    static let configuration = CommandConfiguration(
        commandName: "pvec",
        abstract: "A content-addressed registry and toolkit for soft prompts.",
        discussion: """
        Prompts, seeded inits and task prompt vectors are stored by content hash with their \
        lineage. Names (mnli, mnli@2) point at ids; any unique id prefix works as a name.
        Example: pvec add mnli qnli --lambda 0.5 --name both
        """,
        version: "0.1.0",
        groupedSubcommands: [
            CommandGroup(name: "Registry", subcommands: [
                Init.self, Import.self, Export.self, Tag.self, Verify.self, GC.self,
            ]),
            CommandGroup(name: "Inspection", subcommands: [
                Show.self, Ls.self, Lineage.self, Log.self,
            ]),
            CommandGroup(name: "Arithmetic", subcommands: [
                Vector.self, Add.self, Sub.self, Neg.self, Scale.self, Cos.self, Norm.self,
            ]),
            CommandGroup(name: "Merges", subcommands: [
                Merge.self, Similar.self, InitFrom.self,
            ]),
            CommandGroup(name: "Model", subcommands: [
                Embed.self, Train.self, Eval.self, InitPrompt.self, Demo.self,
            ]),
            CommandGroup(name: "Mixtures", subcommands: [
                Compose.self, Attempt.self, Attention.self, AMP.self, ComPT.self, MetaInit.self,
            ]),
            CommandGroup(name: "Publishing", subcommands: [
                Key.self, Sign.self, Trust.self, Audit.self, Bundle.self, Serve.self, Token.self,
                Remote.self, Push.self, Pull.self, Clone.self, Login.self, Logout.self,
            ]),
        ]
    )

    /// Runs the command; every failure is one line on stderr (see `FailureReport`).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            FailureReport.exit(with: error, arguments: CommandLine.arguments)
        }
    }
}

/// A library error's message with unsafe characters escaped (see `TerminalText`).
struct PrintableError: Error, CustomStringConvertible {
    let description: String

    init(_ error: Error) {
        description = TerminalText.safeLine(Self.rawMessage(error))
    }

    /// The message as the library wrote it, before escaping.
    static func rawMessage(_ error: Error) -> String {
        (error as? LocalizedError)?.errorDescription ?? String(describing: error)
    }
}
