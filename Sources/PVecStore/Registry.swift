import Foundation
import GRDB
import PVecTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pvec registry on disk: content-addressed objects plus a SQLite catalog.
///
/// ```
/// <root>/pvec-registry        marker: {"format":1,"kind":"pvec-registry"}
/// <root>/catalog.sqlite       the catalog (WAL; -wal and -shm beside it)
/// <root>/catalog.lock         flock'd while migrating
/// <root>/objects/ab/<62 hex>  blobs: PVB1 header + zlib (see BlobEncoding)
/// <root>/manifests/ab/<62 hex> manifests: canonical JSON, uncompressed
/// <root>/logs/refs            write-ahead log of audited changes and audit-chain anchor (RefLog)
/// ```
///
/// A `Registry` is a value you open; there is no global state. It may be used from several
/// threads, and several processes may open the same registry: ref updates run in IMMEDIATE
/// transactions, so concurrent writers wait (up to `busyTimeout`) instead of failing.
///
/// ```swift
/// let reg = try Registry.open(at: Registry.location(explicit: nil))
/// let id = try reg.resolve("mnli")
/// let prompt = try reg.tensor(id)
/// ```
public final class Registry: Sendable {
    /// The registry folder, as a standardized file URL.
    public let root: URL
    /// How the registry was opened: busy timeout, readonly, actor.
    public let configuration: RegistryConfiguration
    let db: DatabasePool
    let objects: ObjectDirectory
    let manifestObjects: ObjectDirectory
    /// Ref-log lines of the catalog transaction in progress (see `catalogWrite`).
    let pending = PendingLog()

    /// Format number in the marker file; bumped only for layout changes migrations cannot express.
    static let format = 1
    static let markerName = "pvec-registry"
    /// Temp files younger than this, from a live pid, belong to a writer still at work.
    static let tempFileMaxAge: TimeInterval = 3600

    var refLogURL: URL { root.appendingPathComponent("logs/refs") }
    var catalogURL: URL { root.appendingPathComponent("catalog.sqlite") }

    init(root: URL, configuration: RegistryConfiguration, db: DatabasePool) {
        self.root = root
        self.configuration = configuration
        self.db = db
        self.objects = ObjectDirectory(base: root.appendingPathComponent("objects", isDirectory: true))
        self.manifestObjects = ObjectDirectory(base: root.appendingPathComponent("manifests", isDirectory: true))
    }

    // MARK: - Location

    /// The path to use: the explicit flag, else `$PVEC_REGISTRY`, else `~/.pvec`.
    ///
    /// A leading `~` is expanded with `$HOME`.
    public static func location(explicit: String?,
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        func expand(_ p: String) -> URL {
            if p == "~" { return URL(fileURLWithPath: home, isDirectory: true) }
            if p.hasPrefix("~/") { return URL(fileURLWithPath: home).appendingPathComponent(String(p.dropFirst(2)), isDirectory: true) }
            return URL(fileURLWithPath: p, isDirectory: true)
        }
        if let e = explicit, !e.isEmpty { return expand(e).standardizedFileURL }
        if let e = environment["PVEC_REGISTRY"], !e.isEmpty { return expand(e).standardizedFileURL }
        return URL(fileURLWithPath: home, isDirectory: true).appendingPathComponent(".pvec", isDirectory: true)
    }

    // MARK: - Create and open

    /// Creates a registry at `root` (folders, catalog, marker), or opens the one already there.
    ///
    /// The marker is written last, so an interrupted `create` is simply run again.
    /// - Throws: `StoreError.notWritable` if the folders cannot be made.
    public static func create(at root: URL) throws -> Registry {
        let root = root.standardizedFileURL
        if isRegistry(root) { return try open(at: root) }
        try FileIO.makeDirectory(root, syncParent: true)
        for sub in ["objects", "manifests", "logs"] {
            try FileIO.makeDirectory(root.appendingPathComponent(sub, isDirectory: true), syncParent: true)
        }
        let reg = try open(at: root, configuration: .init(), requireMarker: false)
        let marker: JSONValue = ["format": .int(Int64(format)), "kind": "pvec-registry"]
        try FileIO.replace(root.appendingPathComponent(markerName), with: marker.canonicalBytes + [0x0A])
        return reg
    }

