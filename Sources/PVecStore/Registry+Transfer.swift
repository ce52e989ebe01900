import Foundation
import GRDB
import PVecTensor

/// What moves when artifacts travel: manifests with parents before children, and their blobs.
public struct TransferClosure: Hashable, Sendable {
    /// Artifact ids, every parent before its children.
    public var manifests: [ArtifactID]
    /// The blobs those artifacts use, each once, in order of first use (evaluations have none).
    public var blobs: [BlobID]

    /// Wraps lists already in order (see `Registry.closure(of:)`).
    public init(manifests: [ArtifactID], blobs: [BlobID]) {
        self.manifests = manifests
        self.blobs = blobs
    }
}

/// Objects and names arriving from elsewhere (a bundle, a pull, a push), taken in one go.
public struct IncomingBatch: Sendable {
    /// Canonical manifest bytes; their blobs must be stored (`putEncodedBlob`) or come in `blobs`.
    public var manifests: [[UInt8]]
    /// Blobs that travel with the manifests: stored bytes as a pvec registry sends them
    /// (`.encoded`, PVB1) or canonical safetensors bytes (`.canonical`, an OCI layer). Each is
    /// checked against its id before anything is written, then written in one group with the
    /// manifests (one fsync pass), before the catalog transaction names them.
    public var blobs: [IncomingBlob] = []
    /// Names to set; `expected` is compare-and-swap as in `updateRef`.
    public var refs: [(name: String, id: ArtifactID, expected: ArtifactID??)]
    /// Signatures to record; each must verify and have a printable signer, or nothing is taken.
    public var signatures: [ArtifactSignature]
    /// Keep the manifests safe from gc for this long even if no name reaches them (a push
    /// sends objects before it moves names).
    public var pinFor: TimeInterval?

    /// A batch; every part is empty (or nil) unless given.
    public init(manifests: [[UInt8]] = [], refs: [(name: String, id: ArtifactID, expected: ArtifactID??)] = [],
                signatures: [ArtifactSignature] = [], pinFor: TimeInterval? = nil, blobs: [IncomingBlob] = []) {
        self.manifests = manifests
        self.blobs = blobs
        self.refs = refs
        self.signatures = signatures
        self.pinFor = pinFor
    }
}

/// A blob arriving with an `IncomingBatch`.
public enum IncomingBlob: Sendable {
    /// The stored bytes of a blob object (PVB1 header, zlib or stored), as `encodedBlob` gives them.
    case encoded(BlobID, [UInt8])
    /// The canonical safetensors bytes (what `canonicalBlob` gives, an OCI layer).
    case canonical(BlobID, [UInt8])
    /// A blob this registry already checked and wrote under a temp name (`stageCanonicalBlob`).
    case staged(StagedBlob)

    /// The blob's id (claimed; checked before it is written).
    public var id: BlobID {
        switch self {
        case .encoded(let id, _), .canonical(let id, _): return id
        case .staged(let s): return s.id
        }
    }
}

extension Registry {
    // MARK: - Closure

