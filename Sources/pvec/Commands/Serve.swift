import ArgumentParser
import Foundation
import PVecRemote
import PVecStore

extension PVec {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve the registry over HTTP to other pvec registries (push, pull, clone).",
            discussion: """
            Prints "listening on http://HOST:PORT" once bound (port 0 picks a free \
            port). Clients need a token: pvec token create --scope write:team-a/.
            Example: pvec serve --listen 127.0.0.1:8080
            """)

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Address to listen on.", valueName: "host:port")) var listen: String = "127.0.0.1:8080"
        @Option(help: "Largest blob upload in bytes.") var maxBlobBytes: Int = 64 << 20
        @Option(help: "Largest manifest or JSON request in bytes.") var maxJsonBytes: Int = 4 << 20
        @Option(help: "Most connections open at once; more wait to be accepted.") var maxConnections: Int = 256
        @Option(help: ArgumentHelp("Close a connection that sends nothing for this long (between requests, or mid-request).", valueName: "seconds"))
        var idleTimeout: Double = 30
        @Option(help: ArgumentHelp("Close a connection whose request body has not arrived this long after its head.", valueName: "seconds"))
        var requestTimeout: Double = 300

        func validate() throws {
            guard (1...(1 << 40)).contains(maxBlobBytes), (1...(1 << 40)).contains(maxJsonBytes) else {
                throw ValidationError("Please give --max-blob-bytes and --max-json-bytes between 1 and 2^40.")
            }
            guard (1...100_000).contains(maxConnections) else { throw ValidationError("Please give --max-connections between 1 and 100000.") }
            guard (0.1...86_400).contains(idleTimeout), (0.1...86_400).contains(requestTimeout) else {
                throw ValidationError("Please give --idle-timeout and --request-timeout in seconds, between 0.1 and 86400.")
            }
        }

        func run() async throws {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
                  (0...65535).contains(port), colon > listen.startIndex else {
                throw RemoteError.invalidListen(listen)
            }
            let host = String(listen[..<colon])
            let registry = try global.open(longLived: true)
            var limits = RegistryServer.Limits()
            limits.blobBytes = maxBlobBytes
            limits.packBytes = maxBlobBytes + (8 << 20)
            limits.jsonBytes = maxJsonBytes
            limits.maxConnections = maxConnections
            limits.idleTimeout = idleTimeout
            limits.requestTimeout = requestTimeout
            // Hummingbird logs each start at info level; keep stdout for the one line scripts read.
            if ProcessInfo.processInfo.environment["LOG_LEVEL"] == nil { setenv("LOG_LEVEL", "warning", 1) }
            try await RegistryServer(registry: registry, limits: limits).run(host: host, port: port) { bound in
                // Unbuffered, so a parent process reading the port sees it at once.
                FileHandle.standardOutput.write(Data("listening on http://\(host):\(bound)\n".utf8))
            }
        }
    }
}
