import CZlib

extension BlobEncoding {
    /// The encoding `putBlob` writes: the byte-shuffled data section, deflated with `Z_RLE`,
    /// or at level 1 when a sample shows that LZ77 matching pays.
    ///
    /// - `Z_RLE` finds the runs of the sign/exponent plane and entropy-codes the rest. On
    ///   prompt-like floats it is smaller than level 6 (83.6 % against 85.3 % of the canonical
    ///   bytes on a random-normal 100 × 768 prompt) and about 7× faster, since LZ77 matching
    ///   on near-random mantissa bytes is wasted work.
    /// - Tensors with repeated rows (or other repeats within zlib's 32 KiB window) need LZ77:
    ///   there RLE stays near 82 % where level 1 reaches a few percent. Level 1 on the first
    ///   32 KiB tells which case this is, for a fifth of the cost of a full pass.
    ///
    /// `encodeSmallest` (plain and shuffled, both at level 6) took about 10× longer per blob.
    /// Readers cannot tell the difference: header flag and zlib stream are the same format.
    /// Data without a float section falls back to `encodeSmallest`.
    static func encodeFast(_ raw: [UInt8]) -> [UInt8] {
        guard let start = dataStart(raw) else { return encodeSmallest(raw) }
        let payload = shuffled(raw, from: start)
        var best = deflate(payload, level: 6, strategy: Z_RLE)
        let probe = min(payload.count, lzProbeBytes)
        let sample = deflate(Array(payload[..<probe]), level: 1, strategy: Z_DEFAULT_STRATEGY)
        // LZ77 found repeats: compression on the sample clearly beats RLE's overall ratio.
        if Double(sample.count) / Double(probe) < 0.95 * Double(best.count) / Double(payload.count) {
            let lz = deflate(payload, level: 1, strategy: Z_DEFAULT_STRATEGY)
            if lz.count < best.count { best = lz }
        }
        var out = magic
        out.append(shuffleFlag)
        let n = UInt64(raw.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out += best
        return out
    }

    /// How much of the payload `encodeFast` deflates at level 1 to see whether LZ77 pays.
    static let lzProbeBytes = 32 * 1024

    /// A zlib stream (RFC 1950) of `bytes` with an explicit level and strategy.
    static func deflate(_ bytes: [UInt8], level: Int32, strategy: Int32) -> [UInt8] {
        var stream = z_stream()
        // deflateInit2 is a C macro; this is what it expands to.
        var rc = deflateInit2_(&stream, level, Z_DEFLATED, 15, 8, strategy, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "zlib deflateInit2 failed with \(rc)")
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(bytes.count)))
        var out = [UInt8](repeating: 0, count: bound)
        var input = bytes
        let written = input.withUnsafeMutableBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                stream.next_in = src.baseAddress
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = uInt(dst.count)
                // One call suffices: the output buffer holds deflateBound bytes.
                rc = CZlib.deflate(&stream, Z_FINISH)
                return dst.count - Int(stream.avail_out)
            }
        }
        precondition(rc == Z_STREAM_END, "zlib deflate failed with \(rc)")
        out.removeSubrange(written...)
        return out
    }
}
