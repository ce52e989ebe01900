import CZlib
import Foundation

/// The on-disk encoding of a blob object: a 13-byte header, then a zlib stream.
///
/// ```
/// offset 0  "PVB1"          magic
/// offset 4  flags (u8)      bit 0: byte-shuffled data section; other bits must be 0
/// offset 5  length (u64 LE) size of the canonical safetensors bytes once inflated
/// offset 13 zlib stream     (RFC 1950, deflate level 6)
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
    /// The largest canonical blob pvec accepts (1 GiB, 268 M float32 values): far above any
    /// soft prompt or attention module, far below what would take a machine down.
    static let maxRawSize: UInt64 = 1 << 30
    /// Deflate cannot expand data by more than about 1032:1 (258-byte matches coded in 2 bits),
    /// so a header announcing more than this multiple of the stream's size is lying.
    static let maxInflateRatio: UInt64 = 1032
    /// Inflated output grows in steps of at most this many bytes, so memory follows the data
    /// actually present, never the header's claim alone.
    static let inflateChunk = 1 << 20
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

    /// Whether an encoded object uses the shuffle (nil if the header is not a blob header).
    static func isShuffled(_ encoded: [UInt8]) -> Bool? {
        guard encoded.count >= headerSize, Array(encoded[0..<4]) == magic else { return nil }
        return encoded[4] & shuffleFlag != 0
    }

    /// Decodes an object back to the canonical bytes; the error string says what is wrong.
    static func decode(_ encoded: [UInt8]) throws(BlobDecodingError) -> [UInt8] {
        guard encoded.count >= headerSize else { throw .init("shorter than the 13-byte header") }
        guard Array(encoded[0..<4]) == magic else { throw .init("bad magic, not a PVB1 blob") }
        let flags = encoded[4]
        guard flags & ~shuffleFlag == 0 else { throw .init("unknown flags \(flags)") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(encoded[5 + i]) << (8 * UInt64(i)) }
        guard n <= maxRawSize else {
            throw .init("header announces \(n) bytes, more than the \(maxRawSize >> 20) MiB limit on a blob")
        }
        let stream = UInt64(encoded.count - headerSize)
        guard n <= stream.saturatingMultiply(maxInflateRatio) + 64 else {
            throw .init("header announces \(n) bytes from a \(stream)-byte zlib stream, more than deflate can expand")
        }
        var raw = try inflate(encoded[headerSize...], expected: Int(n))
        if flags & shuffleFlag != 0 {
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
    ///
    /// Output is grown as zlib produces it (at most `inflateChunk` ahead of the data), so a
    /// damaged or hostile stream costs memory in proportion to what it really inflates to.
    static func inflate(_ bytes: ArraySlice<UInt8>, expected: Int) throws(BlobDecodingError) -> [UInt8] {
        var stream = z_stream()
        // inflateInit_ is what the inflateInit macro expands to.
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .init("zlib could not start inflating (out of memory)")
        }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        out.reserveCapacity(min(expected, inflateChunk))
        var chunk = [UInt8](repeating: 0, count: min(max(expected, 1), inflateChunk) + 1)
        var rc: Int32 = Z_OK
        var consumed = 0
        var failure: String? = nil
        bytes.withUnsafeBufferPointer { src in
            stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
            stream.avail_in = uInt(src.count)
            while rc == Z_OK {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { dst in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = uInt(dst.count)
                    rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return dst.count - Int(stream.avail_out)
                }
                if out.count + produced > expected {
                    failure = "data is longer than its header says (\(expected) bytes)"
                    return
                }
                out.append(contentsOf: chunk[0..<produced])
                if rc == Z_BUF_ERROR && stream.avail_in == 0 { break }
            }
            consumed = src.count - Int(stream.avail_in)
        }
        if let failure { throw .init(failure) }
        guard rc == Z_STREAM_END else {
            let what = rc == Z_DATA_ERROR ? "deflate data is damaged"
                : rc == Z_BUF_ERROR ? "the zlib stream is cut short" : "zlib error \(rc)"
            throw .init(what)
        }
        guard out.count == expected else { throw .init("inflated to \(out.count) bytes, header says \(expected)") }
        guard consumed == bytes.count else { throw .init("\(bytes.count - consumed) stray bytes after the zlib stream") }
        return out
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
