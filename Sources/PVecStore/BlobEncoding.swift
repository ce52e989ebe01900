import CZlib
import Foundation

/// The on-disk encoding of a blob object: a 13-byte header, then a zlib stream or, when
/// compression does not pay, the canonical bytes themselves.
///
/// ```
/// offset 0  "PVB1"          magic
/// offset 4  flags (u8)      bit 0: byte-shuffled data section (zlib only)
///                           bit 1: stored: the canonical bytes follow uncompressed
///                           other bits, and bits 0 and 1 together, are refused
/// offset 5  length (u64 LE) size of the canonical safetensors bytes
/// offset 13 zlib stream     (RFC 1950), or the canonical bytes when stored
/// ```
///
/// Shuffling transposes the float data section (everything after the safetensors header)
/// into four planes: byte 0 of every float, then byte 1, and so on. The sign/exponent plane
/// of trained prompts is highly repetitive, which deflate only sees once the planes are apart.
/// The blob id is always the SHA-256 of the canonical (unshuffled, uncompressed) bytes.
enum BlobEncoding {
    static let magic: [UInt8] = Array("PVB1".utf8)
    static let headerSize = 13
    static let shuffleFlag: UInt8 = 1
    /// The payload is the canonical bytes, uncompressed: exactly `length` of them.
    static let storedFlag: UInt8 = 2
    /// The largest canonical blob pvec accepts (1 GiB, 268 M float32 values): far above any
    /// soft prompt or attention module, far below what would take a machine down.
    static let maxRawSize: UInt64 = 1 << 30
    /// Deflate cannot expand data by more than about 1032:1 (258-byte matches coded in 2 bits),
    /// so a header announcing more than this multiple of the stream's size is lying.
    static let maxInflateRatio: UInt64 = 1032
    /// zlib's default: level 9 saved under 0.1 % on prompts and took 40 % longer.
    static let level: Int32 = 6

    /// Encodes canonical safetensors bytes, shuffled or not.
    static func encode(_ raw: [UInt8], shuffle: Bool) -> [UInt8] {
        var payload = raw
        var flags: UInt8 = 0
        if shuffle, let start = dataStart(raw) {
            payload = shuffled(raw, from: start)
            flags |= shuffleFlag
        }
        var out = magic
        out.append(flags)
        let n = UInt64(raw.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out += deflate(payload)
        return out
    }

    /// Encodes with whichever of plain and shuffled deflate is smaller.
    static func encodeSmallest(_ raw: [UInt8]) -> [UInt8] {
        let plain = encode(raw, shuffle: false)
        guard dataStart(raw) != nil else { return plain }
        let shuffled = encode(raw, shuffle: true)
        return shuffled.count < plain.count ? shuffled : plain
    }

    /// The canonical bytes behind a 13-byte header with the stored flag (no zlib).
    static func encodeStored(_ raw: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(headerSize + raw.count)
        out += magic
        out.append(storedFlag)
        let n = UInt64(raw.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out += raw
        return out
    }

    /// Whether an encoded object uses the shuffle (nil if the header is not a blob header).
    static func isShuffled(_ encoded: [UInt8]) -> Bool? {
        guard encoded.count >= headerSize, Array(encoded[0..<4]) == magic else { return nil }
        return encoded[4] & shuffleFlag != 0
    }

    /// Whether an encoded object is stored uncompressed (nil if the header is not a blob header).
    static func isStored(_ encoded: [UInt8]) -> Bool? {
        guard encoded.count >= headerSize, Array(encoded[0..<4]) == magic else { return nil }
        return encoded[4] & storedFlag != 0
    }

    /// A checked header: its flags and the announced canonical length.
    struct Header {
        var flags: UInt8
        var length: Int
        var isStored: Bool { flags & BlobEncoding.storedFlag != 0 }
        var isShuffled: Bool { flags & BlobEncoding.shuffleFlag != 0 }
    }

    /// Checks the header of an object of `total` bytes whose first bytes are `head`: magic,
    /// flags, the length against the blob limit and against what the payload can hold.
    static func header(_ head: UnsafeRawBufferPointer, total: Int) throws(BlobDecodingError) -> Header {
        guard total >= headerSize, head.count >= headerSize else { throw .init("shorter than the 13-byte header") }
        guard head[0] == magic[0], head[1] == magic[1], head[2] == magic[2], head[3] == magic[3] else {
            throw .init("bad magic, not a PVB1 blob")
        }
        let flags = head[4]
        guard flags & ~(shuffleFlag | storedFlag) == 0 else { throw .init("unknown flags \(flags)") }
        guard flags != shuffleFlag | storedFlag else { throw .init("flags \(flags) say both stored and shuffled; only a zlib stream is shuffled") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(head[5 + i]) << (8 * UInt64(i)) }
        guard n <= maxRawSize else {
            throw .init("header announces \(n) bytes, more than the \(maxRawSize >> 20) MiB limit on a blob")
        }
        let payload = UInt64(total - headerSize)
        if flags & storedFlag != 0 {
            guard n == payload else {
                throw .init("stored (uncompressed) blob holds \(payload) bytes after its header, header says \(n)")
            }
        } else {
            guard n <= payload.saturatingMultiply(maxInflateRatio) + 64 else {
                throw .init("header announces \(n) bytes from a \(payload)-byte zlib stream, more than deflate can expand")
            }
        }
        return Header(flags: flags, length: Int(n))
    }

    /// Decodes an object back to the canonical bytes; the error string says what is wrong.
    static func decode(_ encoded: [UInt8]) throws(BlobDecodingError) -> [UInt8] {
        let checked: Result<Header, BlobDecodingError> = encoded.withUnsafeBytes { b in
            Result { () throws(BlobDecodingError) in try header(b, total: b.count) }
        }
        let h = try checked.get()
        if h.isStored { return Array(encoded[headerSize...]) }
        var raw = try inflate(encoded[headerSize...], expected: h.length)
        if h.isShuffled {
            guard let start = dataStart(raw) else { throw .init("shuffled data section has a bad layout") }
            raw = unshuffled(raw, from: start)
        }
        return raw
    }

    // MARK: - Shuffle

    /// Where the safetensors data section starts, if it is a whole number of 4-byte floats.
    static func dataStart(_ raw: [UInt8]) -> Int? {
        guard raw.count >= 8 else { return nil }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(raw[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(raw.count - 8) else { return nil }
        let start = 8 + Int(n)
        guard (raw.count - start) % 4 == 0, raw.count > start else { return nil }
        return start
    }

    static func shuffled(_ raw: [UInt8], from start: Int) -> [UInt8] {
        var out = raw
        let k = (raw.count - start) / 4
        raw.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<k {
                    for b in 0..<4 { dst[start + b * k + i] = src[start + 4 * i + b] }
                }
            }
        }
        return out
    }

    static func unshuffled(_ raw: [UInt8], from start: Int) -> [UInt8] {
        var out = raw
        let k = (raw.count - start) / 4
        raw.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<k {
                    for b in 0..<4 { dst[start + 4 * i + b] = src[start + b * k + i] }
                }
            }
        }
        return out
    }

