import ArgumentParser
import Foundation
import PVecStore

@main
struct PVec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pvec",
        abstract: "A content-addressed registry and toolkit for soft prompts.",
        discussion: """
        Prompts, seeded inits and task prompt vectors are stored by content hash with their
        lineage. Names (mnli, mnli@2) point at ids; any unique id prefix works as a name.
        Example: pvec add mnli qnli --lambda 0.5 --name both
        """,
        version: "0.1.0",
        subcommands: [
            Init.self, InitPrompt.self, Import.self, Export.self,
            Vector.self, Add.self, Sub.self, Neg.self, Scale.self, Merge.self, Cos.self, Norm.self,
            Similar.self, InitFrom.self,
            Show.self, Ls.self, Lineage.self, Log.self, Tag.self, Verify.self, GC.self,
            Embed.self, Train.self, Eval.self, Demo.self,
            Attempt.self, Attention.self, AMP.self, ComPT.self, MetaInit.self,
            Bundle.self, Key.self, Sign.self, Trust.self, Audit.self, Serve.self, Token.self,
            Remote.self, Push.self, Pull.self, Clone.self, Login.self, Logout.self,
        ]
    )

    /// Runs the command; errors from the library are printed escaped, on one line.
    ///
    /// Messages may carry text from outside (a name from a bundle, a server's error, a
    /// signer label), so a newline or an ANSI escape in them must not reach the terminal
    /// as such. Argument-parser's own errors (usage, help, validation) keep its format.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            if String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") { exit(withError: error) }
            exit(withError: PrintableError(error))
        }
    }
}

/// A library error's message with unsafe characters escaped (see `TerminalText`).
struct PrintableError: Error, CustomStringConvertible {
    let description: String

    init(_ error: Error) {
        let text = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
        description = TerminalText.safeLine(text)
    }
}
