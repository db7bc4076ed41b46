package dev.kiln.frontend;

import dev.kiln.ir.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Broadcasting, type promotion and view aliasing, with expectations from PyTorch's documented rules. */
class SemanticsTest {

    @Test
    void promotionFollowsPyTorch() {
        Tensor i32 = Tensor.of(new int[] {1, 2}, 2), i64 = Tensor.of(new long[] {1, 2}, 2);
        Tensor f32 = Tensor.of(new float[] {1, 2}, 2), f64 = Tensor.of(new double[] {1, 2}, 2);
        Tensor u8 = Tensor.zeros(DType.U8, 2), i8 = Tensor.zeros(DType.I8, 2), bool = Tensor.zeros(DType.BOOL, 2);
        assertEquals(DType.I64, i32.add(i64).dtype());
        assertEquals(DType.F32, i64.add(f32).dtype());
        assertEquals(DType.F64, f32.add(f64).dtype());
        assertEquals(DType.I16, u8.add(i8).dtype());                              // u8 + i8 -> i16
        assertEquals(DType.F32, Tensor.zeros(DType.F16, 2).add(Tensor.zeros(DType.BF16, 2)).dtype()); // f16 + bf16 -> f32
        assertEquals(DType.I32, bool.add(i32).dtype());
        // 0-d tensors decide only when of a higher category
        assertEquals(DType.F32, f32.add(Tensor.scalar(DType.F64, 1)).dtype());
        assertEquals(DType.F64, i32.add(Tensor.scalar(DType.F64, 1)).dtype());
        assertEquals(DType.I32, i32.add(Tensor.scalar(DType.I64, 1)).dtype());
        // Java numbers: an int keeps an int tensor's dtype, a double turns it into the default float
        assertEquals(DType.I32, i32.add(1L).dtype());
        assertEquals(DType.F32, i32.add(1.5).dtype());
        assertEquals(DType.F64, f64.mul(2.0).dtype());
        // true division and comparisons
        assertEquals(DType.F32, i32.div(i32).dtype());
        assertEquals(DType.BOOL, i32.lt(f32).dtype());
    }

    @Test
    void broadcastingAlignsTrailingDims() {
        Tensor a = Tensor.arange(0, 6, 1, DType.F32).reshape(2, 1, 3);
        Tensor b = Tensor.of(new float[] {10, 20}, 2, 1);
        Tensor c = a.add(b);
        assertArrayEquals(new long[] {2, 2, 3}, c.shape());
        assertArrayEquals(new float[] {10, 11, 12, 20, 21, 22, 13, 14, 15, 23, 24, 25}, c.toFloatArray());
    }

    @Test
    void writingThroughAViewChangesTheBase() {
        Tensor base = Tensor.zeros(2, 3);
        Tensor t = base.transpose(0, 1);                // a view
        Tensor row = base.reshape(6);                   // a view of the contiguous base
        long before = base.version();
        t.add_(1.0);
        assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1}, base.toFloatArray());
        row.mul_(5.0);
        assertArrayEquals(new float[] {5, 5, 5, 5, 5, 5}, base.toFloatArray());
        assertEquals(before + 2, base.version());        // views share the version counter
    }

    @Test
    void viewRefusesANonContiguousLayout() {
        Tensor t = Tensor.zeros(2, 3).transpose(0, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.view(6));
        assertTrue(e.getMessage().contains("not contiguous"), e.getMessage());
        assertArrayEquals(new long[] {6}, t.reshape(6).shape());   // reshape copies instead
    }

    @Test
    void inPlaceRejectsAResultTypeItCannotHold() {
        Tensor ints = Tensor.of(new int[] {1, 2}, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ints.add_(0.5));
        assertTrue(e.getMessage().contains("can't be cast"), e.getMessage());
    }
}
