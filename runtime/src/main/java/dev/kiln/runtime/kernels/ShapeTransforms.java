package dev.kiln.runtime.kernels;

import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeRules;
import dev.kiln.runtime.NDArray;

import java.lang.foreign.MemorySegment;

/** Copies that rearrange elements: flip, repeat (tiling) and the triangular masks tril and triu. */
public final class ShapeTransforms {
    private ShapeTransforms() {}

    /** A copy of {@code x} with the order of elements reversed along {@code axes} (no duplicates). */
    public static NDArray flip(NDArray x, long[] axes) {
        boolean[] flipped = ShapeRules.flipAxes("flip", x.rank(), axes);
        long[] strides = x.strides(), shape = x.shape();
        long offset = x.offset();
        for (int i = 0; i < flipped.length; i++) {
            if (!flipped[i] || shape[i] == 0) continue;
            offset += (shape[i] - 1) * strides[i];
            strides[i] = -strides[i];
        }
        NDArray out = NDArray.zeros(x.dtype(), shape);
        if (out.numel() > 0) {
            ShapeCopy.copy(x.segment(), offset, strides, out.segment(), 0, out.strides(), shape, x.dtype().byteSize());
        }
        return out;
    }

    /** {@code torch.Tensor.repeat}: {@code x} tiled {@code repeats[i]} times along each dim (extra counts lead). */
    public static NDArray repeat(NDArray x, long[] repeats) {
        long[] shape = ShapeRules.repeat("repeat", Shape.of(x.shape()), repeats).toArray();
        NDArray out = NDArray.zeros(x.dtype(), shape);
        if (out.numel() == 0) return out;
        int rank = repeats.length, lead = rank - x.rank();
        long[] inShape = x.shape(), inStrides = x.strides(), outStrides = out.strides();
        // Walk out as [r0, s0, r1, s1, ...]: the source repeats along each r with stride 0.
        long[] split = new long[2 * rank], src = new long[2 * rank], dst = new long[2 * rank];
        for (int i = 0; i < rank; i++) {
            long size = i < lead ? 1 : inShape[i - lead];
            split[2 * i] = repeats[i];
            split[2 * i + 1] = size;
            src[2 * i + 1] = i < lead ? 0 : inStrides[i - lead];
            dst[2 * i] = size * outStrides[i];
            dst[2 * i + 1] = outStrides[i];
        }
        ShapeCopy.copy(x.segment(), x.offset(), src, out.segment(), 0, dst, split, x.dtype().byteSize());
        return out;
    }

    /** Elements on and below diagonal {@code k} of the last two dims; the rest zero. */
    public static NDArray tril(NDArray x, long k) {
        return triangle("tril", x, k, true);
    }

    /** Elements on and above diagonal {@code k} of the last two dims; the rest zero. */
    public static NDArray triu(NDArray x, long k) {
        return triangle("triu", x, k, false);
    }

    private static NDArray triangle(String op, NDArray x, long k, boolean lower) {
        ShapeRules.triangular(op, Shape.of(x.shape()));
        NDArray out = ShapeCopy.contiguousCopy(x);
        long rows = x.dim(-2), cols = x.dim(-1);
        if (out.numel() == 0) return out;
        long diag = Math.clamp(k, -rows - 1, cols + 1);
        long matrices = out.numel() / (rows * cols);
        int size = x.dtype().byteSize();
        MemorySegment seg = out.segment();
        for (long m = 0; m < matrices; m++) {
            for (long i = 0; i < rows; i++) {
                // Zero columns [from, to) of row i: after i + k for tril, before i + k for triu.
                long from = lower ? Math.clamp(i + diag + 1, 0, cols) : 0;
                long to = lower ? cols : Math.clamp(i + diag, 0, cols);
                if (to > from) {
                    long rowStart = (m * rows + i) * cols;
                    seg.asSlice((rowStart + from) * size, (to - from) * size).fill((byte) 0);
                }
            }
        }
        return out;
    }
}
