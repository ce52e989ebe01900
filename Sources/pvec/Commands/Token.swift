import ArgumentParser
import Foundation
import PVecRemote
import PVecStore

extension PVec {
    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token",
            abstract: "Create, list and revoke bearer tokens for this registry's server.",
            discussion: """
            Scopes, exactly (case matters, nothing else is a scope):
              read            list names, fetch manifests, blobs and closures
              write:*         read, upload objects, move every name
              write:P         read, upload objects, move the name P and names under P/
              write:P/        read, upload objects, move names under P/ (not P itself)
            P without its trailing '/' must be a valid name, so write:team-a allows team-a and \
            team-a/x but never team-ab/x. Each holder name has one live token at a time.
            Example: pvec token create --scope write:team-a/ --name ci --expires 90d > ci.token
            """,
            subcommands: [Create.self, List.self, Revoke.self])
    }
}

extension PVec.Token {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create a token and print it (only its hash is kept).",
            discussion: "Scopes: read, write:*, write:P (P and P/...), write:P/ (P/... only); see `pvec token --help`.")

        @OptionGroup var global: GlobalOptions
        @Option(help: "A scope: read, write:*, write:<name> or write:<prefix>/; repeatable.") var scope: [String] = ["read"]
        @Option(help: "Who holds the token (one word: letters, digits, . _ - @); recorded as the actor of its changes. A holder has one live token at a time.")
        var name: String
        @Option(help: ArgumentHelp("When the server stops accepting it: a duration (30d, 12h, 90m, 2w) or an ISO 8601 date (2027-01-31, 2027-01-31T12:00:00Z). Default: until revoked.",
                                   valueName: "duration-or-date"))
        var expires: String?

        func validate() throws {
            for s in scope where (try? TokenScope(parsing: s)) == nil {
                throw ValidationError(RemoteError.invalidScope(s).localizedDescription)
            }
            if let expires { _ = try TokenExpiry.parse(expires) }
        }

        func run() throws {
            let registry = try global.open()
            let scopes = try scope.map(TokenScope.init(parsing:))
            let expiresAt = try expires.map { try TokenExpiry.parse($0) }
            let token = try registry.createToken(name: name, scopes: scopes, expiresAt: expiresAt, command: "pvec token create")
            if global.json {
                Output.json(["token": .string(token), "name": .string(name), "scopes": .array(scopes.map { .string($0.text) }),
                             "expires_at": expiresAt.map { .string(Output.iso($0)) } ?? .null])
            } else {
                print(token)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List tokens: id, holder, status, scopes, dates (never secrets or their hashes).")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let registry = try global.open(readonly: true)
            let now = Date()
            let tokens = try registry.tokens()
            if global.json {
                Output.json(.array(tokens.map { t in
                    ["id": .string(t.id), "name": .string(t.name), "scopes": .array(t.scopes.map { .string($0) }),
                     "status": .string(t.status(at: now)), "created_at": .string(Output.iso(t.createdAt)),
                     "expires_at": t.expiresAt.map { .string(Output.iso($0)) } ?? .null,
                     "revoked_at": t.revokedAt.map { .string(Output.iso($0)) } ?? .null]
                }))
            } else if tokens.isEmpty {
                printErr("no tokens; create one with `pvec token create --scope read --name HOLDER`")
            } else {
                Output.table([["ID", "HOLDER", "STATUS", "SCOPES", "CREATED", "EXPIRES"]] + tokens.map { t in
                    [TerminalText.escape(t.id), TerminalText.escape(t.name), t.status(at: now), TerminalText.escape(t.scopes.joined(separator: " ")),
                     Output.iso(t.createdAt), t.expiresAt.map(Output.iso) ?? "never"]
                })
            }
        }

    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: "Revoke a token for good: the server refuses it from its next request on.",
            discussion: "ID is the 16-hex id `pvec token list` shows (the part after pvec_ in the token).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The token's id.") var id: String

        func run() throws {
            let registry = try global.open()
            let (token, revoked) = try registry.revokeToken(id: id, command: GlobalOptions.commandLine)
            if global.json {
                Output.json(["id": .string(token.id), "name": .string(token.name), "revoked": .bool(revoked),
                             "revoked_at": token.revokedAt.map { .string(Output.iso($0)) } ?? .null])
            } else {
                print(revoked ? "revoked token \(token.id) of \(TerminalText.escape(token.name))"
                              : "token \(token.id) of \(TerminalText.escape(token.name)) was already revoked")
            }
        }
    }
}
