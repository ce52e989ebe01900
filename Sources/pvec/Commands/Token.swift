import ArgumentParser
import Foundation
import PVecRemote
import PVecStore

extension PVec {
    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create bearer tokens for this registry's server.",
            discussion: "Example: pvec token create --scope write:team-a/ --name ci > team-a.token",
            subcommands: [Create.self])
    }
}

extension PVec.Token {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it (only its hash is kept).")

        @OptionGroup var global: GlobalOptions
        @Option(help: "A scope: read, or write:<name prefix> (write:* for all names); repeatable.") var scope: [String] = ["read"]
        @Option(help: "Who holds the token; recorded as the actor of its changes.") var name: String = "client"

        func validate() throws {
            for s in scope where (try? TokenScope(parsing: s)) == nil {
                throw ValidationError("Please give scopes as read or write:<name prefix>, as in --scope write:team-a/ (not '\(s)')")
            }
        }

        func run() throws {
            let registry = try global.open()
            let token = try registry.createToken(name: name, scopes: scope, command: "pvec token create")
            if global.json {
                Output.json(["token": .string(token), "name": .string(name), "scopes": .array(scope.map { .string($0) })])
            } else {
                print(token)
            }
        }
    }
}
