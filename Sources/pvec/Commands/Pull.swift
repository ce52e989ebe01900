import ArgumentParser
import Foundation
import PVecRemote
import PVecStore

extension PVec {
    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pull",
            abstract: "Fetch names and their lineage from a remote; only objects missing here move.",
            discussion: "Every object is checked against its id on arrival. Example: pvec pull hub team-a/mnli")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The remote.") var remote: String
        @Argument(help: "Names to pull (all of the server's when none).") var names: [String] = []
        @Flag(help: "Move local names even if they were changed here since the last pull.") var force = false

        func run() throws {
            let registry = try global.open()
            let report = try RemoteSync.pull(registry, remote: remote, names: names, force: force,
                                             command: GlobalOptions.commandLine, progress: TransferProgress().callback)
            report.show("pulled", json: global.json)
        }
    }
}