    /// Opens an existing registry, bringing its catalog up to date unless `readonly`.
    ///
    /// Stray temp files left by writers that died are not looked for here (listing every
    /// object folder cost 159 ms at 100,000 artifacts on every write command); readers ignore
    /// them and `gc` removes them.
    /// - Throws: `StoreError.notARegistry` when there is none (run `pvec init`),
    ///   `StoreError.catalogMissing` when the marker is there but `catalog.sqlite` is not (run
    ///   `pvec verify --repair`; an empty catalog is never made in its place),
    ///   `StoreError.newerSchema` when a newer pvec has migrated the catalog,
    ///   `StoreError.notWritable` when the catalog cannot be opened for writing.
    public static func open(at root: URL, configuration: RegistryConfiguration = .init()) throws -> Registry {
        try open(at: root.standardizedFileURL, configuration: configuration, requireMarker: true)
    }

    static func isRegistry(_ root: URL) -> Bool {
        var isDir: ObjCBool = false
        let marker = root.appendingPathComponent(markerName).path
        return FileManager.default.fileExists(atPath: marker, isDirectory: &isDir) && !isDir.boolValue
    }

    private static func open(at root: URL, configuration: RegistryConfiguration, requireMarker: Bool) throws -> Registry {
        if requireMarker && !isRegistry(root) { throw StoreError.notARegistry(path: root.path) }
        let catalog = root.appendingPathComponent("catalog.sqlite")
        // A registry (marker present) whose catalog is gone lost its names, history and tags;
        // an empty catalog made here would hide that. `repairCatalog` rebuilds it.
        if isRegistry(root) && !FileManager.default.fileExists(atPath: catalog.path) {
            throw StoreError.catalogMissing(path: root.path)
        }

        var config = Configuration()
        config.foreignKeysEnabled = true
        config.readonly = configuration.readonly
        config.busyMode = .timeout(configuration.busyTimeout)
        config.label = "pvec-catalog"
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: catalog.path, configuration: config)
        } catch {
            if !configuration.readonly && access(root.path, W_OK) != 0 {
                throw StoreError.notWritable(path: root.path, reason: "the catalog cannot be opened for writing")
            }
            throw StoreError.catalog("cannot open \(catalog.path): \(error)")
        }
        let reg = Registry(root: root, configuration: configuration, db: pool)
        try reg.prepareCatalog()
        return reg
    }

    /// Opens (creating) a catalog file at `path` and applies every migration, for a repair
    /// that builds a new catalog beside the lost one. The caller holds `catalog.lock`.
    static func openScratchCatalog(root: URL, path: URL, configuration: RegistryConfiguration) throws -> Registry {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(configuration.busyTimeout)
        config.label = "pvec-catalog-repair"
        do {
            let pool = try DatabasePool(path: path.path, configuration: config)
            try CatalogSchema.migrator().migrate(pool)
            return Registry(root: root, configuration: configuration, db: pool)
        } catch {
            throw StoreError.catalog("cannot create \(path.path): \(error)")
        }
    }

    /// Refuses catalogs from a newer pvec, and applies pending migrations (under a file lock,
    /// so two processes opening an old registry at once do not both migrate it).
    private func prepareCatalog() throws {
        let migrator = CatalogSchema.migrator()
        let known = Set(CatalogSchema.knownIDs)
        let applied = try catalogRead { try migrator.appliedIdentifiers($0) }
        let unknown = applied.subtracting(known)
        if !unknown.isEmpty { throw StoreError.newerSchema(path: root.path, unknownMigrations: unknown.sorted()) }
        guard !known.isSubset(of: applied) else { return }
        if configuration.readonly { throw StoreError.schemaUpgradeNeeded(path: root.path) }
        try FileIO.withLock(root.appendingPathComponent("catalog.lock")) {
            do {
                try migrator.migrate(db)
            } catch {
                throw StoreError.catalog("migrating the catalog failed: \(error)")
            }
        }
    }

    func removeStaleTempFiles() {
        for u in staleTempFiles() { _ = unlink(u.path) }
    }

    func staleTempFiles() -> [URL] {
        var out = objects.staleTempFiles(maxAge: Self.tempFileMaxAge)
        out += manifestObjects.staleTempFiles(maxAge: Self.tempFileMaxAge)
        // Temp files of the marker (FileIO.replace) sit in the root.
        let fm = FileManager.default
        for n in (try? fm.contentsOfDirectory(atPath: root.path)) ?? [] where n.hasPrefix(ObjectDirectory.tempPrefix) {
            let u = root.appendingPathComponent(n)
            if ObjectDirectory.isStale(u, maxAge: Self.tempFileMaxAge, now: Date()) { out.append(u) }
        }
        return out
    }

    // MARK: - Catalog access

    func requireWritable() throws {
        if configuration.readonly {
            throw StoreError.notWritable(path: root.path, reason: "the registry was opened read-only")
        }
    }

    /// Runs `body` in a read transaction; database errors become `StoreError.catalog`.
    func catalogRead<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try db.read(body)
        } catch let e as StoreError {
            throw e
        } catch {
            throw mapDatabaseError(error)
        }
    }

    /// Runs `body` in an IMMEDIATE transaction: the write lock is taken up front, so
    /// read-then-write sequences (compare-and-swap, version numbers) cannot interleave with
    /// another process's, and waiting for the lock honours the busy timeout.
    ///
    /// A transaction that writes audit rows (or ref-log entries) is logged in `logs/refs`:
    /// its entries and a `prepare` record with the new audit head just before COMMIT, a
    /// `commit` record after it (see `RefLog`). With `deferCommitRecord`, the commit record is
    /// returned instead of written (a repair writes it once the new catalog is in place).
    @discardableResult
    func catalogWrite<T>(_ body: (Database) throws -> T) throws -> T {
        try catalogWrite(deferCommitRecord: false, body).result
    }

    func catalogWrite<T>(deferCommitRecord: Bool, _ body: (Database) throws -> T) throws -> (result: T, commitRecord: JSONValue?) {
        try requireWritable()
        do {
            return try db.writeWithoutTransaction { db in
                var result: T?
                var txn: String?
                pending.reset()
                defer { pending.reset() }
                do {
                    try db.inTransaction(.immediate) {
                        result = try body(db)
                        txn = try writePrepareRecord()
                        return .commit
                    }
                } catch {
                    if let txn { try? RefLog.append([RefLog.abortRecord(txn: txn)], to: refLogURL) }
                    throw error
                }
                var commit: JSONValue?
                if let txn {
                    // The change is committed: a failure to write this record is settled by the next
                    // write (its prepare names this head), so it is not reported as a failed write.
                    commit = RefLog.commitRecord(txn: txn, mark: pending.take().head)
                    if !deferCommitRecord, let c = commit { try? RefLog.append([c], to: refLogURL); commit = nil }
                }
                return (result!, commit)
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw mapDatabaseError(error)
        }
    }

    /// Appends the pending entries and the prepare record, if the transaction audited anything.
    private func writePrepareRecord() throws -> String? {
        let p = pending.take()
        guard p.head != nil || !p.entries.isEmpty else { return nil }
        let txn = RefLog.transactionID()
        try RefLog.append(p.entries.map { RefLog.line($0, txn: txn) } + [RefLog.prepareRecord(txn: txn, mark: p.head, prev: p.prev)],
                          to: refLogURL)
        return txn
    }

    func mapDatabaseError(_ error: Error) -> StoreError {
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM:
                return .notWritable(path: catalogURL.path, reason: e.message ?? "\(e.resultCode)")
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return .catalog("the catalog stayed locked by another pvec for more than \(configuration.busyTimeout) s; try again")
            default:
                return .catalog(e.message ?? "\(e)")
            }
        }
        return .catalog("\(error)")
    }
}
