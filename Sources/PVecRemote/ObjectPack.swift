import PVecStore

/// Many objects in one request or answer, so a push or pull of a thousand prompts is a few
/// requests and a few fsync passes instead of two thousand of each (as git sends packs).
///
/// Layout (`registry-schema/openapi.yaml`, "Packs"): the five bytes `PVPK` 0x01, then one record
/// per object: a kind byte (`b` blob, `m` manifest), the id as 64 lowercase hex digits, the
/// body length as a big-endian UInt32, the body (a blob as stored, PVB1; a manifest's
/// canonical JSON). Nothing else: no trailer, no padding. Decoding checks every length
/// against what is left before it copies anything, so a lying length is an error, never a
/// large allocation; the ids are only claims until the receiver re-hashes each body.
public struct ObjectPack: Sendable, Equatable {
    public enum Entry: Sendable, Equatable {
        case blob(BlobID, [UInt8])
        case manifest(ArtifactID, [UInt8])

        public var bytes: [UInt8] {
            switch self {
            case .blob(_, let b), .manifest(_, let b): return b
            }
        }
    }

    /// Why a pack was refused.
    public struct FormatError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }

    static let magic: [UInt8] = [0x50, 0x56, 0x50, 0x4B, 0x01]  // "PVPK" 1
    /// Bytes of a record besides its body: kind, id, length.
    static let recordOverhead = 1 + 64 + 4
    public static let mediaType = "application/vnd.pvec.pack.v1"

    /// Bytes `encoded()` gives for these entries.
    public var encodedCount: Int {
        entries.reduce(Self.magic.count) { $0 + Self.recordOverhead + $1.bytes.count }
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedCount)
        out += Self.magic
        for e in entries {
            let (kind, hex): (UInt8, String) = switch e {
            case .blob(let id, _): (0x62, id.hex)
            case .manifest(let id, _): (0x6D, id.hex)
            }
            out.append(kind)
            out += Array(hex.utf8)
            let n = UInt32(e.bytes.count)
            out += [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
            out += e.bytes
        }
        return out
    }

    /// Reads a pack of at most `maxEntries` records.
    ///
    /// - Throws: `FormatError` for a wrong header, an unknown kind, an id that is not 64
    ///   lowercase hex digits, a length past the end, or too many records.
    public static func decode(_ bytes: [UInt8], maxEntries: Int) throws -> ObjectPack {
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            throw FormatError(description: "not a pvec pack (it must start with PVPK and version 1)")
        }
        var entries: [Entry] = []
        var at = magic.count
        while at < bytes.count {
            guard entries.count < maxEntries else {
                throw FormatError(description: "more than \(maxEntries) objects in one pack")
            }
            guard bytes.count - at >= recordOverhead else {
                throw FormatError(description: "record \(entries.count + 1) is cut off after \(bytes.count - at) bytes")
            }
            let kind = bytes[at]
            let hex = String(decoding: bytes[(at + 1)..<(at + 65)], as: UTF8.self)
            let l = at + 65
            let length = Int(bytes[l]) << 24 | Int(bytes[l + 1]) << 16 | Int(bytes[l + 2]) << 8 | Int(bytes[l + 3])
            let start = l + 4
            guard length <= bytes.count - start else {
                throw FormatError(description: "record \(entries.count + 1) says \(length) bytes but \(bytes.count - start) are left")
            }
            let body = Array(bytes[start..<(start + length)])
            switch kind {
            case 0x62:
                guard let id = BlobID(hex) else { throw badID(entries.count + 1) }
                entries.append(.blob(id, body))
            case 0x6D:
                guard let id = ArtifactID(hex) else { throw badID(entries.count + 1) }
                entries.append(.manifest(id, body))
            default:
                throw FormatError(description: "record \(entries.count + 1) has kind byte \(kind); a pack holds only b (blob) and m (manifest)")
            }
            at = start + length
        }
        return ObjectPack(entries)
    }

    static func badID(_ record: Int) -> FormatError {
        FormatError(description: "record \(record)'s id is not 64 lowercase hex digits")
    }

    public var blobs: [(id: BlobID, encoded: [UInt8])] {
        entries.compactMap { if case .blob(let id, let b) = $0 { return (id, b) } else { return nil } }
    }

    public var manifests: [(id: ArtifactID, bytes: [UInt8])] {
        entries.compactMap { if case .manifest(let id, let b) = $0 { return (id, b) } else { return nil } }
    }
}
