package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.ir.LowPrecision;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The {@code cast} op: {@link NDArray#to} (ONNX's default Cast semantics for the storage-only dtypes), unless
 * a float8 or f8e8m0 target asks for {@code saturate = false} or another f8e8m0 rounding, which
 * {@link LowPrecision#encodeFloat} applies element by element.
 */
public final class Cast {
    private Cast() {}

    /** {@code x} converted to {@code target}; {@code x} itself when the dtype already matches. */
    public static NDArray cast(NDArray x, DType target, boolean saturate, LowPrecision.RoundMode mode) {
        boolean onnxDefaults = saturate && mode == LowPrecision.RoundMode.UP;
        if (onnxDefaults || target == x.dtype() || !(target.isStorageOnly() && target.isFloatingPoint())) {
            return x.to(target);
        }
        NDArray src = x.contiguous();
        NDArray out = NDArray.zeros(target, x.shape());
        MemorySegment in = src.segment(), o = out.segment();
        DType from = src.dtype();
        long offset = src.offset(), n = src.numel();
        for (long i = 0; i < n; i++) {
            double v = Elements.getDouble(in, from, offset + i);
            o.setAtIndex(ValueLayout.JAVA_BYTE, i, LowPrecision.encodeFloat(target, v, saturate, mode));
        }
        return out;
    }
}
