package dev.kiln.runtime.kernels;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.OpKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Bad arguments to the shape and index kernels are IllegalArgumentExceptions naming the op and the problem. */
class ShapeErrorsTest {

    private static final NDArray X = NDArray.zeros(DType.F32, 2, 3);

    private static String message(Executable call) {
        return assertThrows(IllegalArgumentException.class, call).getMessage();
    }

    private static NDArray run(String op, List<NDArray> in, Object... attrs) {
        return OpKernels.run(op, Builder.attrs(attrs), in);
    }

    private static NDArray idx(long... values) { return NDArray.of(values); }

    @Test
    void gatherOutOfRangeNamesAxisIndexAndSize() {
        NDArray index = NDArray.of(new long[] {0, 1, 2, 3}, 2, 2);
        assertEquals("gather: index 3 is out of range for axis 1 with size 3 (at index position [1, 1])",
                message(() -> Gather.gather(X, 1, index)));
        assertEquals("gather: index -1 is out of range for axis 0 with size 2 (at index position [0, 1])",
                message(() -> Gather.gather(X, 0, NDArray.of(new long[] {0, -1}, 1, 2))));
    }

    @Test
    void gatherShapeAndDtypeErrors() {
        assertEquals("gather: index [2] must have the same rank as the input [2, 3]",
                message(() -> Gather.gather(X, 0, idx(0, 1))));
        assertEquals("gather: index [3, 1] is larger than the input [2, 3] in dim 0 (only axis 1 may be larger)",
                message(() -> Gather.gather(X, 1, NDArray.zeros(DType.I64, 3, 1))));
        assertEquals("gather: index must be i64, got f32 of shape [2, 3]", message(() -> Gather.gather(X, 0, X)));
        assertEquals("gather: axis 2 is out of range for rank 2", message(() -> Gather.gather(X, 2, NDArray.zeros(DType.I64, 1, 1))));
    }

    @Test
    void indexSelectErrors() {
        assertEquals("index_select: index 2 is out of range for axis 0 with size 2 (at index position [1])",
                message(() -> Gather.indexSelect(X, 0, idx(1, 2))));
        assertEquals("index_select: index must be 0-D or 1-D, got shape [1, 1]",
                message(() -> Gather.indexSelect(X, 0, NDArray.zeros(DType.I64, 1, 1))));
        assertEquals("index_select: axis -3 is out of range for rank 2", message(() -> Gather.indexSelect(X, -3, idx(0))));
        assertEquals("index_select: needs a tensor of rank >= 1, got a scalar",
                message(() -> Gather.indexSelect(NDArray.zeros(DType.F32), 0, idx(0))));
    }

    @Test
    void scatterErrors() {
        NDArray index = NDArray.of(new long[] {0, 5}, 1, 2);
        NDArray src = NDArray.zeros(DType.F32, 1, 2);
        assertEquals("scatter: index 5 is out of range for axis 1 with size 3 (at index position [0, 1])",
                message(() -> Scatter.scatter(X, 1, index, src)));
        assertEquals("scatter_add: index [1, 2] is larger than the src [1, 1] in dim 1",
                message(() -> Scatter.scatterAdd(X, 1, NDArray.zeros(DType.I64, 1, 2), NDArray.zeros(DType.F32, 1, 1))));
        assertEquals("scatter: src dtype f64 differs from x's f32 (shapes [1, 2] and [2, 3])",
                message(() -> Scatter.scatter(X, 1, NDArray.zeros(DType.I64, 1, 2), NDArray.zeros(DType.F64, 1, 2))));
        assertEquals("scatter_add: not defined for bool tensors (shape [2]); convert with to(...) first",
                message(() -> Scatter.scatterAdd(NDArray.zeros(DType.BOOL, 2), 0, idx(0), NDArray.zeros(DType.BOOL, 1))));
        assertEquals("index_add: index 2 is out of range for axis 0 with size 2 (at index position [0])",
                message(() -> Scatter.indexAdd(X, 0, idx(2), NDArray.zeros(DType.F32, 1, 3))));
        assertEquals("index_add: src [1, 2] does not match the expected [1, 3] in dim 1: sizes 3 and 2 differ",
                message(() -> Scatter.indexAdd(X, 0, idx(1), NDArray.zeros(DType.F32, 1, 2))));
        assertEquals("slice_scatter: src [2, 2] does not match the slice's shape [2, 1] in dim 1: sizes 1 and 2 differ",
                message(() -> Scatter.sliceScatter(X, NDArray.zeros(DType.F32, 2, 2), 1, 0, 3, 3)));
    }

    @Test
    void viewErrors() {
        assertEquals("slice: step must be at least 1, got 0", message(() -> run("slice", List.of(X), "axis", 0, "start", 0, "end", 2, "step", 0)));
        assertEquals("slice: axis 2 is out of range for a tensor of rank 2 (expected -2 to 1)",
                message(() -> X.slice(2, 0, 1, 1)));
        assertEquals("expand: cannot expand [2, 3] to [2, 4]: dim 1 has size 3, which is not 1 and differs from 4",
                message(() -> X.expand(2, 4)));
        assertEquals("expand: the number of sizes [3] (1) must be at least the tensor's rank 2 (shape [2, 3])",
                message(() -> X.expand(3)));
        assertEquals("expand: size -1 is not allowed in the new leading dim 0 of [-1, 2, 3]", message(() -> X.expand(-1, 2, 3)));
    }

    @Test
    void layoutErrors() {
        assertEquals("cat: needs at least one tensor", message(() -> Concat.cat(List.of(), 0)));
        assertEquals("cat: tensor [2, 4] (position 1) does not match [2, 3] in dim 1: sizes 3 and 4 differ",
                message(() -> Concat.cat(List.of(X, NDArray.zeros(DType.F32, 2, 4)), 0)));
        assertEquals("cat: tensors must share a dtype: f32 (position 0) and i64 (position 1)",
                message(() -> Concat.cat(List.of(X, NDArray.zeros(DType.I64, 2, 3)), 0)));
        assertEquals("cat: zero-dimensional tensor (at position 0) cannot be concatenated",
                message(() -> Concat.cat(List.of(NDArray.zeros(DType.F32)), 0)));
        assertEquals("pad: pads [1, 1, 1] must have an even length", message(() -> Pad.pad(X, new long[] {1, 1, 1}, 0)));
        assertEquals("pad: pads [0, 0, 0, 0, 1, 1] cover 3 dims but the input [2, 3] has rank 2",
                message(() -> Pad.pad(X, new long[] {0, 0, 0, 0, 1, 1}, 0)));
        assertEquals("pad: the input size 3 of dim 1, plus negative padding -2 and -2, would be cropped below zero",
                message(() -> Pad.pad(X, new long[] {-2, -2}, 0)));
        assertEquals("flip: axes [1, -1] name dim 1 twice", message(() -> ShapeTransforms.flip(X, new long[] {1, -1})));
        assertEquals("repeat: repeats [2] has fewer entries than the rank 2 of [2, 3]",
                message(() -> ShapeTransforms.repeat(X, new long[] {2})));
        assertEquals("repeat: repeats [2, -1] has a negative count", message(() -> ShapeTransforms.repeat(X, new long[] {2, -1})));
        assertEquals("tril: input must have at least 2 dims, got shape [3]",
                message(() -> ShapeTransforms.tril(NDArray.zeros(DType.F32, 3), 0)));
    }
}
