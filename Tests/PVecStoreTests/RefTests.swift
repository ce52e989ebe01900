import Foundation
import PVecTensor
import XCTest
@testable import PVecStore

final class RefTests: XCTestCase {
    func testRefsHistoryVersionsAndTags() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let a = try Fixtures.prompt(reg, seed: 1), b = try Fixtures.prompt(reg, seed: 2), c = try Fixtures.prompt(reg, seed: 3)
        XCTAssertEqual(try reg.updateRef("mnli", to: a, command: "pvec import a"), 1)
        XCTAssertEqual(try reg.updateRef("mnli", to: b, command: "pvec import b"), 2)
        XCTAssertEqual(try reg.updateRef("mnli", to: b, command: "again"), 2, "same id: no new version")
        XCTAssertEqual(try reg.updateRef("mnli", to: c, command: "pvec import c"), 3)
        XCTAssertEqual(try reg.updateRef("team/qnli-v2.1", to: a, command: "pvec import"), 1)

        XCTAssertEqual(try reg.resolve("mnli"), c)
        XCTAssertEqual(try reg.resolve("mnli@1"), a)
        XCTAssertEqual(try reg.resolve("mnli@2"), b)
        XCTAssertEqual(try reg.resolve("mnli@3"), c)
        XCTAssertEqual(try reg.resolve("team/qnli-v2.1"), a)
        XCTAssertStoreError(try reg.resolve("mnli@4")) { $0 == .versionOutOfRange(name: "mnli", requested: 4, latest: 3) }
        XCTAssertStoreError(try reg.resolve("mnli@0")) { $0 == .versionOutOfRange(name: "mnli", requested: 0, latest: 3) }
        XCTAssertStoreError(try reg.resolve("nope@1")) { $0 == .unknownName("nope@1") }
        XCTAssertStoreError(try reg.resolve("nope")) {
            $0 == .unknownName("nope") && $0.localizedDescription.contains("pvec ls")
        }

        let history = try reg.refHistory("mnli")
        XCTAssertEqual(history.map(\.version), [1, 2, 3])
        XCTAssertEqual(history.map(\.id), [a, b, c])
        XCTAssertEqual(history.map(\.command), ["pvec import a", "pvec import b", "pvec import c"])
        XCTAssertEqual(try reg.refs().map(\.name), ["mnli", "team/qnli-v2.1"])
        XCTAssertEqual(try reg.refs().first?.version, 3)
        XCTAssertEqual(try reg.names(of: a), ["team/qnli-v2.1"])
        XCTAssertEqual(try reg.names(of: b), [])

        try reg.addTag("best", to: b, command: "pvec tag")
        try reg.addTag("paper", to: b, command: "pvec tag")
        try reg.addTag("best", to: b, command: "pvec tag")
        XCTAssertEqual(try reg.tags(of: b), ["best", "paper"])
        XCTAssertEqual(try reg.resolve("best"), b)
        XCTAssertEqual(try reg.list(tag: "paper").map(\.id), [b])
        try reg.addTag("best", to: c, command: "pvec tag")
        XCTAssertStoreError(try reg.resolve("best")) {
            if case .ambiguousTag(let t, let cands) = $0 { return t == "best" && cands.count == 2 } else { return false }
        }

