import ArgumentParser
import Foundation
import PVecRemote
import PVecStore

extension PVec {
    struct Push: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "push",
            abstract: "Send names and their lineage to a remote; only objects it lacks move.",
            discussion: """
            A name moves only if the server still has what this registry last saw there; \
            otherwise the push reports a conflict (use --force to overwrite). On an OCI registry \
            every tag a push moves is recorded in this registry's audit log (`pvec audit`, action \
            remote-tag), and blobs another oci:// remote of the same registry host holds are \
            mounted from it instead of uploaded (`mounted` in the report).

            Example: pvec push hub team-a/mnli
            """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The remote.") var remote: String
        @Argument(help: "Names to push.", completion: NameCompletion.names) var names: [String]
        @Flag(help: "Move the names whatever the server has now.") var force = false

        func validate() throws {
            if names.isEmpty { throw ValidationError("Please name what to push, as in: pvec push hub team-a/mnli") }
        }

        func run() throws {
            let registry = try global.open(readonly: false)
            let report = try RemoteSync.push(registry, remote: remote, names: names, force: force,
                                             command: GlobalOptions.commandLine, progress: TransferProgress().callback)
            report.show("pushed", json: global.json)
        }
    }
}
