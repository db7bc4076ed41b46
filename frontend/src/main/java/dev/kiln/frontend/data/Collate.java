package dev.kiln.frontend.data;

import dev.kiln.frontend.Tensor;
import dev.kiln.runtime.NDArray;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns the samples of one batch into a batch value, as PyTorch's {@code collate_fn}. The built-in collations
 * stack tensors along a new dim 0 by copying into a fresh contiguous array.
 *
 * @param <S> the sample type
 * @param <B> the batch type
 */
@FunctionalInterface
public interface Collate<S, B> {

    /** The batch made of {@code samples} (never empty). */
    B apply(List<S> samples);

    /** Stacks field {@code k} of every sample into element {@code k} of the result. */
    static Collate<Tensor[], List<Tensor>> stack() {
        return samples -> {
            int fields = samples.get(0).length;
            List<Tensor> out = new ArrayList<>(fields);
            for (int k = 0; k < fields; k++) {
                List<Tensor> column = new ArrayList<>(samples.size());
                for (int i = 0; i < samples.size(); i++) {
                    Tensor[] s = samples.get(i);
                    if (s.length != fields) {
                        throw new IllegalArgumentException("collate: sample " + i + " of the batch has " + s.length
                                + " fields but sample 0 has " + fields);
                    }
                    column.add(s[k]);
                }
                out.add(stackTensors(column, "field " + k));
            }
            return out;
        };
    }

    /** Stacks (input, target) samples into a {@link Batch}; every sample must have exactly two fields. */
    static Collate<Tensor[], Batch> pairs() {
        Collate<Tensor[], List<Tensor>> stack = stack();
        return samples -> {
            if (samples.get(0).length != 2) {
                throw new IllegalArgumentException("collate pairs: samples must be (input, target) pairs but sample 0 has "
                        + samples.get(0).length + " fields; use Collate.stack() for other arities");
            }
            List<Tensor> s = stack.apply(samples);
            return new Batch(s.get(0), s.get(1));
        };
    }

    /** A new tensor {@code [n, ...shape]} holding copies of {@code tensors}, which must agree in dtype and shape. */
    static Tensor stackTensors(List<Tensor> tensors) { return stackTensors(tensors, "tensor"); }

    private static Tensor stackTensors(List<Tensor> tensors, String what) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("stack: no tensors to stack");
        NDArray first = tensors.get(0).data();
        long[] shape = first.shape();
        for (int i = 1; i < tensors.size(); i++) {
            NDArray a = tensors.get(i).data();
            if (a.dtype() != first.dtype() || !Arrays.equals(a.shape(), shape)) {
                throw new IllegalArgumentException("collate: " + what + " of sample " + i + " is " + a.dtype() + " "
                        + Arrays.toString(a.shape()) + " but sample 0's is " + first.dtype() + " " + Arrays.toString(shape)
                        + "; samples in a batch must match (resize or crop them to one size)");
            }
        }
        long[] outShape = new long[shape.length + 1];
        outShape[0] = tensors.size();
        System.arraycopy(shape, 0, outShape, 1, shape.length);
        NDArray out = NDArray.zeros(first.dtype(), outShape);
        long bytes = first.numel() * first.dtype().byteSize();
        for (int i = 0; i < tensors.size(); i++) {
            NDArray src = tensors.get(i).data().contiguous();
            MemorySegment.copy(src.segment(), src.offset() * src.dtype().byteSize(), out.segment(), i * bytes, bytes);
        }
        return Tensor.wrap(out);
    }
}
