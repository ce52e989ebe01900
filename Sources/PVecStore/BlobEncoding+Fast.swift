import CZlib

extension BlobEncoding {
    /// The encoding `putBlob` writes: compressed (`encodeFast`) only where that pays, else
    /// the canonical bytes with the stored flag.
    ///
    /// Trained prompts and task vectors are near-random F32 mantissas: the best coder here
    /// keeps 84 % of their bytes, and inflating, un-shuffling and hashing cost several times
    /// what reading the 16 % more bytes does (a 100 × 768 prompt: ~1.2 ms to inflate and
    /// un-shuffle against ~0.05 ms to read it from the page cache). Compression is kept when
    /// it removes at least a quarter of the bytes (zeros, repeated rows, low-precision data).
    /// A cheap probe decides (level 1 over a strip of each byte plane) so that a prompt is
    /// never deflated whole only to be thrown away; a probe that promises enough is
    /// confirmed on the real stream. The id does not change either way: it hashes the
    /// canonical bytes.
    static func encodeForStore(_ raw: [UInt8]) -> [UInt8] {
        guard raw.count >= minCompressedSize, probablyCompressible(raw) else { return encodeStored(raw) }
        let compressed = encodeFast(raw)
        if compressed.count - headerSize > raw.count * keepCompressedNumerator / keepCompressedDenominator {
            return encodeStored(raw)
        }
        return compressed
    }

    /// Compression is kept when the stream is at most 3/4 of the canonical bytes.
    static let keepCompressedNumerator = 3
    static let keepCompressedDenominator = 4
    /// Below this many bytes a blob is stored as it is: the file system rounds to 4 KiB anyway.
    static let minCompressedSize = 4096
    /// Bytes taken from each byte plane (or from the whole payload when it has no float section).
    static let probeStrip = 4096

    /// Whether level-1 deflate of a sample (a strip from each byte plane, as the shuffle would
    /// lay them out) reaches the keep ratio.
    static func probablyCompressible(_ raw: [UInt8]) -> Bool {
        var sample: [UInt8] = []
        if let start = dataStart(raw) {
            let k = (raw.count - start) / 4
            let take = min(k, probeStrip)
            // Strips from the middle of each plane: the first rows of a prompt are not special.
            let from = (k - take) / 2
            sample.reserveCapacity(4 * take)
            raw.withUnsafeBufferPointer { src in
                for b in 0..<4 {
                    for i in from..<(from + take) { sample.append(src[start + 4 * i + b]) }
                }
            }
        } else {
            sample = Array(raw.prefix(4 * probeStrip))
        }
        guard !sample.isEmpty else { return false }
        let z = deflate(sample, level: 1, strategy: Z_DEFAULT_STRATEGY)
        return z.count * keepCompressedDenominator <= sample.count * keepCompressedNumerator
    }

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