    // MARK: - zlib

    static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        var bound = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(bound))
        let rc = out.withUnsafeMutableBufferPointer { dst in
            bytes.withUnsafeBufferPointer { src in
                compress2(dst.baseAddress, &bound, src.baseAddress, uLong(src.count), level)
            }
        }
        // compress2 only fails on bad arguments or out of memory, both programming errors here.
        precondition(rc == Z_OK, "zlib compress2 failed with \(rc)")
        out.removeSubrange(Int(bound)...)
        return out
    }

    /// Inflates a zlib stream that must produce exactly `expected` bytes and end with the input.
    static func inflate(_ bytes: ArraySlice<UInt8>, expected: Int) throws(BlobDecodingError) -> [UInt8] {
        var failure: BlobDecodingError?
        // Uninitialised: only the pages inflate really writes are touched, so a hostile
        // header costs address space, not memory (it is bounded by `maxRawSize` and the ratio).
        let out = [UInt8](unsafeUninitializedCapacity: expected) { buf, count in
            bytes.withUnsafeBytes { src in
                do throws(BlobDecodingError) {
                    try inflate(src, into: UnsafeMutableRawBufferPointer(buf))
                } catch {
                    failure = error
                }
            }
            count = failure == nil ? expected : 0
        }
        if let failure { throw failure }
        return out
    }

    /// Inflates a whole zlib stream straight into `dst`, which it must fill exactly, with
    /// no bytes left over: one pass, no intermediate buffer.
    static func inflate(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws(BlobDecodingError) {
        guard src.count <= Int(UInt32.max), dst.count <= Int(UInt32.max) else { throw .init("zlib stream too large") }
        var stream = z_stream()
        // inflateInit_ is what the inflateInit macro expands to.
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .init("zlib could not start inflating (out of memory)")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = uInt(src.count)
        stream.next_out = dst.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = uInt(dst.count)
        var rc = CZlib.inflate(&stream, Z_FINISH)
        var produced = dst.count - Int(stream.avail_out)
        if rc != Z_STREAM_END && rc != Z_DATA_ERROR && stream.avail_out == 0 {
            // The buffer is full: one more byte tells a longer stream from one that only has
            // its trailer left (or is cut short).
            var extra: UInt8 = 0
            rc = withUnsafeMutablePointer(to: &extra) { p in
                stream.next_out = p
                stream.avail_out = 1
                return CZlib.inflate(&stream, Z_FINISH)
            }
            if stream.avail_out == 0 { throw .init("data is longer than its header says (\(dst.count) bytes)") }
            produced = dst.count
        }
        switch rc {
        case Z_STREAM_END:
            guard produced == dst.count else { throw .init("inflated to \(produced) bytes, header says \(dst.count)") }
            guard stream.avail_in == 0 else { throw .init("\(stream.avail_in) stray bytes after the zlib stream") }
        case Z_DATA_ERROR:
            throw .init("deflate data is damaged")
        case Z_BUF_ERROR:
            throw .init("the zlib stream is cut short")
        default:
            throw .init("zlib error \(rc)")
        }
    }
}

extension UInt64 {
    /// `self * k`, or `UInt64.max` where that overflows.
    func saturatingMultiply(_ k: UInt64) -> UInt64 {
        let (v, o) = multipliedReportingOverflow(by: k)
        return o ? .max : v
    }
}

/// Why a blob object could not be decoded (wrapped into `StoreError.corruptObject`).
struct BlobDecodingError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
