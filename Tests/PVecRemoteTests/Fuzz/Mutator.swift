import PVecTensor

/// A small deterministic byte mutator for seeded fuzzing inside `swift test`.
///
/// Each call applies one (half the time) to four of: bit flips, bytes set to boundary values (0, 0xFF, 0x7F, 0x80),
/// 8-byte little-endian boundary integers (2^31, 2^32, 2^36, 2^63, UInt64.max …) written at
/// a random offset, truncation, extension with garbage, splicing with another corpus entry,
/// and duplicating a chunk. The same seed gives the same sequence of inputs on any machine,
/// so a failure report's seed and iteration reproduce it.
///
/// ```swift
/// var m = Mutator(seed: 7, corpus: seeds)
/// let input = m.next()          // a mutated copy of a random seed
/// ```
struct Mutator {
    static let interestingBytes: [UInt8] = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0x20, 0x22, 0x5B, 0x7B, 0x30]
    static let interestingIntegers: [UInt64] = [
        0, 1, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x1_0000,
        1 << 31, (1 << 31) - 1, 1 << 32, (1 << 32) - 1, 1 << 36, 1 << 40, 1 << 62, 1 << 63, (1 << 63) - 1, .max,
    ]
    /// The largest input produced (keeps iterations cheap).
    static let maxLength = 64 << 10

    var rng: SplitMix64
    let corpus: [[UInt8]]
    init(seed: UInt64, corpus: [[UInt8]]) {
        precondition(!corpus.isEmpty, "a fuzz corpus needs at least one entry")
        rng = SplitMix64(seed: seed)
        self.corpus = corpus
    }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(rng.nextBelow(UInt64(n))) }

    /// A mutated copy of a random corpus entry.
    mutating func next() -> [UInt8] {
        var bytes = corpus[below(corpus.count)]
        // Mostly one mutation, so that many inputs get past the first checks.
        let rounds = below(2) == 0 ? 1 : 2 + below(3)
        for _ in 0..<rounds { mutate(&bytes) }
        if bytes.count > Self.maxLength { bytes.removeSubrange(Self.maxLength...) }
        return bytes
    }

    /// A random offset with `width` bytes after it (nil if the input is shorter).
    mutating func offset(in bytes: [UInt8], width: Int = 1) -> Int? {
        guard bytes.count >= width else { return nil }
        return below(bytes.count - width + 1)
    }

    mutating func mutate(_ bytes: inout [UInt8]) {
        switch below(9) {
        case 0, 1:
            // Bit flip.
            if let o = offset(in: bytes) { bytes[o] ^= 1 << UInt8(below(8)) }
        case 2:
            if let o = offset(in: bytes) { bytes[o] = Self.interestingBytes[below(Self.interestingBytes.count)] }
        case 3:
            // An 8-byte little-endian boundary integer, sometimes as a 4-byte one.
            let v = Self.interestingIntegers[below(Self.interestingIntegers.count)]
            let width = below(3) == 0 ? 4 : 8
            if let o = offset(in: bytes, width: width) {
                for k in 0..<width { bytes[o + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
            }
        case 4:
            // ASCII digits: a decimal boundary integer where JSON or a Python literal has a number.
            let v = Self.interestingIntegers[below(Self.interestingIntegers.count)]
            let text = Array(String(v).utf8)
            if let o = offset(in: bytes) {
                bytes.replaceSubrange(o..<min(bytes.count, o + below(4) + 1), with: text)
            }
        case 5:
            // Truncation.
            if !bytes.isEmpty { bytes.removeSubrange(below(bytes.count)...) }
        case 6:
            // Extension with garbage.
            let n = 1 + below(64)
            for _ in 0..<n { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
        case 7:
            // Splice: our head, another entry's tail.
            let other = corpus[below(corpus.count)]
            guard !other.isEmpty else { return }
            let cut = below(bytes.count + 1)
            let from = below(other.count)
            bytes = Array(bytes[..<cut]) + other[from...]
        default:
            // Duplicate a chunk in place.
            guard !bytes.isEmpty, let o = offset(in: bytes) else { return }
            let n = 1 + below(min(256, bytes.count - o))
            bytes.insert(contentsOf: bytes[o..<(o + n)], at: o + n)
        }
    }
}
