import ArgumentParser
import Foundation
import PVecRemote
import PVecStore

extension PVec {
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign",
            abstract: "Sign an artifact's manifest id (and so its whole lineage) with your key.",
            discussion: "Example: pvec sign mnli --key alice")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Name, name@N or id prefix.", completion: NameCompletion.names) var name: String
        @Option(help: "Signing key name.") var key: String = "default"

        func run() throws {
            let registry = try global.open()
            let id = try registry.resolve(name)
            let privateKey = try KeyStore(folder: KeyStore.location()).privateKey(name: key)
            let s = try ArtifactSignature.sign(id, with: privateKey, signer: key)
            try registry.addSignature(s, name: name, command: GlobalOptions.commandLine)
            if global.json {
                Output.json(["id": .string(id.hex), "key": .string(s.key), "signature": .string(s.signature)])
            } else {
                print("signed \(id.short) with key \(key) (\(ArtifactSignature.fingerprint(s.key)))")
            }
        }
    }
}
