import ArgumentParser
import Foundation
import PVecRemote
import PVecStore

extension PVec {
    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "key",
            abstract: "Make and list Ed25519 signing keys (kept in $PVEC_KEYS, else ~/.config/pvec/keys).",
            discussion: "Example: pvec key generate --name alice",
            subcommands: [Generate.self, List.self])
    }
}

extension PVec.Key {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Make a signing key pair and print its public key.",
            discussion: "The private key file is created with mode 0600 and never enters a registry.")

        @OptionGroup var global: GlobalOptions
        @Option(help: "Key name.") var name: String = "default"

        func run() throws {
            let store = KeyStore(folder: KeyStore.location())
            let pub = try store.generate(name: name)
            if global.json {
                Output.json(["name": .string(name), "public_key": .string(pub), "fingerprint": .string(ArtifactSignature.fingerprint(pub))])
            } else {
                print(pub)
                printErr("key '\(name)' written to \(store.folder.path); share the line above with `pvec trust add`")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List signing keys and their public keys.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let keys = KeyStore(folder: KeyStore.location()).list()
            if global.json {
                Output.json(.array(keys.map { ["name": .string($0.name), "public_key": .string($0.publicKey)] }))
            } else {
                Output.table(keys.map { [$0.name, ArtifactSignature.fingerprint($0.publicKey), $0.publicKey] })
            }
        }
    }
}
