package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every bad argument is an IllegalArgumentException whose message names the op and what was passed. */
class BadInputTest {

    private static String message(org.junit.jupiter.api.function.Executable call) {
        return assertThrows(IllegalArgumentException.class, call).getMessage();
    }

    @Test
    void matmulShapeMismatchNamesBothShapes() {
        NDArray a = NDArray.zeros(DType.F32, 2, 3);
        NDArray b = NDArray.zeros(DType.F32, 4, 5);
        assertEquals("matmul: shapes [2, 3] and [4, 5] are incompatible: inner dimensions 3 and 4 differ",
                message(() -> Gemm.matmul(a, b)));
    }

    @Test
    void matmulBatchMismatchNamesBothShapes() {
        NDArray a = NDArray.zeros(DType.F32, 2, 2, 3);
        NDArray b = NDArray.zeros(DType.F32, 3, 3, 4);
        assertEquals("matmul: shapes [2, 2, 3] and [3, 3, 4] are incompatible: batch dimensions [2] and [3]"
                + " cannot be broadcast", message(() -> Gemm.matmul(a, b)));
    }

    @Test
    void matmulOfScalarIsRejected() {
        assertEquals("matmul: both operands need at least 1 dimension, got shapes [] and [3]",
                message(() -> Gemm.matmul(NDArray.full(DType.F32, 1), NDArray.zeros(DType.F32, 3))));
    }

    @Test
    void addWithIncompatibleShapesNamesOpAndBothShapes() {
        NDArray a = NDArray.zeros(DType.F32, 2, 3);
        NDArray b = NDArray.zeros(DType.F32, 4);
        assertEquals("add: shapes [2, 3] and [4] cannot be broadcast together: dimensions 3 and 4 at axis -1"
                + " differ and neither is 1", message(() -> Elementwise.add(a, b)));
    }

    @Test
    void dtypeMismatchNamesOpAndBothDtypes() {
        NDArray a = NDArray.zeros(DType.F32, 2);
        NDArray b = NDArray.zeros(DType.F64, 2);
        assertEquals("mul: dtypes f32 and f64 differ (shapes [2] and [2]); convert one operand with to(...) first",
                message(() -> Elementwise.mul(a, b)));
        assertEquals("matmul: dtypes f32 and f64 differ (shapes [2] and [2]); convert one operand with to(...) first",
                message(() -> Gemm.matmul(a, b)));
    }

    @Test
    void floatOnlyOpsRejectIntegers() {
        NDArray i = NDArray.of(new long[] {1, 2});
        assertEquals("sigmoid: expects a floating-point tensor, got i64 of shape [2]", message(() -> Elementwise.sigmoid(i)));
        assertEquals("mean: expects a floating-point tensor, got i64 of shape [2]",
                message(() -> Reductions.mean(i, null, false)));
        assertEquals("add: not defined for bool tensors (shape [1]); convert with to(...) first",
                message(() -> Elementwise.add(NDArray.ofBooleans(new boolean[] {true}),
                        NDArray.ofBooleans(new boolean[] {true}))));
    }

    @Test
    void reductionAndSoftmaxAxesAreChecked() {
        NDArray x = NDArray.zeros(DType.F32, 2, 3);
        assertEquals("sum: axis 2 is out of range for a tensor of rank 2 (expected -2 to 1)",
                message(() -> Reductions.sum(x, new int[] {2}, false)));
        assertEquals("sum: axis -1 appears twice in [1, -1]", message(() -> Reductions.sum(x, new int[] {1, -1}, false)));
        assertEquals("softmax: axis -3 is out of range for a tensor of rank 2 (expected -2 to 1)",
                message(() -> Softmax.softmax(x, -3)));
    }

    @Test
    void linearChecksFeaturesAndBias() {
        NDArray x = NDArray.zeros(DType.F32, 2, 3);
        assertEquals("linear: input [2, 3] has 3 features in its last dimension but weight [4, 5] expects 5",
                message(() -> Gemm.linear(x, NDArray.zeros(DType.F32, 4, 5), null)));
        assertEquals("linear: bias [3] must have shape [4] to match weight [4, 3]",
                message(() -> Gemm.linear(x, NDArray.zeros(DType.F32, 4, 3), NDArray.zeros(DType.F32, 3))));
    }

