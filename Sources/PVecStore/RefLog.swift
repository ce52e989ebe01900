import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `logs/refs`: a write-ahead log of every audited change, one canonical JSON object per
/// line (as git keeps reflogs), and the anchor of the audit chain outside the catalog.
///
/// A catalog transaction that writes audit rows gets a transaction id. Just before its SQLite
/// COMMIT, one append (fsynced) writes the transaction's changes and a `prepare` record naming
/// the audit head the transaction produces; after the COMMIT, a `commit` record repeats it:
///
/// ```
/// {"action":"ref","command":"pvec import ...","name":"mnli","new":"<id>","old":null,"time":1717171717.5,"txn":"9f..","version":1}
/// {"action":"prepare","head":"<hash of audit row 12>","prev":"<hash of row 11>","seq":12,"txn":"9f.."}
/// {"action":"commit","head":"<hash of audit row 12>","seq":12,"time":1717171717.5,"txn":"9f.."}
/// ```
///
/// A transaction is committed when its `commit` record is there, or when a later `prepare`
/// names its head as `prev` (the later writer saw that head in the catalog, so it committed;
/// this settles a crash between the SQLite COMMIT and the commit record at the next write). Any
/// other transaction (rolled back, or killed before COMMIT) never happened, and
/// `rebuildCatalog` ignores its entries. Lines without `txn` come from pvec before migration
/// 0004 and count as committed. Lines that do not parse (a torn last line) are skipped.
enum RefLog {
    enum Entry: Equatable {
        case ref(name: String, version: Int, old: ArtifactID?, new: ArtifactID, time: Double, command: String)
        case tag(tag: String, id: ArtifactID, time: Double, command: String)
        /// `team` nil: the key is no longer trusted.
        case trust(key: String, team: String?, time: Double, command: String)
        case sign(artifact: ArtifactID, key: String, signature: String, signer: String?, time: Double)
        /// A repair started a new audit chain; the old one ended at this seq and head.
        case chain(oldSeq: Int64?, oldHead: String?, time: Double)

        var json: JSONValue {
            func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
            switch self {
            case .ref(let name, let version, let old, let new, let time, let command):
                return ["action": "ref", "name": .string(name), "version": .int(Int64(version)),
                        "old": opt(old?.hex), "new": .string(new.hex), "time": .double(time), "command": .string(command)]
            case .tag(let tag, let id, let time, let command):
                return ["action": "tag", "tag": .string(tag), "id": .string(id.hex), "time": .double(time),
                        "command": .string(command)]
            case .trust(let key, let team, let time, let command):
                return ["action": "trust", "key": .string(key), "team": opt(team), "time": .double(time), "command": .string(command)]
            case .sign(let artifact, let key, let signature, let signer, let time):
                return ["action": "sign", "artifact": .string(artifact.hex), "key": .string(key), "signature": .string(signature),
                        "signer": opt(signer), "time": .double(time)]
            case .chain(let oldSeq, let oldHead, let time):
                return ["action": "chain", "old_seq": oldSeq.map { .int($0) } ?? .null, "old_head": opt(oldHead), "time": .double(time)]
            }
        }

        init?(json v: JSONValue) {
            guard let time = v["time"]?.doubleValue else { return nil }
            switch v["action"]?.stringValue {
            case "ref":
                guard let command = v["command"]?.stringValue, let name = v["name"]?.stringValue, let version = v["version"]?.intValue,
                      version >= 1, version <= Int64(Int32.max),
                      let new = v["new"]?.stringValue.flatMap(ArtifactID.init) else { return nil }
                self = .ref(name: name, version: Int(version), old: v["old"]?.stringValue.flatMap(ArtifactID.init),
                            new: new, time: time, command: command)
            case "tag":
                guard let command = v["command"]?.stringValue, let tag = v["tag"]?.stringValue,
                      let id = v["id"]?.stringValue.flatMap(ArtifactID.init) else { return nil }
                self = .tag(tag: tag, id: id, time: time, command: command)
            case "trust":
                guard let command = v["command"]?.stringValue, let key = v["key"]?.stringValue else { return nil }
                self = .trust(key: key, team: v["team"]?.stringValue, time: time, command: command)
            case "sign":
                guard let artifact = v["artifact"]?.stringValue.flatMap(ArtifactID.init), let key = v["key"]?.stringValue,
                      let signature = v["signature"]?.stringValue else { return nil }
                self = .sign(artifact: artifact, key: key, signature: signature, signer: v["signer"]?.stringValue, time: time)
            case "chain":
                self = .chain(oldSeq: v["old_seq"]?.intValue, oldHead: v["old_head"]?.stringValue, time: time)
            default:
                return nil
            }
        }
    }

