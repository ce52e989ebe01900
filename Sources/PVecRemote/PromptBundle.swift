import Crypto
import Foundation
import PVecStore
import PVecTensor

/// One file carrying artifacts with their whole lineage, their blobs, signatures and names,
/// for exchange without a server.
///
/// ```
/// offset 0   8 bytes   magic "PVECBNDL"
///        8   4 bytes   format version, u32 little-endian (1)
///       12   8 bytes   length L of the index, u64 little-endian
///       20   L bytes   index: canonical JSON {"entries":[{"id","kind","length"}...],
///                      "names":[{"id","name"}...],"signatures":[{"artifact","key","signature","signer"}...]}
///            ...       entry bodies in index order: blobs as stored (PVB1 + zlib), then manifests
///                      (canonical JSON), parents before children
///      end  32 bytes   SHA-256 of everything before it
/// ```
/// Each entry is checked against its own id, so a damaged bundle names its first bad entry;
/// the trailing digest covers the index (names and signatures).
public enum PromptBundle {
    static let magic = Array("PVECBNDL".utf8)
    static let version: UInt32 = 1

    /// What `create` wrote.
    public struct Summary: Sendable {
        public var artifacts: Int
        public var blobs: Int
        public var names: [String]
        public var bytes: Int
    }

    /// Writes the named artifacts and their lineage closure to `url`.
    ///
    /// Objects are re-verified as they are read, so a corrupt local object is not passed on.
    /// - Throws: `StoreError` for unknown names or corrupt objects.
    public static func create(from registry: Registry, names: [String], to url: URL) throws -> Summary {
        var named: [(name: String, id: ArtifactID)] = []
        for n in names { named.append((n, try registry.resolve(n))) }
        let closure = try registry.closure(of: named.map(\.id))
        var entries: [JSONValue] = []
        var bodies: [[UInt8]] = []
        for b in closure.blobs {
            let bytes = try registry.verifiedEncodedBlob(b)
            entries.append(["kind": "blob", "id": .string(b.hex), "length": .int(Int64(bytes.count))])
            bodies.append(bytes)
        }
        var signatures: [JSONValue] = []
        for m in closure.manifests {
            let bytes = try registry.manifestBytes(m)
            entries.append(["kind": "manifest", "id": .string(m.hex), "length": .int(Int64(bytes.count))])
            bodies.append(bytes)
            for s in try registry.signatures(of: m) { signatures.append(signatureJSON(s)) }
        }
        // A name given as name@N or an id prefix travels under its plain name part.
        let nameList: [JSONValue] = named.map { n in
            let plain = n.name.split(separator: "@").first.map(String.init) ?? n.name
            return ["name": .string(plain), "id": .string(n.id.hex)]
        }
        let index: JSONValue = ["entries": .array(entries), "names": .array(nameList), "signatures": .array(signatures)]
        let indexBytes = index.canonicalBytes
        var out: [UInt8] = magic
        out += withUnsafeBytes(of: version.littleEndian, Array.init)
        out += withUnsafeBytes(of: UInt64(indexBytes.count).littleEndian, Array.init)
        out += indexBytes
        for b in bodies { out += b }
        out += Array(SHA256.hash(data: out))
        try Data(out).write(to: url, options: .atomic)
        return Summary(artifacts: closure.manifests.count, blobs: closure.blobs.count, names: named.map(\.name), bytes: out.count)
    }

    static func signatureJSON(_ s: ArtifactSignature) -> JSONValue {
        var o: [String: JSONValue] = ["artifact": .string(s.artifact.hex), "key": .string(s.key), "signature": .string(s.signature)]
        if let signer = s.signer { o["signer"] = .string(signer) }
        return .object(o)
    }

    /// A bundle read and checked, entry by entry, before anything is stored.
    public struct Contents: Sendable {
        public var blobs: [(id: BlobID, bytes: [UInt8])]
        public var manifests: [(id: ArtifactID, bytes: [UInt8])]
        public var names: [(name: String, id: ArtifactID)]
        public var signatures: [ArtifactSignature]
    }

