import ArgumentParser
import Foundation
import PVecRemote
import PVecStore

extension PVec {
    struct Login: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "login",
            abstract: "Save a username and password for an OCI registry, after checking them there.",
            discussion: """
            The password is read from standard input (never from an argument): with --password-stdin \
            from a pipe, otherwise typed at a prompt. The registry checks the login (GET /v2/) before \
            anything is saved; a refused login saves nothing. The login goes in the auths of \
            $DOCKER_CONFIG/config.json (else ~/.docker/config.json), mode 0600, where docker, oras \
            and crane read it too; the file's other entries are kept.
            Example: echo "$GITHUB_TOKEN" | pvec login ghcr.io --username me --password-stdin
                     pvec login 127.0.0.1:5000 --username alice --password-stdin --plain-http < pw.txt
            """)

        @Argument(help: "The registry: HOST[:PORT], as in oci://HOST[:PORT]/REPOSITORY.") var host: String
        @Option(help: "The username (asked at a prompt when missing).") var username: String?
        @Flag(help: "Read the password from standard input (all of it, less one final newline).") var passwordStdin = false
        @Flag(help: "Talk plain HTTP to the registry (loopback or test registries; HTTPS otherwise).") var plainHttp = false
        @Flag(help: "Print machine-readable JSON.") var json = false

        func validate() throws {
            _ = try Self.registryHost(host)
            let terminal = isatty(STDIN_FILENO) != 0
            if !passwordStdin, !terminal {
                throw ValidationError("Please pipe the password in with --password-stdin, as in: pvec login \(host) --username U --password-stdin < file")
            }
            if username == nil, !terminal {
                throw ValidationError("Please give --username when the password comes from standard input")
            }
        }

        /// `HOST[:PORT]` from what was typed (an `oci://` prefix is allowed).
        static func registryHost(_ text: String) throws -> String {
            let h = text.hasPrefix("oci://") ? String(text.dropFirst(6)) : text
            guard !h.isEmpty, !h.contains("/"), !h.contains("@"), let u = URL(string: "https://\(h)"), u.host != nil else {
                throw ValidationError("Please give the registry as HOST[:PORT], as in: pvec login ghcr.io (or 127.0.0.1:5000)")
            }
            return h
        }

        func run() throws {
            let host = try Self.registryHost(host)
            var user = username
            if user == nil {
                FileHandle.standardError.write(Data("Username: ".utf8))
                user = readLine(strippingNewline: true)
            }
            guard let user, !user.isEmpty else { throw ValidationError("Please give a username with --username") }
            let password: String
            if passwordStdin {
                let data = FileHandle.standardInput.readData(ofLength: 64 << 10)
                var text = String(decoding: data, as: UTF8.self)
                if text.hasSuffix("\n") { text.removeLast() }
                if text.hasSuffix("\r") { text.removeLast() }
                password = text
            } else {
                guard let p = getpass("Password: ") else { throw ValidationError("Please type the password, or pipe it in with --password-stdin") }
                password = String(cString: p)
            }
            guard !password.isEmpty else { throw ValidationError("Please give a password; standard input was empty") }
            let file = try OCICredentials.logIn(host: host, login: .init(username: user, password: password), plainHTTP: plainHttp)
            if json {
                Output.json(["host": .string(host), "username": .string(user), "config": .string(file.path)])
            } else {
                print("logged in to \(TerminalText.escape(host)) as \(TerminalText.escape(user)) (saved in \(TerminalText.escape(file.path)))")
            }
        }
    }

    struct Logout: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "logout",
            abstract: "Remove the saved login of an OCI registry.",
            discussion: """
            Removes the auths entry of HOST from $DOCKER_CONFIG/config.json (else ~/.docker/config.json), \
            keeping the file's other entries. Nothing is asked of the registry.
            Example: pvec logout ghcr.io
            """)

        @Argument(help: "The registry: HOST[:PORT].") var host: String
        @Flag(help: "Print machine-readable JSON.") var json = false

        func validate() throws {
            _ = try Login.registryHost(host)
        }

        func run() throws {
            let host = try Login.registryHost(host)
            let removed = try OCICredentials.logOut(host: host)
            if json {
                Output.json(["host": .string(host), "removed": .bool(removed)])
            } else {
                print(removed ? "logged out of \(TerminalText.escape(host))" : "no login for \(TerminalText.escape(host)) was saved; nothing changed")
            }
        }
    }
}
