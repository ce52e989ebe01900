import Foundation
import XCTest

/// Helpers for tests that drive several registries at once (teams, servers, bundles).
extension CLITestCase {
    /// The signing-key folder of the test (`$PVEC_KEYS`).
    var keys: String { workDir.appendingPathComponent("keys").path }

    /// The test's Docker config folder (`$DOCKER_CONFIG`), so OCI credentials never come from
    /// the machine's own `~/.docker`.
    var dockerConfig: URL { workDir.appendingPathComponent("docker") }

    /// A folder in the test's work directory.
    func dir(_ name: String) -> URL { workDir.appendingPathComponent(name) }

    /// Runs `pvec ARGS --registry REG` with the test's keys, Docker config and actor `tester`;
    /// checks the exit status unless `expect` is nil.
    @discardableResult
    func on(_ reg: URL, _ args: String..., expect status: Int32? = 0, file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let r = try pvec(args + ["--registry", reg.path], registry: false, env: ["PVEC_KEYS": keys, "PVEC_ACTOR": "tester",
                                                                            "DOCKER_CONFIG": dockerConfig.path])
        if let status {
            XCTAssertEqual(r.status, status, "pvec \(args.joined(separator: " ")): \(r.stderr)", file: file, line: line)
        }
        return r
    }
}
