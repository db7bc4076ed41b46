package dev.kiln.runtime.kernels;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.DType;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.Shapes;

import java.lang.foreign.MemorySegment;

/**
 * Embedding lookup ({@code weight[V, D]} rows gathered by integer indices of any shape, giving {@code [..., D]})
 * and its weight gradient (gradient rows scatter-added per index; the {@code paddingIdx} row gets none, as in
 * PyTorch). Indices are i64 or i32; an index outside {@code [0, V)} is an error naming it.
 */
public final class Embedding {
    private Embedding() {}

    /** {@code weight[indices]}: a new {@code indices.shape + [D]} tensor of weight's dtype. */
    public static NDArray embedding(NDArray weight, NDArray indices, long paddingIdx) {
        String op = "embedding";
        Checks.rank(op, "weight", weight, 2);
        long v = weight.dim(0), d = weight.dim(1);
        checkPaddingIdx(op, paddingIdx, v);
        long[] idx = indices(op, indices, v);
        long[] shape = java.util.Arrays.copyOf(indices.shape(), indices.rank() + 1);
        shape[indices.rank()] = d;
        NDArray w = weight.contiguous();
        NDArray out = NDArray.zeros(weight.dtype(), shape);
        int bytes = weight.dtype().byteSize();
        Parallel.forRange(idx.length, Math.max(1, Parallel.PARALLEL_THRESHOLD / Math.max(1, d)), (start, end) -> {
            for (long i = start; i < end; i++) {
                MemorySegment.copy(w.segment(), (w.offset() + idx[(int) i] * d) * bytes, out.segment(), i * d * bytes, d * bytes);
            }
        });
        return out;
    }

    /** {@code dweight[numWeights, D]}: row {@code indices[i]} accumulates {@code gradOut[i, :]}, except padding. */
    public static NDArray embeddingGrad(NDArray gradOut, NDArray indices, long numWeights, long paddingIdx) {
        String op = "embedding_grad";
        Checks.floating(op, gradOut);
        checkPaddingIdx(op, paddingIdx, numWeights);
        long[] idx = indices(op, indices, numWeights);
        long[] expected = java.util.Arrays.copyOf(indices.shape(), indices.rank() + 1);
        long d = gradOut.rank() == 0 ? -1 : gradOut.dim(-1);
        expected[indices.rank()] = d;
        if (!java.util.Arrays.equals(gradOut.shape(), expected)) {
            throw new KilnException(op + ": grad_out " + Shapes.str(gradOut.shape()) + " must be indices "
                    + Shapes.str(indices.shape()) + " plus one trailing dim");
        }
        DType t = gradOut.dtype();
        DType acc = t == DType.F64 ? DType.F64 : DType.F32;
        NDArray g = gradOut.to(acc).contiguous();
        NDArray dw = NDArray.zeros(acc, numWeights, d);
        MemorySegment gs = g.segment(), ds = dw.segment();
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] == paddingIdx) continue;
            long src = g.offset() + i * d, dst = idx[i] * d;
            for (long k = 0; k < d; k++) {
                if (acc == DType.F64) {
                    ds.setAtIndex(Elements.F64, dst + k, ds.getAtIndex(Elements.F64, dst + k) + gs.getAtIndex(Elements.F64, src + k));
                } else {
                    ds.setAtIndex(Elements.F32, dst + k, ds.getAtIndex(Elements.F32, dst + k) + gs.getAtIndex(Elements.F32, src + k));
                }
            }
        }
        return dw.to(t);
    }

    private static void checkPaddingIdx(String op, long paddingIdx, long v) {
        if (paddingIdx < -1 || paddingIdx >= v) {
            throw new KilnException(op + ": padding_idx must be -1 (none) or in [0, " + v + "), got " + paddingIdx);
        }
    }

    /** The indices as longs, each checked against {@code [0, v)}. */
    private static long[] indices(String op, NDArray indices, long v) {
        if (indices.dtype() != DType.I64 && indices.dtype() != DType.I32) {
            throw new KilnException(op + ": indices must be i64 or i32, got " + indices.dtype() + " of shape "
                    + Shapes.str(indices.shape()));
        }
        long[] idx = indices.toLongArray();
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= v) {
                throw new KilnException(op + ": index " + idx[i] + " (at flat position " + i + " of indices "
                        + Shapes.str(indices.shape()) + ") is out of range for " + v + " embeddings");
            }
        }
        return idx;
    }
}
