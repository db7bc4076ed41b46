package dev.kiln.runtime;

import dev.kiln.ir.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NDArrayTest {

    private static NDArray arange(int n, long... shape) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = i;
        return NDArray.of(d, shape);
    }

    @Test
    void creationChecksShapeAgainstData() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NDArray.of(new float[5], 2, 3));
        assertEquals("of: shape [2, 3] needs 6 elements but the data has 5", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NDArray.zeros(DType.F32, 2, -1));
        assertArrayEquals(new long[] {4}, NDArray.of(new int[4]).shape());
        NDArray s = NDArray.full(DType.I64, 7);
        assertEquals(0, s.rank());
        assertEquals(7, s.getLong());
        assertEquals(0, NDArray.zeros(DType.F32, 3, 0).numel());
    }

    @Test
    void eachFactoryProducesItsDtype() {
        assertEquals(DType.F32, NDArray.of(new float[1]).dtype());
        assertEquals(DType.F64, NDArray.of(new double[1]).dtype());
        assertEquals(DType.I64, NDArray.of(new long[1]).dtype());
        assertEquals(DType.I32, NDArray.of(new int[1]).dtype());
        NDArray b = NDArray.ofBooleans(new boolean[] {true, false}, 2, 1);
        assertEquals(DType.BOOL, b.dtype());
        assertArrayEquals(new boolean[] {true, false}, b.toBooleanArray());
        assertArrayEquals(new double[] {2.5, 2.5}, NDArray.full(DType.F64, 2.5, 2).toDoubleArray());
    }

    @Test
    void segmentsAre64ByteAligned() {
        for (int n = 1; n < 20; n++) {
            assertEquals(0, NDArray.zeros(DType.F32, n).segment().address() % 64);
        }
    }

    @Test
    void permuteAndTransposeAreViewsWithSwappedStrides() {
        NDArray x = arange(24, 2, 3, 4);
        NDArray p = x.permute(2, 0, 1);
        assertArrayEquals(new long[] {4, 2, 3}, p.shape());
        assertArrayEquals(new long[] {1, 12, 4}, p.strides());
        assertSame(x.segment(), p.segment());
        assertFalse(p.isContiguous());
        assertEquals(x.getDouble(1, 2, 3), p.getDouble(3, 1, 2));
        NDArray t = x.transpose(-1, 0);
        assertArrayEquals(new long[] {4, 3, 2}, t.shape());
        assertEquals(x.getDouble(1, 0, 2), t.getDouble(2, 0, 1));
        x.setDouble(100, 1, 0, 2);
        assertEquals(100, t.getDouble(2, 0, 1), "views share data");
        assertThrows(IllegalArgumentException.class, () -> x.permute(0, 0, 1));
    }

    @Test
    void reshapeIsAViewWhenContiguousAndCopiesOtherwise() {
        NDArray x = arange(6, 2, 3);
        NDArray r = x.reshape(3, -1);
        assertArrayEquals(new long[] {3, 2}, r.shape());
        assertSame(x.segment(), r.segment());
        NDArray t = x.transpose(0, 1).reshape(-1);
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, t.toFloatArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.reshape(4, 2));
        assertEquals("reshape: cannot reshape [2, 3] (6 elements) into [4, 2] (8 elements)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.reshape(-1, -1));
        assertThrows(IllegalArgumentException.class, () -> x.reshape(4, -1));
    }

    @Test
    void flattenMergesARangeOfDimensions() {
        NDArray x = arange(24, 2, 3, 4);
        assertArrayEquals(new long[] {2, 12}, x.flatten(1, -1).shape());
        assertArrayEquals(new long[] {24}, x.flatten(0, 2).shape());
        assertArrayEquals(new long[] {6, 4}, x.flatten(0, 1).shape());
        assertArrayEquals(x.permute(1, 0, 2).contiguous().toFloatArray(), x.permute(1, 0, 2).flatten(0, 1).toFloatArray());
        assertArrayEquals(new long[] {1}, NDArray.full(DType.F32, 1).flatten(0, -1).shape());
    }

    @Test
    void broadcastToUsesZeroStrides() {
        NDArray x = arange(3, 3, 1);
        NDArray b = x.broadcastTo(2, 3, 4);
        assertArrayEquals(new long[] {0, 1, 0}, b.strides());
        assertEquals(2.0, b.getDouble(1, 2, 3));
        assertEquals(24, b.toFloatArray().length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.broadcastTo(4, 2));
        assertEquals("broadcastTo: cannot broadcast shape [3, 1] to [4, 2]: dimension 0 has size 3 and must be 1 or 4",
                e.getMessage());
    }

    @Test
    void contiguousAndCopy() {
        NDArray x = arange(6, 2, 3);
        assertSame(x, x.contiguous());
        NDArray t = x.transpose(0, 1);
        NDArray c = t.contiguous();
        assertTrue(c.isContiguous());
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, c.toFloatArray());
        NDArray copy = x.copy();
        copy.setDouble(42, 0, 0);
        assertEquals(0, x.getDouble(0, 0), "copy does not share data");
    }

    @Test
    void conversionsRoundAndTruncate() {
        NDArray x = NDArray.of(new float[] {1.7f, -1.7f, 65504f, 1e-8f, 3.14159265f});
        assertArrayEquals(new long[] {1, -1, 65504, 0, 3}, x.to(DType.I64).toLongArray());
        NDArray h = x.to(DType.F16);
        assertEquals(DType.F16, h.dtype());
        assertEquals(2, h.dtype().byteSize());
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(3.14159265f)), h.toFloatArray()[4]);
        assertEquals(65504f, h.toFloatArray()[2]);
        NDArray bf = x.to(DType.BF16);
        assertEquals(3.140625f, bf.toFloatArray()[4], "bf16 keeps 8 significant bits, rounded to nearest");
        assertEquals(1.703125f, bf.toFloatArray()[0]);
        assertArrayEquals(new long[] {44, 255}, NDArray.of(new long[] {300, -1}).to(DType.U8).toLongArray());
        assertArrayEquals(new boolean[] {true, true, true, true, true}, x.to(DType.BOOL).toBooleanArray());
        NDArray big = NDArray.of(new long[] {Long.MAX_VALUE});
        assertEquals(Long.MAX_VALUE, big.to(DType.I64).getLong(0));
        assertEquals(-2, NDArray.of(new long[] {Long.MAX_VALUE - 1}).to(DType.I32).getLong(0),
                "int-to-int conversion wraps exactly, without going through double");
    }

    @Test
    void bf16RoundsToNearestEven() {
        // 1 + 2^-8 lies exactly between two bf16 values (1 and 1 + 2^-7): ties go to the even one, 1.
        assertEquals(1f, Elements.bf16ToFloat(Elements.floatToBf16(1f + 0x1p-8f)));
        assertEquals(1f + 0x1p-6f, Elements.bf16ToFloat(Elements.floatToBf16(1f + 0x1p-7f + 0x1p-8f)));
        assertTrue(Float.isNaN(Elements.bf16ToFloat(Elements.floatToBf16(Float.NaN))));
    }

    @Test
    void accessorsCheckIndices() {
        NDArray x = arange(6, 2, 3);
        assertEquals(5f, x.getFloat(5));
        assertEquals(5.0, x.transpose(0, 1).getFlat(5));
        assertEquals(3.0, x.transpose(0, 1).getFlat(1));
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> x.getDouble(2, 0));
        assertEquals("index [2, 0] out of bounds for shape [2, 3]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.getDouble(1));
        assertThrows(IllegalArgumentException.class, () -> NDArray.of(new long[] {1}).getFloat(0));
        assertEquals(3, x.dim(-1));
        assertThrows(IllegalArgumentException.class, () -> x.dim(2));
    }

    @Test
    void toStringSummarises() {
        assertEquals("NDArray(f32, [2, 5], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, ...])", arange(10, 2, 5).toString());
        assertEquals("NDArray(bool, [1], [true])", NDArray.ofBooleans(new boolean[] {true}).toString());
        assertEquals("NDArray(i64, [], [3])", NDArray.full(DType.I64, 3).toString());
    }

    @Test
    void wrapRejectsViewsThatLeaveTheSegment() {
        NDArray x = arange(6, 6);
        NDArray ok = NDArray.wrap(x.segment(), DType.F32, new long[] {2, 2}, new long[] {3, 1}, 1);
        assertArrayEquals(new float[] {1, 2, 4, 5}, ok.toFloatArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NDArray.wrap(x.segment(), DType.F32, new long[] {2, 3}, new long[] {3, 1}, 1));
        assertEquals("wrap: shape [2, 3] with strides [3, 1] and offset 1 needs element 6 but the segment holds 6 f32"
                + " elements", e.getMessage());
    }
}