    /// An audit head as a `prepare` or `commit` record names it.
    struct Mark: Equatable {
        var seq: Int64
        var head: String
    }

    /// One transaction's records, as read back.
    struct Transaction {
        var id: String
        /// Position of its first line in the file, for ordering.
        var position: Int
        var entries: [Entry] = []
        var prepared: Mark?
        /// The audit head before the transaction (`prev` of its prepare record).
        var prev: String?
        /// A `commit` record was read (with the head it names, if any).
        var committed = false
        var commitMark: Mark?
        var aborted = false
    }

    /// The whole log, parsed: entries grouped by transaction, and which transactions committed.
    struct Contents {
        /// Entries written by pvec before 0004 (no transaction id), in file order.
        var legacy: [(position: Int, entry: Entry)] = []
        var transactions: [Transaction] = []

        /// Heads some later transaction started from.
        private var prevs: Set<String> {
            Set(transactions.compactMap(\.prev))
        }

        /// Committed transactions in file order, and the ones that never committed (or whose
        /// commit cannot be told: killed between COMMIT and commit record, with no write since).
        /// - Parameter catalogHeads: `"<seq> <hash>"` of the catalog's audit rows, when there is a
        ///   catalog to ask: a transaction whose prepared head is among them committed.
        func resolved(catalogHeads: Set<String> = []) -> (committed: [Transaction], pending: [Transaction]) {
            let started = prevs
            var committed: [Transaction] = [], pending: [Transaction] = []
            for t in transactions {
                let head = t.prepared
                if t.committed || (!t.aborted && head.map { started.contains($0.head) || catalogHeads.contains("\($0.seq) \($0.head)") } == true) {
                    committed.append(t)
                } else {
                    pending.append(t)
                }
            }
            return (committed, pending)
        }

        /// The newest head recorded by a committed transaction of the current chain (the one
        /// begun by the last committed `chain` entry, or the first chain).
        func chainHead(catalogHeads: Set<String> = []) -> Mark? {
            let committed = resolved(catalogHeads: catalogHeads).committed
            var start = -1
            for t in committed where t.entries.contains(where: { if case .chain = $0 { return true } else { return false } }) {
                start = t.position
            }
            return committed.filter { $0.position >= start }.compactMap { $0.commitMark ?? $0.prepared }.max { $0.seq < $1.seq }
        }

        /// Every committed entry, legacy ones included, in file order.
        func committedEntries(catalogHeads: Set<String> = []) -> [Entry] {
            var all = legacy
            for t in resolved(catalogHeads: catalogHeads).committed { all += t.entries.map { (t.position, $0) } }
            return all.enumerated().sorted { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }.map(\.element.entry)
        }
    }

