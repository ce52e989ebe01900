import ArgumentParser
import Foundation
import PVecRemote
import PVecStore

extension PVec {
    struct Remote: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remote",
            abstract: "Add and list registry servers to push to and pull from.",
            discussion: """
            Example: pvec remote add hub http://127.0.0.1:8080 --token-file team-a.token (a `pvec serve` server)
                     pvec remote add team oci://ghcr.io/acme/prompts (an OCI registry; see registry-schema/oci.md)
            """,
            subcommands: [Add.self, List.self])
    }
}

extension PVec.Remote {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a remote registry server.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "A name for the remote.") var name: String
        @Argument(help: "Its URL: http://HOST:PORT for `pvec serve`, oci://HOST[:PORT]/REPOSITORY for an OCI registry.") var url: String
        @Option(help: "A file holding the bearer token (pvec serve only).", completion: .file()) var tokenFile: String?
        @Flag(help: "Talk plain HTTP to an OCI registry (loopback or test registries; HTTPS otherwise).") var plainHttp = false

        func validate() throws {
            try Self.check(url: url, tokenFile: tokenFile, plainHTTP: plainHttp)
        }

        static func check(url: String, tokenFile: String?, plainHTTP: Bool) throws {
            guard let u = URL(string: url), u.host != nil else {
                throw ValidationError("Please give the URL as http://HOST:PORT or oci://HOST[:PORT]/REPOSITORY")
            }
            if u.scheme == "oci" {
                guard RemoteConfig.ociParts(u) != nil else {
                    throw ValidationError("Please give an OCI registry as oci://HOST[:PORT]/REPOSITORY, the repository in lowercase letters, digits and . _ - / (as in oci://127.0.0.1:5000/team/prompts)")
                }
                if tokenFile != nil {
                    throw ValidationError("--token-file is for pvec serve; OCI registries take credentials from the auths of ~/.docker/config.json")
                }
            } else {
                guard u.scheme == "http" || u.scheme == "https" else {
                    throw ValidationError("Please give the URL as http://HOST:PORT, as in http://127.0.0.1:8080, or oci://HOST[:PORT]/REPOSITORY")
                }
                if plainHTTP { throw ValidationError("--plain-http is for oci:// remotes; http:// already is plain HTTP") }
            }
        }

        func run() throws {
            let registry = try global.open()
            try Self.add(name: name, url: url, tokenFile: tokenFile, plainHTTP: plainHttp, to: registry)
            if global.json { Output.json(["name": .string(name), "url": .string(url)]) } else { print("added remote \(name) \(TerminalText.escape(url))") }
        }

        static func add(name: String, url: String, tokenFile: String?, plainHTTP: Bool = false, to registry: Registry) throws {
            var config = try RemoteConfig.load(for: registry)
            if config.remotes[name] != nil { throw RemoteError.remoteExists(name) }
            let file = tokenFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            if let file { _ = try RemoteConfig.readToken(file) }
            guard let u = URL(string: url) else { throw ValidationError("Please give the URL as http://HOST:PORT or oci://HOST[:PORT]/REPOSITORY") }
            config.remotes[name] = RemoteConfig.Remote(url: u, tokenFile: file, tracking: [:], plainHTTP: plainHTTP)
            try config.save()
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List remotes.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let config = try RemoteConfig.load(for: try global.open(readonly: true))
            let names = config.remotes.keys.sorted()
            if global.json {
                Output.json(.array(names.map { ["name": .string($0), "url": .string(config.remotes[$0]!.url.absoluteString)] }))
            } else {
                Output.table(names.map { [$0, config.remotes[$0]!.url.absoluteString] })
            }
        }
    }
}

/// Progress of a push or pull on standard error, redrawn in place on a terminal only.
struct TransferProgress {
    let isTerminal = isatty(STDERR_FILENO) != 0

    func report(_ phase: String, _ done: Int, _ total: Int, _ bytes: Int) {
        guard isTerminal else { return }
        let mb = String(format: "%.1f", Double(bytes) / 1e6)
        FileHandle.standardError.write(Data("\r\(phase): \(done)/\(total) objects, \(mb) MB".utf8))
        if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    var callback: RemoteSync.Progress? {
        let me = self
        return isTerminal ? { @Sendable in me.report($0, $1, $2, $3) } : nil
    }
}

extension RemoteSync.Report {
    func show(_ verb: String, json: Bool) {
        if json {
            Output.json(["manifests": .int(Int64(manifests)), "blobs": .int(Int64(blobs)), "mounted": .int(Int64(mounted)),
                         "bytes": .int(Int64(bytes)),
                         "names": .array(names.map { ["name": .string($0.name), "id": .string($0.id.hex), "changed": .bool($0.changed)] })])
        } else {
            let mount = mounted > 0 ? ", \(mounted) blobs mounted from another repository" : ""
            print("\(verb) \(manifests) manifests and \(blobs) blobs (\(bytes) bytes)\(mount)")
            for n in names { print("  \(n.name) -> \(n.id.short)\(n.changed ? "" : " (unchanged)")") }
        }
    }
}
