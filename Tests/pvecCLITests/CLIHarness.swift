import Foundation
import PVecTensor
import XCTest

/// The outcome of one `pvec` process.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String

    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// Runs the built `pvec` binary against a throwaway registry, as a user would.
class CLITestCase: XCTestCase {
    var workDir: URL!
    var registryDir: URL { workDir.appendingPathComponent("reg") }

    /// The pvec executable next to the test bundle (or $PVEC_BIN).
    static var binary: URL {
        if let p = ProcessInfo.processInfo.environment["PVEC_BIN"] { return URL(fileURLWithPath: p) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("pvec")
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), !isDir.boolValue {
                return candidate
            }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pvec")
    }

    override func setUpWithError() throws {
        workDir = FileManager.default.temporaryDirectory.appendingPathComponent("pvec-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: workDir)
    }

    /// Runs `pvec ARGS --registry <tmp>`; `registry: false` leaves the flag out.
    @discardableResult
    func pvec(_ args: [String], registry: Bool = true, env: [String: String] = [:]) throws -> CLIResult {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = args + (registry ? ["--registry", registryDir.path] : [])
        var e = ProcessInfo.processInfo.environment
        e.removeValue(forKey: "PVEC_REGISTRY")
        for (k, v) in env { e[k] = v }
        p.environment = e
        p.currentDirectoryURL = workDir
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read before waiting so a large output cannot fill the pipe and block.
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLIResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: r, as: UTF8.self))
    }

    /// Runs and asserts success, returning stdout.
    @discardableResult
    func ok(_ args: String..., file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try pvec(args)
        XCTAssertEqual(r.status, 0, "pvec \(args.joined(separator: " ")) failed: \(r.stderr)", file: file, line: line)
        return r.stdout
    }

    /// Runs and asserts a refusal: non-zero exit, exactly one line on stderr containing `message`.
    @discardableResult
    func refused(_ args: [String], containing message: String, file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let r = try pvec(args)
        XCTAssertNotEqual(r.status, 0, "expected failure of pvec \(args.joined(separator: " "))", file: file, line: line)
        let errLines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
        XCTAssertEqual(errLines.count, 1, "expected one stderr line, got: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.localizedCaseInsensitiveContains(message),
                      "stderr '\(r.stderr)' lacks '\(message)'", file: file, line: line)
        return r
    }

    /// Parses stdout of a `--json` command.
    func json(_ args: String..., file: StaticString = #filePath, line: UInt = #line) throws -> Any {
        let r = try pvec(args + ["--json"])
        XCTAssertEqual(r.status, 0, "pvec \(args.joined(separator: " ")) --json failed: \(r.stderr)", file: file, line: line)
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8), options: [.fragmentsAllowed])
    }

    /// Ids in the registry, for "nothing changed" checks.
    func artifactIDs() throws -> [String] {
        let list = try json("ls") as! [[String: Any]]
        return list.map { $0["id"] as! String }.sorted()
    }

    /// A fresh registry with init `i` (backbone "toy") and prompts tuned from it, one per name
    /// (`a` from seed 2, `b` from seed 3, …), all [4, 6], imported from .npy.
    func makeToyRegistry(prompts: [String]) throws {
        try ok("init")
        try ok("import", try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: 1)), "i.npy"),
               "--name", "i", "--kind", "init", "--backbone", "toy")
        for (k, name) in prompts.enumerated() {
            try ok("import", try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: UInt64(k + 2))), "\(name).npy"),
                   "--name", name, "--init", "i")
        }
    }

    /// Writes a file into the work directory.
    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let url = workDir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }
}