    static func transactionID() -> String {
        (0..<2).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16).leftPadded(16) }.joined()
    }

    static func prepareRecord(txn: String, mark: Mark?, prev: String?) -> JSONValue {
        var o: [String: JSONValue] = ["action": "prepare", "txn": .string(txn), "prev": prev.map { .string($0) } ?? .null]
        if let mark { o["seq"] = .int(mark.seq); o["head"] = .string(mark.head) }
        return .object(o)
    }

    static func commitRecord(txn: String, mark: Mark?) -> JSONValue {
        var o: [String: JSONValue] = ["action": "commit", "txn": .string(txn), "time": .double(Date().timeIntervalSince1970)]
        if let mark { o["seq"] = .int(mark.seq); o["head"] = .string(mark.head) }
        return .object(o)
    }

    static func abortRecord(txn: String) -> JSONValue {
        ["action": "abort", "txn": .string(txn)]
    }

    static func line(_ e: Entry, txn: String) -> JSONValue {
        guard case .object(var o) = e.json else { return e.json }
        o["txn"] = .string(txn)
        return .object(o)
    }

    /// Appends lines in one write and fsyncs. A torn last line left by a crash is ended first,
    /// so it cannot swallow the first new line.
    static func append(_ lines: [JSONValue], to url: URL) throws {
        guard !lines.isEmpty else { return }
        try FileIO.makeDirectory(url.deletingLastPathComponent(), syncParent: true)
        let fd = open(url.path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIO.error(errno, url, "open for append") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        let size = lseek(fd, 0, SEEK_END)
        if size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, size - 1) == 1, last != 0x0A { bytes.append(0x0A) }
        }
        for l in lines { bytes += l.canonicalBytes + [0x0A] }
        try FileIO.writeAll(fd, bytes, url)
        guard fsync(fd) == 0 else { throw FileIO.error(errno, url, "fsync") }
    }

    /// Reads and groups the log; a missing file is an empty log.
    static func read(_ url: URL) throws -> Contents {
        var out = Contents()
        guard FileManager.default.fileExists(atPath: url.path) else { return out }
        let bytes = try FileIO.readFile(url)
        var index: [String: Int] = [:]
        func transaction(_ id: String, _ position: Int) -> Int {
            if let i = index[id] { return i }
            out.transactions.append(Transaction(id: id, position: position))
            index[id] = out.transactions.count - 1
            return out.transactions.count - 1
        }
        for (position, line) in bytes.split(separator: 0x0A).enumerated() {
            guard let v = try? JSONValue.parse(line) else { continue }
            guard let txn = v["txn"]?.stringValue else {
                if let e = Entry(json: v) { out.legacy.append((position, e)) }
                continue
            }
            func mark() -> Mark? {
                guard let seq = v["seq"]?.intValue, let head = v["head"]?.stringValue else { return nil }
                return Mark(seq: seq, head: head)
            }
            switch v["action"]?.stringValue {
            case "prepare":
                let i = transaction(txn, position)
                out.transactions[i].prepared = mark()
                out.transactions[i].prev = v["prev"]?.stringValue
            case "commit":
                let i = transaction(txn, position)
                out.transactions[i].committed = true
                out.transactions[i].commitMark = mark()
            case "abort":
                out.transactions[transaction(txn, position)].aborted = true
            default:
                guard let e = Entry(json: v) else { continue }
                let i = transaction(txn, position)
                // Entries after the prepare record belong to no transaction pvec wrote.
                if out.transactions[i].prepared == nil { out.transactions[i].entries.append(e) }
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String {
        count >= n ? self : String(repeating: "0", count: n - count) + self
    }
}

/// What the current catalog transaction will append to `logs/refs` before its COMMIT.
///
/// Writes are serialized by the catalog's single writer connection, so at most one transaction
/// of a `Registry` fills this at a time; the lock only makes that safe to state.
final class PendingLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [RefLog.Entry] = []
    private var prev: String?
    private var head: RefLog.Mark?
    private var started = false

    func reset() {
        lock.lock(); defer { lock.unlock() }
        entries = []; prev = nil; head = nil; started = false
    }

    func add(_ e: RefLog.Entry) {
        lock.lock(); defer { lock.unlock() }
        entries.append(e)
    }

    /// Records an audit row the transaction inserted; the first one's `prev` is the base.
    func audited(seq: Int64, hash: String, prev: String?) {
        lock.lock(); defer { lock.unlock() }
        if !started { self.prev = prev; started = true }
        head = RefLog.Mark(seq: seq, head: hash)
    }

    func take() -> (entries: [RefLog.Entry], prev: String?, head: RefLog.Mark?) {
        lock.lock(); defer { lock.unlock() }
        return (entries, prev, head)
    }
}