        let log = try reg.log()
        XCTAssertEqual(log.count, 7)
        XCTAssertEqual(log.first?.action, "tag")
        XCTAssertEqual(log.last?.action, "create-ref")
        XCTAssertEqual(log.last?.newID, a)
        XCTAssertNil(log.last?.oldID)
        XCTAssertEqual(try reg.log(limit: 2).count, 2)
        let upd = log.first { $0.action == "update-ref" && $0.newID == c }
        XCTAssertEqual(upd?.oldID, b)
        XCTAssertEqual(upd?.name, "mnli")
    }

    func testIDsAndPrefixes() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let blob = try reg.putBlob(Fixtures.normal([4, 8], seed: 1))
        // Search manifests (in memory) until two ids share their first 4 hex digits, then
        // store just those two: a deterministic ambiguous prefix.
        var seen: [String: Manifest] = [:]
        var pair: (Manifest, Manifest)?
        var n: Int64 = 0
        while pair == nil {
            let m = Manifest(kind: .prompt, blob: blob, shape: [4, 8], backbone: nil, recipe: Recipe(op: "probe", params: ["n": .int(n)]))
            let key = String(m.id.hex.prefix(4))
            if let other = seen[key] { pair = (other, m) } else { seen[key] = m }
            n += 1
        }
        let a = try reg.writeManifest(pair!.0), b = try reg.writeManifest(pair!.1)
        try reg.updateRef("first", to: a, command: "t")
        let prefix = String(a.hex.prefix(4))
        XCTAssertStoreError(try reg.resolve(prefix)) {
            if case .ambiguousPrefix(let p, let cands) = $0 {
                return p == prefix && cands.count == 2 && cands.contains { $0.hasPrefix(a.short) && $0.contains("prompt") && $0.contains("(first)") }
                    && $0.localizedDescription.contains(b.short)
            } else { return false }
        }
        let common = zip(a.hex, b.hex).prefix { $0 == $1 }.count
        XCTAssertEqual(try reg.resolve(String(a.hex.prefix(common + 1))), a)
        XCTAssertEqual(try reg.resolve(String(b.hex.prefix(common + 1)).uppercased()), b)
        XCTAssertEqual(try reg.resolve(a.hex), a)
        XCTAssertStoreError(try reg.resolve(String(a.hex.prefix(3)))) { $0 == .unknownName(String(a.hex.prefix(3))) }
        XCTAssertStoreError(try reg.resolve("zzzz")) { $0 == .unknownName("zzzz") }
        XCTAssertStoreError(try reg.resolve(String(repeating: "e", count: 64))) { if case .unknownName = $0 { return true } else { return false } }
    }

    func testIdsWinAndIdLikeNamesAreRefused() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let a = try Fixtures.prompt(reg, seed: 1), b = try Fixtures.prompt(reg, seed: 2)
        let prefix = String(a.hex.prefix(6))
        XCTAssertStoreError(try reg.updateRef(prefix, to: b, command: "t")) {
            if case .invalidName = $0 { return true } else { return false }
        }
        XCTAssertStoreError(try reg.addTag(prefix.uppercased(), to: b, command: "t")) {
            if case .invalidName = $0 { return true } else { return false }
        }
        XCTAssertEqual(try reg.resolve(prefix), a, "an id prefix always means the artifact")
        XCTAssertEqual(try reg.resolve(prefix.uppercased()), a)
        XCTAssertEqual(try reg.resolve(a.hex), a)
        try reg.updateRef("v" + prefix, to: b, command: "t")
        XCTAssertEqual(try reg.resolve("v" + prefix), b)
    }

    func testCompareAndSwap() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let a = try Fixtures.prompt(reg, seed: 1), b = try Fixtures.prompt(reg, seed: 2)
        XCTAssertEqual(try reg.updateRef("x", to: a, expected: .some(nil), command: "create"), 1)
        XCTAssertStoreError(try reg.updateRef("x", to: b, expected: .some(nil), command: "create again")) {
            $0 == .refConflict(name: "x", expected: nil, actual: a)
        }
        XCTAssertStoreError(try reg.updateRef("x", to: b, expected: b, command: "wrong base")) {
            $0 == .refConflict(name: "x", expected: b, actual: a)
        }
        XCTAssertStoreError(try reg.updateRef("y", to: b, expected: a, command: "no such ref")) {
            $0 == .refConflict(name: "y", expected: a, actual: nil)
        }
        XCTAssertEqual(try reg.updateRef("x", to: b, expected: a, command: "ok"), 2)
        XCTAssertEqual(try reg.refHistory("x").count, 2, "failed swaps leave no history")
        XCTAssertEqual(try reg.log().count, 2, "failed swaps leave no audit rows")
        XCTAssertStoreError(try reg.updateRef("z", to: ArtifactID(String(repeating: "c", count: 64))!, command: "t")) {
            if case .missingObject = $0 { return true } else { return false }
        }
    }

    func testNameRules() throws {
        for good in ["mnli", "MNLI-2", "team/mnli", "a.b_c-d", "x1/y2/z3", "9lives", "x" + String(repeating: "a", count: 127)] {
            XCTAssertNoThrow(try RefName.validate(good), good)
        }
        for bad in ["", "-x", ".x", "_x", "a@b", "a..b", "a//b", "a/", "a.", "a b", "a\tb", "é", "a/.b", "x.lock",
                    String(repeating: "a", count: 129), "/abs", "beef", "BEEF", String(repeating: "a", count: 100)] {
            XCTAssertThrowsError(try RefName.validate(bad), bad) { e in
                guard case .invalidName(let n, _) = e as? StoreError else { return XCTFail("\(e)") }
                XCTAssertEqual(n, bad)
            }
        }
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let a = try Fixtures.prompt(reg, seed: 1)
        XCTAssertStoreError(try reg.updateRef("bad name", to: a, command: "t")) { if case .invalidName = $0 { return true } else { return false } }
        XCTAssertStoreError(try reg.addTag("bad@tag", to: a, command: "t")) { if case .invalidName = $0 { return true } else { return false } }
        XCTAssertStoreError(try reg.resolve("x@y")) { if case .invalidName = $0 { return true } else { return false } }
    }

    func testLocation() {
        let env = ["HOME": "/home/u", "PVEC_REGISTRY": "/data/reg"]
        XCTAssertEqual(Registry.location(explicit: "/x/y", environment: env).path, "/x/y")
        XCTAssertEqual(Registry.location(explicit: "~/r", environment: env).path, "/home/u/r")
        XCTAssertEqual(Registry.location(explicit: nil, environment: env).path, "/data/reg")
        XCTAssertEqual(Registry.location(explicit: nil, environment: ["HOME": "/home/u"]).path, "/home/u/.pvec")
        XCTAssertEqual(Registry.location(explicit: "", environment: ["HOME": "/home/u", "PVEC_REGISTRY": ""]).path, "/home/u/.pvec")
    }
}
