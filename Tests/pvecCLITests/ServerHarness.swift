import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// A `pvec serve` child process on 127.0.0.1 with an ephemeral port, stopped by the test.
final class ServerProcess {
    let process = Process()
    let registry: URL
    private(set) var url = ""

    /// Starts the server on `port` (0: a free one) and waits, at most 60 s, for its
    /// "listening on" line.
    init(registry: URL, port: Int = 0, arguments: [String] = []) throws {
        self.registry = registry
        process.executableURL = CLITestCase.binary
        process.arguments = ["serve", "--listen", "127.0.0.1:\(port)", "--registry", registry.path] + arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "PVEC_REGISTRY")
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("\n"), Date() < deadline, process.isRunning {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { Thread.sleep(forTimeInterval: 0.05) }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first, line.hasPrefix("listening on ") else {
            stop()
            // Options a test relies on (limits, timeouts) must exist: a refusal is a failure.
            if !arguments.isEmpty { throw ServerStartFailure(arguments: arguments, output: text) }
            throw XCTSkip("pvec serve did not start: \(text)")
        }
        url = String(line.dropFirst("listening on ".count))
    }

    var port: Int { Int(url.split(separator: ":").last ?? "0") ?? 0 }

    /// SIGKILL, as a crash would; waits for the exit.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { kill() }
}

struct ServerStartFailure: Error, CustomStringConvertible {
    var arguments: [String]
    var output: String
    var description: String { "pvec serve \(arguments.joined(separator: " ")) did not start: \(output)" }
}

/// Raw HTTP against the server, for the checks the CLI never makes (tampered uploads, bad JSON).
enum HTTP {
    static func send(_ method: String, _ url: String, token: String?, body: [UInt8]? = nil, scheme: String = "Bearer") -> (status: Int, body: String) {
        var req = URLRequest(url: URL(string: url)!)
        req.httpMethod = method
        if let token { req.setValue("\(scheme) \(token)", forHTTPHeaderField: "Authorization") }
        if let body { req.httpBody = Data(body) }
        final class Box: @unchecked Sendable { var value: (Int, String) = (0, "") }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: req) { data, response, _ in
            box.value = ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 30)
        return box.value
    }
}