    @Test
    void conv2dChecksChannelsGroupsAndOutputSize() {
        NDArray x = NDArray.zeros(DType.F32, 1, 4, 5, 5);
        assertEquals("conv2d: weight expects 3 input channels per group x 1 groups = 3 channels but the input has 4"
                        + " (input [1, 4, 5, 5], weight [8, 3, 3, 3])",
                message(() -> Conv.conv2d(x, NDArray.zeros(DType.F32, 8, 3, 3, 3), null, null, null, null, 1)));
        assertEquals("conv2d: groups=3 does not divide the 4 input channels (input [1, 4, 5, 5], weight [6, 1, 3, 3])",
                message(() -> Conv.conv2d(x, NDArray.zeros(DType.F32, 6, 1, 3, 3), null, null, null, null, 3)));
        assertEquals("conv2d: groups=2 does not divide the 3 output channels (input [1, 4, 5, 5], weight [3, 2, 3, 3])",
                message(() -> Conv.conv2d(x, NDArray.zeros(DType.F32, 3, 2, 3, 3), null, null, null, null, 2)));
        assertEquals("conv2d: output size is not positive: input [1, 4, 5, 5] has height 5 after padding but weight"
                        + " [2, 4, 3, 3] spans 7 with dilation 3",
                message(() -> Conv.conv2d(x, NDArray.zeros(DType.F32, 2, 4, 3, 3), null, null, null,
                        new int[] {3}, 1)));
        assertEquals("conv2d: stride must be at least 1, got [0]",
                message(() -> Conv.conv2d(x, NDArray.zeros(DType.F32, 2, 4, 3, 3), null, new int[] {0}, null, null, 1)));
        assertEquals("conv2d: input must have rank 3 or 4, got shape [5, 5]",
                message(() -> Conv.conv2d(NDArray.zeros(DType.F32, 5, 5), NDArray.zeros(DType.F32, 2, 4, 3, 3),
                        null, null, null, null, 1)));
    }

    @Test
    void poolingChecksPaddingAndOutputSize() {
        NDArray x = NDArray.zeros(DType.F32, 1, 1, 4, 4);
        assertEquals("maxPool2d: padding [2, 2] must be at most half the kernel size [3, 3]",
                message(() -> Pool.maxPool2d(x, new int[] {3}, null, new int[] {2}, null, false)));
        assertEquals("avgPool2d: output size 0 x 0 is not positive for input [1, 1, 4, 4] with kernel [5, 5],"
                        + " stride [5, 5], padding [0, 0], dilation [1, 1]",
                message(() -> Pool.avgPool2d(x, new int[] {5}, null, null, false, true)));
    }

    @Test
    void lowLevelSgemmRejectsOutOfBoundsMatricesInsteadOfCrashing() {
        NDArray a = NDArray.zeros(DType.F32, 4, 4);
        String msg = message(() -> Gemm.sgemm(false, false, 4, 4, 5, 1f, a.segment(), 0, 5, a.segment(), 0, 4,
                0f, a.segment(), 0, 4));
        assertEquals("sgemm: A (4 x 5, ld 5, offset 0) needs 20 elements but its segment holds 16", msg);
        assertEquals("sgemm: ldb=2 is smaller than the 4 columns B stores per row",
                message(() -> Gemm.sgemm(false, false, 4, 4, 4, 1f, a.segment(), 0, 4, a.segment(), 0, 2,
                        0f, a.segment(), 0, 4)));
        java.lang.foreign.MemorySegment heap = java.lang.foreign.MemorySegment.ofArray(new float[16]);
        assertEquals("sgemm: C must be an off-heap (native) MemorySegment; heap segments cannot be handed to OpenBLAS",
                message(() -> Gemm.sgemm(false, false, 4, 4, 4, 1f, a.segment(), 0, 4, a.segment(), 0, 4,
                        0f, heap, 0, 4)));
    }
}