    /// Reads a bundle and checks every entry against its id, every signature, and the digest.
    ///
    /// - Throws: `RemoteError.badBundle` naming the first bad entry.
    public static func read(_ url: URL) throws -> Contents {
        let path = url.path
        func bad(_ why: String) -> RemoteError { .badBundle(path: path, entry: why) }
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & S_IFMT != S_IFREG { throw bad("not a regular file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw bad("the file cannot be read") }
        return try parse([UInt8](data), path: path)
    }

    /// Checks bundle bytes as `read(_:)` does; `path` only labels the errors.
    static func parse(_ bytes: [UInt8], path: String) throws -> Contents {
        func bad(_ why: String) -> RemoteError { .badBundle(path: path, entry: why) }
        guard bytes.count >= 20 + 32, Array(bytes[0..<8]) == magic else { throw bad("not a pvec bundle (no PVECBNDL header)") }
        let ver = bytes[8..<12].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        guard ver == version else { throw bad("bundle format \(ver) is not supported (this pvec reads \(version)); upgrade pvec") }
        let indexLength = bytes[12..<20].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        let body = bytes.count - 32
        guard indexLength <= UInt64(body - 20) else { throw bad("truncated: the index runs past the end of the file") }
        var offset = 20 + Int(indexLength)
        guard let index = try? JSONValue.parse(bytes[20..<offset]), let entries = index["entries"]?.arrayValue,
              let names = index["names"]?.arrayValue, let sigs = index["signatures"]?.arrayValue else {
            throw bad("the index is damaged (not the JSON a bundle holds)")
        }
        var contents = Contents(blobs: [], manifests: [], names: [], signatures: [])
        for (i, e) in entries.enumerated() {
            guard let kind = e["kind"]?.stringValue, let idText = e["id"]?.stringValue, let length = e["length"]?.intValue,
                  length >= 0 else { throw bad("index entry \(i + 1) is damaged") }
            let label = "entry \(i + 1) (\(printable(kind, 12)) \(printable(idText, 12)))"
            guard Int64(body - offset) >= length else {
                throw bad("truncated at \(label): it needs \(length) bytes, \(max(0, body - offset)) are left")
            }
            let chunk = Array(bytes[offset..<(offset + Int(length))])
            offset += Int(length)
            switch kind {
            case "blob":
                guard let id = BlobID(idText) else { throw bad("\(label) has no valid id") }
                let raw: [UInt8]
                do {
                    raw = try Registry.checkEncodedBlob(chunk, as: id)
                } catch {
                    throw bad("\(label) does not hash to its id")
                }
                if let problem = Registry.canonicalBlobProblem(raw) { throw bad("\(label) is not a canonical pvec blob: \(problem)") }
                contents.blobs.append((id, chunk))
            case "manifest":
                guard let id = ArtifactID(idText) else { throw bad("\(label) has no valid id") }
                do {
                    _ = try Registry.incomingManifest(chunk, as: id)
                } catch {
                    throw bad("\(label) does not hash to its id or is not a valid manifest")
                }
                contents.manifests.append((id, chunk))
            default:
                throw bad("\(label) has an unknown kind")
            }
        }
        guard offset == body else { throw bad("\(body - offset) unexpected bytes after the last entry") }
        guard Array(SHA256.hash(data: bytes[0..<body])) == Array(bytes[body...]) else {
            throw bad("the digest at the end does not match: the index (names or signatures) was altered")
        }
        for n in names {
            guard let name = n["name"]?.stringValue, let id = n["id"]?.stringValue.flatMap(ArtifactID.init) else {
                throw bad("a name in the index is damaged")
            }
            contents.names.append((name, id))
        }
        for s in sigs {
            guard let a = s["artifact"]?.stringValue.flatMap(ArtifactID.init), let key = s["key"]?.stringValue,
                  let sig = s["signature"]?.stringValue else { throw bad("a signature in the index is damaged") }
            let signature = ArtifactSignature(artifact: a, key: key, signature: sig, signer: s["signer"]?.stringValue)
            guard signature.isValid else { throw bad("the signature by \(printable(key, 24))… on \(a.short) does not verify") }
            contents.signatures.append(signature)
        }
        return contents
    }

    /// Untrusted text from a bundle cut to `limit` characters, anything but printable ASCII
    /// shown as `?`, so an error message cannot carry terminal escapes or newlines.
    static func printable(_ text: String, _ limit: Int) -> String {
        String(text.unicodeScalars.prefix(limit).map { (0x20..<0x7F).contains($0.value) ? Character($0) : "?" })
    }

    /// What `importBundle` did.
    public struct ImportSummary: Sendable {
        public var newArtifacts: Int
        public var blobsWritten: Int
        public var blobsPresent: Int
        public var names: [(name: String, id: ArtifactID)]
        public var signatures: Int
    }

    /// Checks a whole bundle, then imports it: blobs first (invisible until named), then
    /// manifests, names and signatures in one catalog transaction.
    ///
    /// - Parameters:
    ///   - prefix: put before every name (`team-a/`).
    ///   - force: move names that already point elsewhere here.
    /// - Throws: `RemoteError.badBundle`, `.nameTaken`; nothing is imported then.
    public static func importBundle(_ url: URL, into registry: Registry, prefix: String = "", force: Bool = false,
                                    command: String) throws -> ImportSummary {
        let c = try read(url)
        var refs: [(name: String, id: ArtifactID, expected: ArtifactID??)] = []
        let current = Dictionary(try registry.refs().map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
        for n in c.names {
            let name = prefix + n.name
            try RefName.validate(name)
            let here = current[name]
            if let here, here != n.id, !force { throw RemoteError.nameTaken(name: name, here: here.hex, incoming: n.id.hex) }
            refs.append((name, n.id, .some(here)))
        }
        var written = 0
        for b in c.blobs where try registry.putEncodedBlob(b.bytes, as: b.id) { written += 1 }
        // Blobs stay invisible until a manifest is indexed; each manifest must agree with its blob first.
        for m in c.manifests where !registry.hasArtifact(m.id) {
            do {
                try registry.checkManifestAgainstBlob(Registry.incomingManifest(m.bytes, as: m.id).1, id: m.id)
            } catch {
                throw RemoteError.badBundle(path: url.path, entry: "manifest \(m.id.short): \(error.localizedDescription)")
            }
        }
        let fresh = try registry.receive(IncomingBatch(manifests: c.manifests.map(\.bytes), refs: refs, signatures: c.signatures),
                                         source: "bundle:" + url.lastPathComponent, command: command)
        return ImportSummary(newArtifacts: fresh.count, blobsWritten: written, blobsPresent: c.blobs.count - written,
                             names: refs.map { ($0.name, $0.id) }, signatures: c.signatures.count)
    }
}
