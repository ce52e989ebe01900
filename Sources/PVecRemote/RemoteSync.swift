import Foundation
import PVecStore
import PVecTensor

/// Push and pull: negotiate what the other side lacks, send only that, then move names.
///
/// Objects go first and names last, so an interrupted run leaves the receiver consistent (new
/// objects, old names) and running it again sends only what is still missing.
public enum RemoteSync {
    /// What a push or pull moved.
    public struct Report: Sendable {
        public var manifests = 0
        public var blobs = 0
        /// Tensor blobs an OCI registry mounted from another of its repositories (none moved).
        public var mounted = 0
        /// Bytes of object bodies sent or received.
        public var bytes = 0
        public var names: [(name: String, id: ArtifactID, changed: Bool)] = []
    }

    /// Progress callback: (phase, done, total, bytes so far).
    public typealias Progress = @Sendable (String, Int, Int, Int) -> Void

    /// Sends `names` and their lineage closure to the remote and moves the names there.
    ///
    /// A name moves only if the server still has the id this registry last saw there (nothing,
    /// for a name it never saw); `force` moves it from whatever the server has now.
    /// - Throws: `RemoteError.conflict` for a name that moved on the server (its objects are
    ///   sent all the same), `.server`, `.unreachable`; `StoreError` for unknown names.
    public static func push(_ registry: Registry, remote name: String, names: [String], force: Bool = false,
                            command: String = "pvec push", progress: Progress? = nil) throws -> Report {
        let progress = progress.map(serialized)
        if try RemoteConfig.load(for: registry).remote(name).isOCI {
            return try OCIRemote.push(registry, remote: name, names: names, force: force, command: command, progress: progress)
        }
        var config = try RemoteConfig.load(for: registry)
        let client = try config.client(name)
        var report = Report()
        var ids: [(name: String, id: ArtifactID)] = []
        for n in names { ids.append((n, try registry.resolve(n))) }
        let closure = try registry.closure(of: ids.map(\.id))
        let plainNames = ids.map { $0.name.split(separator: "@").first.map(String.init) ?? $0.name }
        let missing = try client.missing(closure, names: plainNames)
        let total = missing.blobs.count + missing.manifests.count
        // Blobs are independent: packs of them, several in flight at once, each stored by the
        // server with one fsync pass. Manifests follow in packs sent one after the other,
        // parents first, since the server checks each one's parents on receipt.
        let counter = Counter()
        try sendInPacks(missing.blobs, width: workers, load: { .blob($0, try registry.encodedBlob($0)) }) { pack in
            try client.putPack(pack)
            let (n, sent) = counter.add(pack.entries.count, bytes: pack.entries.reduce(0) { $0 + $1.bytes.count })
            progress?("push", n, total, sent)
        }
        try sendInPacks(missing.manifests, width: 1, load: { .manifest($0, try registry.manifestBytes($0)) }) { pack in
            try client.putPack(pack)
            let (n, sent) = counter.add(pack.entries.count, bytes: pack.entries.reduce(0) { $0 + $1.bytes.count })
            progress?("push", n, total, sent)
        }
        report.blobs = missing.blobs.count
        report.manifests = missing.manifests.count
        report.bytes = counter.bytes
        var sigs: [ArtifactSignature] = []
        for m in closure.manifests { sigs += try registry.signatures(of: m) }
        if !sigs.isEmpty { try client.putSignatures(sigs) }
        let serverNames = Dictionary(try client.names().map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
        // Names that need to move, all in one request (per `RemoteClient.batch`).
        var moves: [(name: String, id: ArtifactID, expected: ArtifactID?)] = []
        for (n, id) in ids {
            let plain = n.split(separator: "@").first.map(String.init) ?? n
            let current = serverNames[plain]
            if current == id {
                report.names.append((plain, id, false))
                config.remotes[name]?.tracking[plain] = id
            } else if !moves.contains(where: { $0.name == plain }) {
                moves.append((plain, id, force ? current : config.remotes[name]?.tracking[plain]))
            }
        }
        let conflicts = try client.updateRefs(moves)
        let refused = Set(conflicts.map(\.name))
        for m in moves where !refused.contains(m.name) {
            report.names.append((m.name, m.id, true))
            config.remotes[name]?.tracking[m.name] = m.id
        }
        let conflict = conflicts.first.map { RemoteError.conflict(name: $0.name, message: $0.message) }
        try config.save()
        if let conflict { throw conflict }
        return report
    }

    /// Fetches `names` (all the server's names when empty) with their lineage and sets them here.
    ///
    /// Blobs are written as they arrive (they stay invisible until named); manifests, names and
    /// signatures are taken in one transaction at the end.
    /// - Parameters:
    ///   - force: move a local name even if it was changed here since the last pull.
    /// - Throws: `RemoteError.nameTaken`, `.server`, `.unreachable`, `StoreError.hashMismatch`.
    public static func pull(_ registry: Registry, remote name: String, names: [String], force: Bool = false,
                            command: String, progress: Progress? = nil) throws -> Report {
        let progress = progress.map(serialized)
        if try RemoteConfig.load(for: registry).remote(name).isOCI {
            return try OCIRemote.pull(registry, remote: name, names: names, force: force, command: command, progress: progress)
        }
        var config = try RemoteConfig.load(for: registry)
        let client = try config.client(name)
        let tracking = try config.remote(name).tracking
        var report = Report()
        let serverNames = try client.names()
        var wanted: [(name: String, id: ArtifactID)] = []
        if names.isEmpty {
            wanted = serverNames.map { ($0.name, $0.id) }
        } else {
            let byName = Dictionary(serverNames.map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
            for n in names {
                guard let id = byName[n] else { throw RemoteError.server(url: client.base.absoluteString, status: 404, message: "no name '\(n)' on the server") }
                wanted.append((n, id))
            }
        }
        let local = Dictionary(try registry.refs().map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
        var refs: [(name: String, id: ArtifactID, expected: ArtifactID??)] = []
        for (n, id) in wanted {
            let here = local[n]
            if let here, here != id, here != tracking[n], !force {
                throw RemoteError.nameTaken(name: n, here: here.hex, incoming: id.hex)
            }
            refs.append((n, id, .some(here)))
        }
        guard !wanted.isEmpty else { return report }
        let (closure, signatures) = try client.closure(of: wanted.map(\.id))
        let blobs = closure.blobs.filter { !registry.hasBlob($0) }
        let manifests = closure.manifests.filter { !registry.hasArtifact($0) }
        let total = blobs.count + manifests.count
        let counter = Counter()
        // Blobs in packs of at most `packBytes`, several in flight; each pack's blobs are
        // checked, then stored with one fsync pass.
        let share = max(1, min(RemoteClient.batch, (blobs.count + workers - 1) / workers))
        let groups = stride(from: 0, to: blobs.count, by: share).map { Array(blobs[$0..<min($0 + share, blobs.count)]) }
        try parallel(groups) { group in
            try client.objects(blobs: group, maxBytes: Self.packBytes) { pack in
                try registry.putEncodedBlobs(pack.blobs)
                let (n, got) = counter.add(pack.entries.count, bytes: pack.entries.reduce(0) { $0 + $1.bytes.count })
                progress?("pull", n, total, got)
            }
        }
        // Manifests in the closure's order (parents first), each checked against its blob,
        // which is here by now (fetched above or already present).
        var manifestBytes: [[UInt8]] = []
        for start in stride(from: 0, to: manifests.count, by: RemoteClient.batch) {
            try client.objects(manifests: Array(manifests[start..<min(start + RemoteClient.batch, manifests.count)]),
                               maxBytes: Self.packBytes) { pack in
                let list = pack.manifests
                _ = try Parallel.map(list.count) { k in
                    try registry.checkManifestAgainstBlob(Registry.incomingManifest(list[k].bytes, as: list[k].id).1, id: list[k].id)
                }
                manifestBytes += list.map(\.bytes)
                let (n, got) = counter.add(list.count, bytes: list.reduce(0) { $0 + $1.bytes.count })
                progress?("pull", n, total, got)
            }
        }
        report.blobs = blobs.count
        report.manifests = manifests.count
        report.bytes = counter.bytes
        try registry.receive(IncomingBatch(manifests: manifestBytes, refs: refs, signatures: signatures.filter(\.isValid)),
                             source: "remote:\(name)", command: command)
        for (n, id) in wanted {
            report.names.append((n, id, local[n] != id))
            config.remotes[name]?.tracking[n] = id
        }
        try config.save()
        return report
    }

    // MARK: - Concurrency

    /// The callback, called by one worker at a time.
    static func serialized(_ p: @escaping Progress) -> Progress {
        let lock = NSLock()
        return { a, b, c, d in
            lock.lock()
            defer { lock.unlock() }
            p(a, b, c, d)
        }
    }

    /// Requests in flight at once: enough to hide loopback and fsync latency, few enough not to
    /// crowd a small server.
    static let workers = 4
    /// Bytes per pack each way: large enough that a pack's fsync pass and request cost little
    /// per object, small enough that `workers` packs in flight stay in a few dozen MiB.
    static let packBytes = 16 << 20

    /// Loads `items` into packs of about `packBytes` (and at most `RemoteClient.batch`
    /// objects) and sends each with `send`, up to `width` packs at a time; with width 1 the
    /// packs go in item order, one after the other.
    static func sendInPacks<T: Sendable>(_ items: [T], width: Int, load: @escaping @Sendable (T) throws -> ObjectPack.Entry,
                                         send: @escaping @Sendable (ObjectPack) throws -> Void) throws {
        let next = Locked(0)
        try parallel(Array(0..<max(1, min(width, items.count))), width: width) { _ in
            var pack = ObjectPack()
            var size = 0
            while let i = next.with({ n -> Int? in
                guard n < items.count else { return nil }
                n += 1
                return n - 1
            }) {
                let entry = try load(items[i])
                pack.entries.append(entry)
                size += entry.bytes.count
                if size >= packBytes || pack.entries.count >= RemoteClient.batch {
                    try send(pack)
                    pack = ObjectPack()
                    size = 0
                }
            }
            if !pack.entries.isEmpty { try send(pack) }
        }
    }

    /// Runs `body` on every item with up to `width` at a time, each on its own thread; rethrows
    /// the first error (the other workers stop taking new items).
    ///
    /// Threads, not `DispatchQueue.concurrentPerform`: that runs at most one iteration per core
    /// at a time, and the workers spend their time blocked on the network or on fsync, so on a
    /// 2-core machine it kept 2 requests in flight whatever the width asked for.
    static func parallel<T: Sendable>(_ items: [T], width: Int = workers, _ body: @escaping @Sendable (T) throws -> Void) throws {
        guard !items.isEmpty else { return }
        let count = max(1, min(width, items.count))
        if count == 1 {
            for item in items { try body(item) }
            return
        }
        let next = Locked(0)
        let failure = Locked<Error?>(nil)
        let done = DispatchGroup()
        for _ in 0..<count {
            done.enter()
            let worker = Thread {
                defer { done.leave() }
                while true {
                    let i: Int? = next.with { n in
                        guard n < items.count, failure.with({ $0 == nil }) else { return nil }
                        n += 1
                        return n - 1
                    }
                    guard let i else { return }
                    do {
                        try body(items[i])
                    } catch {
                        failure.with { if $0 == nil { $0 = error } }
                        return
                    }
                }
            }
            worker.stackSize = 4 << 20
            worker.start()
        }
        done.wait()
        if let e = failure.with({ $0 }) { throw e }
    }

    /// Runs `work` on every item, up to `width` at a time, and `then` on the calling thread with
    /// each result in item order, as soon as it and every earlier one are done: ordered local
    /// writes (audit rows, each its own fsynced transaction) overlap the requests still in flight
    /// instead of following them. `then` sees every item whose work succeeded, also when another
    /// failed (a tag that moved is audited whatever happened to the next); the first error of
    /// either side is rethrown after every worker stopped, and one from `then` stops the workers.
    static func parallel<T: Sendable, R: Sendable>(_ items: [T], width: Int = workers, _ work: @escaping @Sendable (T) throws -> R,
                                                   inOrder then: (T, R) throws -> Void) throws {
        guard !items.isEmpty else { return }
        let results = OrderedResults<R>(count: items.count)
        let failure = Locked<Error?>(nil)
        let stopped = DispatchSemaphore(value: 0)
        let runner = Thread {
            defer { results.finish(); stopped.signal() }
            do {
                try parallel(Array(items.indices), width: width) { i in
                    guard !results.isCancelled else { throw CancellationError() }
                    results.set(i, try work(items[i]))
                }
            } catch {
                failure.with { if $0 == nil { $0 = error } }
            }
        }
        runner.stackSize = 4 << 20
        runner.start()
        defer { stopped.wait() }
        do {
            for i in items.indices {
                if let r = results.take(i) { try then(items[i], r) }
            }
        } catch {
            results.cancel()
            throw error
        }
        if let e = failure.with({ $0 }) { throw e }
    }

    /// Results of parallel work, taken in order by one reader.
    final class OrderedResults<R>: @unchecked Sendable {
        private let condition = NSCondition()
        private var slots: [R?]
        private var finished = false
        private var cancelled = false

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func set(_ i: Int, _ r: R) {
            condition.lock()
            defer { condition.unlock() }
            slots[i] = r
            condition.broadcast()
        }

        /// No more results will come.
        func finish() {
            condition.lock()
            defer { condition.unlock() }
            finished = true
            condition.broadcast()
        }

        /// The reader failed: the workers stop taking items.
        func cancel() {
            condition.lock()
            defer { condition.unlock() }
            cancelled = true
        }

        var isCancelled: Bool {
            condition.lock()
            defer { condition.unlock() }
            return cancelled
        }

        /// Result `i`, waiting for it; nil when the work finished without it.
        func take(_ i: Int) -> R? {
            condition.lock()
            defer { condition.unlock() }
            while slots[i] == nil, !finished { condition.wait() }
            let r = slots[i]
            slots[i] = nil
            return r
        }
    }

    /// Objects done and bytes moved, shared by the workers.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var objects = 0
        private(set) var bytes = 0

        func add(_ n: Int) -> (objects: Int, bytes: Int) { add(1, bytes: n) }

        func add(_ count: Int, bytes n: Int) -> (objects: Int, bytes: Int) {
            lock.lock()
            defer { lock.unlock() }
            objects += count
            bytes += n
            return (objects, bytes)
        }
    }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func with<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
