import ArgumentParser
import Foundation
import PVecRemote
import PVecStore

extension PVec {
    struct Clone: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clone",
            abstract: "Make a new registry in DIR holding every name of a server, with remote 'origin'.",
            discussion: """
            Example: pvec clone http://127.0.0.1:8080 ./mirror --token-file read.token
                     pvec clone oci://127.0.0.1:5000/team/prompts ./mirror --plain-http
            """)

        @Argument(help: "The server's URL (http://HOST:PORT, or oci://HOST[:PORT]/REPOSITORY).") var url: String
        @Argument(help: "The folder of the new registry.", completion: .directory) var dir: String
        @Option(help: "A file holding the bearer token.", completion: .file()) var tokenFile: String?
        @Flag(help: "Talk plain HTTP to an OCI registry (loopback or test registries).") var plainHttp = false
        @Flag(help: "Print machine-readable JSON.") var json = false

        func validate() throws {
            try PVec.Remote.Add.check(url: url, tokenFile: tokenFile, plainHTTP: plainHttp)
        }

        func run() throws {
            let root = Registry.location(explicit: dir)
            if Registry.exists(at: root), !((try? Registry.open(at: root).refs().isEmpty) ?? false) {
                throw ValidationError("Please clone into a new or empty folder; \(root.path) already holds a registry with names")
            }
            let existed = FileManager.default.fileExists(atPath: root.path)
            do {
                let registry = try Registry.create(at: root)
                if (try? RemoteConfig.load(for: registry).remote("origin")) == nil {
                    try PVec.Remote.Add.add(name: "origin", url: url, tokenFile: tokenFile, plainHTTP: plainHttp, to: registry)
                }
                let report = try RemoteSync.pull(registry, remote: "origin", names: [], command: "pvec clone \(TerminalText.escape(url))",
                                                 progress: TransferProgress().callback)
                report.show("cloned", json: json)
            } catch {
                // A failed clone leaves nothing behind (run it again).
                if !existed { try? FileManager.default.removeItem(at: root) }
                throw error
            }
        }
    }
}