    /// The artifacts to send so that `roots` arrive with their whole lineage: every ancestor,
    /// and every evaluation of an artifact in the set (with its own ancestors), parents first.
    ///
    /// - Throws: `StoreError.unknownName` for a root that is not in the catalog.
    public func closure(of roots: [ArtifactID]) throws -> TransferClosure {
        try catalogRead { db in
            var parents: [String: [String]] = [:]
            var evaluations: [String: [String]] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT child, parent, role FROM edges ORDER BY child, position") {
                parents[r["child"], default: []].append(r["parent"])
                if (r["role"] as String) == ParentRole.evaluated.rawValue { evaluations[r["parent"], default: []].append(r["child"]) }
            }
            // Evaluations have no blob: the value is nil, but the key must be there.
            var blobOf: [String: String?] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, blob FROM artifacts") { blobOf[r["id"]] = .some(r["blob"] as String?) }
            for root in roots where blobOf.index(forKey: root.hex) == nil { throw StoreError.unknownName(root.hex) }
            var order: [String] = []
            var state: [String: Bool] = [:]  // false: on the stack, true: emitted
            // Iterative post-order over parents: a node is emitted after all its parents.
            func visit(_ start: String) {
                var stack: [(String, Bool)] = [(start, false)]
                while let (node, expanded) = stack.popLast() {
                    if expanded {
                        if state[node] != true { state[node] = true; order.append(node) }
                        continue
                    }
                    if state[node] != nil { continue }
                    state[node] = false
                    stack.append((node, true))
                    for p in (parents[node] ?? []).reversed() where state[p] == nil && blobOf.index(forKey: p) != nil {
                        stack.append((p, false))
                    }
                }
            }
            var queue = roots.map(\.hex)
            while !queue.isEmpty {
                for r in queue { visit(r) }
                // Evaluations of anything in the set come along, with their lineage.
                queue = order.flatMap { evaluations[$0] ?? [] }.filter { state[$0] == nil }
            }
            var seenBlobs: Set<String> = []
            var blobs: [BlobID] = []
            for id in order {
                if let b = blobOf[id] ?? nil, seenBlobs.insert(b).inserted { blobs.append(BlobID(unchecked: b)) }
            }
            return TransferClosure(manifests: order.map { ArtifactID(unchecked: $0) }, blobs: blobs)
        }
    }

    // MARK: - Raw objects

    /// The stored bytes of a blob object (PVB1 header + zlib), as they travel; not re-verified.
    ///
    /// - Throws: `StoreError.missingObject`.
    public func encodedBlob(_ id: BlobID) throws -> [UInt8] {
        guard let bytes = try objects.read(id.hex) else { throw StoreError.missingObject(id: id.hex, what: "blob") }
        return bytes
    }

    /// The stored bytes of a blob, checked to decode and hash to its id.
    public func verifiedEncodedBlob(_ id: BlobID) throws -> [UInt8] {
        let bytes = try encodedBlob(id)
        _ = try Self.checkEncodedBlob(bytes, as: id)
        return bytes
    }

    /// Stores blob bytes received from elsewhere after checking that they decode and hash to
    /// `id`; returns whether it wrote (false: already there).
    ///
    /// - Throws: `StoreError.hashMismatch` or `.corruptObject` (nothing is written).
    @discardableResult
    public func putEncodedBlob(_ encoded: [UInt8], as id: BlobID) throws -> Bool {
        try requireWritable()
        if objects.contains(id.hex) { return false }
        _ = try Self.checkEncodedBlob(encoded, as: id)
        return try objects.write(encoded, as: id.hex)
    }

    /// Stores several blobs as a pvec registry sends them (stored bytes, PVB1), with one
    /// group write: each is decoded, hashed and checked for the canonical layout first (on
    /// every core), and if any fails nothing is written. Blobs already here are skipped.
    /// - Returns: how many were written.
    /// - Throws: `StoreError.hashMismatch` or `.corruptObject` for the first bad blob, in order.
    @discardableResult
    public func putEncodedBlobs(_ blobs: [(id: BlobID, encoded: [UInt8])]) throws -> Int {
        try requireWritable()
        let todo = blobs.filter { !objects.contains($0.id.hex) }
        let pending: [ObjectDirectory.PendingObject] = try Parallel.map(todo.count) { k in
            let (id, encoded) = todo[k]
            try Self.checkCanonicalBlob(Self.checkEncodedBlob(encoded, as: id), as: id)
            return .init(directory: objects, hex: id.hex, bytes: encoded)
        }
        return try ObjectDirectory.writeGroup(pending)
    }

    /// Decodes stored blob bytes and checks they hash to `id`; returns the canonical bytes.
    ///
    /// - Throws: `StoreError.hashMismatch`.
    public static func checkEncodedBlob(_ encoded: [UInt8], as id: BlobID) throws -> [UInt8] {
        let raw: [UInt8]
        do {
            raw = try BlobEncoding.decode(encoded)
        } catch {
            throw StoreError.hashMismatch(id: id.hex, what: "blob", actual: "undecodable (\(error.reason))")
        }
        let actual = Digest.sha256Hex(raw)
        guard actual == id.hex else { throw StoreError.hashMismatch(id: id.hex, what: "blob", actual: actual) }
        return raw
    }

    /// The canonical bytes of a manifest object, checked against its id.
    public func manifestBytes(_ id: ArtifactID) throws -> [UInt8] {
        guard let bytes = try manifestObjects.read(id.hex) else { throw StoreError.missingObject(id: id.hex, what: "manifest") }
        let actual = Digest.sha256Hex(bytes)
        guard actual == id.hex else {
            throw StoreError.corruptObject(id: id.hex, path: manifestObjects.url(for: id.hex).path, reason: "content hashes to \(actual.prefix(12))")
        }
        return bytes
    }

    /// Parses manifest bytes received from elsewhere, checking they are canonical and hash to `id`.
    ///
    /// - Throws: `StoreError.hashMismatch`, `.malformedManifest`.
    public static func incomingManifest(_ bytes: [UInt8], as id: ArtifactID? = nil) throws -> (ArtifactID, Manifest) {
        let actual = Digest.sha256Hex(bytes)
        if let id, actual != id.hex { throw StoreError.hashMismatch(id: id.hex, what: "manifest", actual: actual) }
        let m: Manifest
        do {
            m = try Manifest(json: JSONValue.parse(bytes))
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.malformedManifest("\(actual.prefix(12)): \(error.localizedDescription)")
        }
        guard m.canonicalBytes == bytes else { throw StoreError.malformedManifest("\(actual.prefix(12)) is not in canonical form") }
        if let field = TerminalText.firstUnsafeString(in: m.json) {
            throw StoreError.malformedManifest("\(actual.prefix(12)): field \(field) holds control characters; manifests from outside must be printable text")
        }
        return (ArtifactID(unchecked: actual), m)
    }

    // MARK: - Receiving

    /// Takes manifests, names and signatures from elsewhere in one transaction: either all of
    /// it becomes visible, or none (on any error nothing is indexed or named).
    ///
    /// Manifests must come parents first (or have their parents already here); their blobs
    /// must be stored. Signatures must verify. One `import` row goes to the audit log, besides
    /// the rows of each name it moves.
    /// - Returns: the ids that were new here.
    /// - Throws: `StoreError.hashMismatch`, `.malformedManifest`, `.missingObject` (blob),
    ///   `.missingParent`, `.refConflict`, `.badSignature`.
    @discardableResult
    public func receive(_ batch: IncomingBatch, source: String, command: String, actor: String? = nil) throws -> [ArtifactID] {
        try requireWritable()
        var parsed: [(ArtifactID, Manifest, [UInt8])] = []
        for bytes in batch.manifests {
            let (id, m) = try Self.incomingManifest(bytes)
            parsed.append((id, m, bytes))
        }
        for s in batch.signatures where !s.isValid { throw StoreError.badSignature(artifact: s.artifact.hex, key: s.key) }
        for s in batch.signatures { try ArtifactSignature.validateSigner(s.signer) }
        for r in batch.refs { try RefName.validate(r.name) }
        // Blobs are checked (decoded, hashed) before the write lock is taken, on every core;
        // staged ones were checked when they were staged, by this registry, and the group
        // write drops any that is stored already.
        var staged: [StagedObject] = []
        var incoming: [(id: BlobID, bytes: [UInt8], encoded: Bool)] = []
        for b in batch.blobs {
            switch b {
            case .staged(let s):
                guard s.object.directory.base.standardizedFileURL == objects.base.standardizedFileURL else {
                    throw StoreError.notWritable(path: s.object.temp.path, reason: "the blob was staged for another registry")
                }
                staged.append(s.object)
            case .encoded(let id, let bytes) where !objects.contains(id.hex): incoming.append((id, bytes, true))
            case .canonical(let id, let raw) where !objects.contains(id.hex): incoming.append((id, raw, false))
            case .encoded, .canonical: continue
            }
        }
        let checked: [ObjectDirectory.PendingObject] = try Parallel.map(incoming.count) { k in
            let (id, bytes, encoded) = incoming[k]
            if encoded {
                _ = try Self.checkEncodedBlob(bytes, as: id)
                return .init(directory: objects, hex: id.hex, bytes: bytes)
            }
            let actual = Digest.sha256Hex(bytes)
            guard actual == id.hex else { throw StoreError.hashMismatch(id: id.hex, what: "blob", actual: actual) }
            try Self.checkCanonicalBlob(bytes, as: id)
            return .init(directory: objects, hex: id.hex, bytes: BlobEncoding.encodeForStore(bytes))
        }
        let arriving = Set(checked.map(\.hex) + staged.map(\.hex))
        return try catalogWrite { db in
            var known = Set(try String.fetchAll(db, sql: "SELECT id FROM artifacts WHERE id IN (SELECT value FROM json_each(?))",
                                                arguments: [JSONValue.array(parsed.flatMap { [$0.0] + $0.1.parents.map(\.id) }
                                                    .map { .string($0.hex) }).canonicalString]))
            var fresh: [(ArtifactID, Manifest, [UInt8])] = []
            // Check everything before writing anything.
            for (id, m, bytes) in parsed where !known.contains(id.hex) {
                if let b = m.blob, !arriving.contains(b.hex), !hasBlob(b) { throw StoreError.missingObject(id: b.hex, what: "blob") }
                if let p = m.parents.first(where: { !known.contains($0.id.hex) }) {
                    throw StoreError.missingParent(child: id.hex, parent: p.id.hex)
                }
                known.insert(id.hex)
                fresh.append((id, m, bytes))
            }
            for r in batch.refs {
                guard try known.contains(r.id.hex) || (Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM artifacts WHERE id = ?)",
                                                                     arguments: [r.id.hex])) == true else {
                    throw StoreError.missingObject(id: r.id.hex, what: "artifact")
                }
                if let expected = r.expected {
                    let current = try String.fetchOne(db, sql: "SELECT id FROM refs WHERE name = ?", arguments: [r.name])
                    if current != expected?.hex {
                        throw StoreError.refConflict(name: r.name, expected: expected, actual: current.map { ArtifactID(unchecked: $0) })
                    }
                }
            }
            // Every object of the batch in one group (one fsync pass, one fsync per folder),
            // durable before the rows that name them commit.
            try ObjectDirectory.writeGroup(checked + fresh.map { .init(directory: manifestObjects, hex: $0.0.hex, bytes: $0.2) },
                                           staged: staged)
            let now = Date()
            for (id, m, bytes) in fresh {
                try Self.index(m, id: id, bytes: bytes, createdAt: now, in: db)
            }
            if let pinFor = batch.pinFor {
                for (id, m, _) in parsed {
                    for hex in [id.hex] + (m.blob.map { [$0.hex] } ?? []) {
                        try db.execute(sql: "INSERT OR REPLACE INTO pins (id, expires_at) VALUES (?, ?)",
                                       arguments: [hex, now.timeIntervalSince1970 + pinFor])
                    }
                }
            }
            if !fresh.isEmpty {
                try appendAudit(db, time: now.timeIntervalSince1970, action: "import", name: source, old: nil,
                                new: fresh.count == 1 ? fresh[0].0 : nil,
                                command: command + " [\(fresh.count) new artifact\(fresh.count == 1 ? "" : "s")]", actor: actor)
            }
            for r in batch.refs {
                try updateRef(r.name, to: r.id, expected: r.expected, command: command, actor: actor, in: db)
            }
            for s in batch.signatures {
                try addSignature(s, name: nil, command: command, actor: actor, in: db)
            }
            return fresh.map(\.0)
        }
    }

    /// Keeps objects (artifact or blob ids) from gc for `duration` seconds.
    public func pin(_ ids: [String], for duration: TimeInterval) throws {
        try catalogWrite { db in
            let until = Date().timeIntervalSince1970 + duration
            for hex in ids {
                try db.execute(sql: "INSERT OR REPLACE INTO pins (id, expires_at) VALUES (?, ?)", arguments: [hex, until])
            }
        }
    }
}

extension Registry {
    /// True when `root` holds a registry (its marker file).
    public static func exists(at root: URL) -> Bool {
        isRegistry(root.standardizedFileURL)
    }
}
