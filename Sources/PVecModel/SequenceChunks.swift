import Dispatch
import PVecTensor

/// A batch's sequences cut into at most `maxCount` contiguous chunks of near-equal size, which
/// run the whole encoder (forward or backward, every layer) side by side, one core each.
///
/// BERT's sequences never meet inside the encoder, so a chunk needs nothing from another until
/// the batch is done: no barrier per matmul, and GELU, LayerNorm, softmax and the copies run
/// on every core with the sgemms. The partition depends only on B, and each chunk's sgemms
/// run on one OpenBLAS thread, so a row's bits depend on B, T and the OpenBLAS kernel, never on
/// the number of cores or on which thread took which chunk (the chunks are handed out as
/// threads free up, which evens out a core lost to other work). A batch of one sequence is one
/// chunk: its sgemms use OpenBLAS's threads and its attention heads spread over the cores.
struct SequenceChunks {
    /// At most this many chunks: 4 keeps every chunk's sgemms long (a batch of 16 × 84 rows
    /// gives 336 rows each) while two cores can still trade a chunk when one falls behind.
    static let maxCount = 4

    let batch: Int

    var count: Int { min(batch, Self.maxCount) }

    /// The sequences of chunk c: the first `batch % count` chunks hold one more.
    func sequences(_ c: Int) -> Range<Int> {
        (c * batch / count)..<((c + 1) * batch / count)
    }

    /// `body(chunk, sequences)` for every chunk; returns when all are done. Several chunks run
    /// on as many threads as libdispatch gives, with OpenBLAS single-threaded meanwhile.
    func forEach(_ body: (_ chunk: Int, _ sequences: Range<Int>) -> Void) {
        if count == 1 {
            body(0, 0..<batch)
            return
        }
        BLAS.singleThreaded {
            // The chunks write disjoint rows, and concurrentPerform returns only when every
            // chunk is done, so the body never escapes.
            withoutActuallyEscaping(body) { body in
                let work = UncheckedChunkWork(body: body)
                DispatchQueue.concurrentPerform(iterations: count) { c in
                    work.body(c, sequences(c))
                }
            }
        }
    }
}

private struct UncheckedChunkWork: @unchecked Sendable {
    let body: (_ chunk: Int, _ sequences: Range<Int>) -> Void
}
