import Crypto
import Foundation
@testable import PVecRemote
@testable import PVecStore
import PVecTensor
import XCTest

/// The committed seed corpus under fixtures/fuzz/<parser>/ and the fuzz loop's settings.
///
/// Environment:
/// - `PVEC_FUZZ_ITERATIONS`: mutated inputs per parser (default `defaultIterations`).
/// - `PVEC_FUZZ_SEED`: the mutator's seed (default 1); a failure message names it.
/// - `PVEC_FUZZ_TRACE=1`: write each input to `$TMPDIR/pvec-fuzz-<parser>.bin` before it runs,
///   so the input that crashed the process is left on disk.
enum FuzzCorpus {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // Fuzz
        .deletingLastPathComponent()   // PVecRemoteTests
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()   // repository root
        .appendingPathComponent("fixtures/fuzz")

    /// Chosen so that every fuzz test together stays well under a minute in a debug build
    /// on one core.
    /// (About 12 s for all of them on one core of the CI machine.)
    static let defaultIterations = 10_000

    static var iterations: Int {
        ProcessInfo.processInfo.environment["PVEC_FUZZ_ITERATIONS"].flatMap(Int.init) ?? defaultIterations
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["PVEC_FUZZ_SEED"].flatMap(UInt64.init) ?? 1
    }

    static var trace: Bool { ProcessInfo.processInfo.environment["PVEC_FUZZ_TRACE"] == "1" }

    /// The seed files of one parser, by file name.
    static func load(_ parser: String) throws -> [(name: String, bytes: [UInt8])] {
        let dir = root.appendingPathComponent(parser)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.sorted()
        return try names.map { ($0, Array(try Data(contentsOf: dir.appendingPathComponent($0)))) }
    }
}

/// Thrown by a fuzz body when a parser accepted an input but its result breaks an invariant.
struct InvariantViolation: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Checks an invariant inside a fuzz body.
func require(_ condition: @autoclosure () throws -> Bool, _ message: @autoclosure () -> String) throws {
    if try !condition() { throw InvariantViolation(message()) }
}

extension XCTestCase {
    /// Runs `body` on every seed of `parser`, then on `iterations` mutated inputs.
    ///
    /// A thrown error is the parser refusing the input, which is fine; an `InvariantViolation`
    /// fails the test with the seed, iteration and input; a crash kills the test process.
    /// - Parameter skip: inputs the target must not see yet (counted and reported).
    func fuzz(_ parser: String, iterations: Int = FuzzCorpus.iterations, skip: ([UInt8]) -> Bool = { _ in false },
              file: StaticString = #filePath, line: UInt = #line, _ body: ([UInt8]) throws -> Void) throws {
        let seeds = try FuzzCorpus.load(parser)
        XCTAssertFalse(seeds.isEmpty, "no seeds in fixtures/fuzz/\(parser)", file: file, line: line)
        guard !seeds.isEmpty else { return }
        let seed = FuzzCorpus.seed
        var mutator = Mutator(seed: seed &+ UInt64(parser.utf8.reduce(0) { $0 &* 31 &+ Int($1) }), corpus: seeds.map(\.bytes))
        let traceURL = FileManager.default.temporaryDirectory.appendingPathComponent("pvec-fuzz-\(parser).bin")
        var skipped = 0, refused = 0, accepted = 0, failures = 0
        for k in 0..<(seeds.count + iterations) {
            let input = k < seeds.count ? seeds[k].bytes : mutator.next()
            if skip(input) { skipped += 1; continue }
            if FuzzCorpus.trace { try Data(input).write(to: traceURL) }
            do {
                try body(input)
                accepted += 1
            } catch let v as InvariantViolation {
                failures += 1
                let label = k < seeds.count ? "seed file \(seeds[k].name)" : "PVEC_FUZZ_SEED=\(seed) iteration \(k - seeds.count)"
                XCTFail("\(parser): \(label): \(v) — input (\(input.count) bytes): \(input.prefix(96).map { String(format: "%02x", $0) }.joined())",
                        file: file, line: line)
                if failures >= 5 { return }
            } catch {
                refused += 1
            }
        }
        print("fuzz \(parser): \(seeds.count) seeds + \(iterations) mutations: \(accepted) accepted, \(refused) refused, \(skipped) skipped")
    }
}

