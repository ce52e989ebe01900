import ArgumentParser
import Foundation
import PVecStore

extension PVec {
    struct Trust: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trust",
            abstract: "Trust public keys as speaking for a team, and list them.",
            discussion: "Example: pvec trust add ed25519:AbC... --as team-a",
            subcommands: [Add.self, Remove.self, List.self])
    }
}

extension PVec.Trust {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Trust a public key as a team's.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The public key, ed25519:<base64>, as `pvec key generate` prints it.") var publicKey: String
        @Option(name: .customLong("as"), help: "The team the key speaks for.") var team: String

        func run() throws {
            let registry = try global.open()
            try registry.trust(key: publicKey, as: team, command: GlobalOptions.commandLine)
            if global.json {
                Output.json(["key": .string(publicKey), "team": .string(team)])
            } else {
                print("trusted \(ArtifactSignature.fingerprint(publicKey)) as \(team)")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Stop trusting a public key.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The public key, ed25519:<base64>, as `pvec trust list` prints it.") var publicKey: String

        func run() throws {
            let registry = try global.open()
            let team = try registry.untrust(key: publicKey, command: GlobalOptions.commandLine)
            if global.json {
                Output.json(["key": .string(publicKey), "team": team.map { .string($0) } ?? .null])
            } else if let team {
                print("no longer trusting \(ArtifactSignature.fingerprint(publicKey)) as \(team)")
            } else {
                print("\(ArtifactSignature.fingerprint(publicKey)) was not trusted; nothing changed")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List trusted keys.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let keys = try global.open(readonly: true).trustedKeys()
            if global.json {
                Output.json(.array(keys.map { ["key": .string($0.key), "team": .string($0.team)] }))
            } else {
                Output.table(keys.map { [$0.team, ArtifactSignature.fingerprint($0.key), $0.key] })
            }
        }
    }
}
