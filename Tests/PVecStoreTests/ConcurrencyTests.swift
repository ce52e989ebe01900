import Foundation
import PVecTensor
import XCTest
@testable import PVecStore

final class ConcurrencyTests: XCTestCase {
    static let childEnv = "PVEC_STORE_TEST_CHILD_ROOT"

    /// Two Registry instances on two threads each write 100 names (and move a shared one).
    func testTwoInstancesOnTwoThreadsLoseNothing() throws {
        let dir = try TempDir()
        let setup = try Registry.create(at: dir.url)
        let ids = try (0..<4).map { try Fixtures.prompt(setup, seed: UInt64($0)) }
        let errors = ErrorBox()
        let root = dir.url
        let group = DispatchGroup()
        for worker in 0..<2 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let reg = try Registry.open(at: root)
                    for i in 0..<100 {
                        try reg.updateRef("w\(worker)/r\(i)", to: ids[i % 4], command: "worker \(worker)")
                        try reg.updateRef("shared", to: ids[(i + worker) % 4], command: "worker \(worker)")
                    }
                } catch {
                    errors.add(error)
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 300), .success)
        XCTAssertEqual(errors.all.map { "\($0)" }, [])
        try checkAfterConcurrentWrites(setup, names: (0..<2).flatMap { w in (0..<100).map { "w\(w)/r\($0)" } })
    }

    /// Two separate processes (this test binary re-run on a helper test) write 100 names each.
    func testTwoProcessesLoseNothing() throws {
        let dir = try TempDir()
        let setup = try Registry.create(at: dir.url)
        for seed in 0..<4 { try setup.updateRef("base\(seed)", to: try Fixtures.prompt(setup, seed: UInt64(seed)), command: "setup") }
        var procs: [Process] = []
        for worker in 0..<2 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            p.arguments = ["PVecStoreTests.ConcurrencyTests/testChildWriter"]
            var env = ProcessInfo.processInfo.environment
            env[Self.childEnv] = dir.url.path
            env["PVEC_STORE_TEST_WORKER"] = "\(worker)"
            p.environment = env
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            procs.append(p)
        }
        for p in procs {
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "child writer failed")
        }
        try checkAfterConcurrentWrites(setup, names: (0..<2).flatMap { w in (0..<100).map { "p\(w)/r\($0)" } })
    }

    /// The body of `testTwoProcessesLoseNothing`'s children; skipped when run normally.
    func testChildWriter() throws {
        guard let root = ProcessInfo.processInfo.environment[Self.childEnv],
              let worker = ProcessInfo.processInfo.environment["PVEC_STORE_TEST_WORKER"] else {
            throw XCTSkip("helper for testTwoProcessesLoseNothing")
        }
        let reg = try Registry.open(at: URL(fileURLWithPath: root))
        if worker == "endless" {
            // Killed by testWriterKilledMidWrite; the bound only keeps a stray child from running forever.
            for i in 0..<100_000 {
                let t = Fixtures.normal([64, 96], seed: UInt64(i))
                let blob = try reg.putBlob(t)
                let id = try reg.writeManifest(Manifest(kind: .prompt, blob: blob, shape: t.shape, backbone: nil,
                                                        recipe: Recipe(op: "import", params: ["i": .int(Int64(i))])))
                try reg.updateRef("k/\(i % 50)", to: id, command: "endless")
            }
            return
        }
        let ids = try (0..<4).map { try reg.resolve("base\($0)") }
        for i in 0..<100 {
            // Each child also writes its own artifacts, exercising object writes side by side.
            let own = try Fixtures.prompt(reg, seed: 1000 * (UInt64(worker)! + 1) + UInt64(i % 5))
            try reg.updateRef("p\(worker)/r\(i)", to: i % 2 == 0 ? ids[i % 4] : own, command: "child \(worker)")
            try reg.updateRef("shared", to: ids[(i + Int(worker)!) % 4], command: "child \(worker)")
        }
    }

    /// A writer killed with SIGKILL in the middle of its work leaves no partial object and a
    /// consistent catalog: at worst manifest objects not yet indexed, which a rebuild indexes.
    func testWriterKilledMidWrite() throws {
        let dir = try TempDir()
        let setup = try Registry.create(at: dir.url)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        p.arguments = ["PVecStoreTests.ConcurrencyTests/testChildWriter"]
        var env = ProcessInfo.processInfo.environment
        env[Self.childEnv] = dir.url.path
        env["PVEC_STORE_TEST_WORKER"] = "endless"
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date(timeIntervalSinceNow: 120)
        while try setup.refs().count < 20 && Date() < deadline && p.isRunning { usleep(20_000) }
        XCTAssertTrue(p.isRunning, "the child should still be writing")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertGreaterThanOrEqual(try setup.refs().count, 20)

        let reg = try Registry.open(at: dir.url)
        reg.removeStaleTempFiles()
        let leftovers = reg.staleTempFiles() + reg.objects.staleTempFiles(maxAge: 0) + reg.manifestObjects.staleTempFiles(maxAge: 0)
        XCTAssertEqual(leftovers.filter { $0.lastPathComponent.contains("_\(p.processIdentifier)_") }, [],
                       "the dead writer's temp files are gone after cleanup")
        let problems = try reg.checkIntegrity()
        XCTAssertTrue(problems.allSatisfy { $0.kind == .notInCatalog }, "\(problems)")
        try reg.rebuildCatalog()
        XCTAssertEqual(try reg.checkIntegrity(), [])
        for r in try reg.refs() { XCTAssertNoThrow(try reg.tensor(r.id)) }
    }

    private func checkAfterConcurrentWrites(_ reg: Registry, names: [String]) throws {
        let refs = Set(try reg.refs().map(\.name))
        for n in names { XCTAssertTrue(refs.contains(n), "lost \(n)") }
        let shared = try reg.refHistory("shared")
        XCTAssertEqual(shared.map(\.version), Array(1...shared.count), "versions are dense")
        XCTAssertEqual(try reg.refs().first { $0.name == "shared" }?.version, shared.count)
        let creates = try reg.log().filter { $0.action == "create-ref" }.count
        XCTAssertGreaterThanOrEqual(creates, names.count + 1)
        XCTAssertEqual(try reg.checkIntegrity(), [])
    }
}

/// Collects errors from worker threads.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []
    func add(_ e: Error) { lock.lock(); errors.append(e); lock.unlock() }
    var all: [Error] { lock.lock(); defer { lock.unlock() }; return errors }
}
