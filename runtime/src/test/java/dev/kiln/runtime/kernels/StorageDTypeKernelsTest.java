package dev.kiln.runtime.kernels;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.OpKernels;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Element access, the cast kernel and the data-movement kernels on storage-only dtypes. */
class StorageDTypeKernelsTest {

    private static NDArray cast(NDArray x, Object... attrs) {
        return OpKernels.run("cast", Builder.attrs(attrs), List.of(x));
    }

    @Test
    void elementAccessEncodesAndDecodes() {
        NDArray f8 = NDArray.zeros(DType.F8E4M3FN, 4);
        f8.setFlat(0, 0.3);      // rounds to 0.3125
        f8.setFlat(1, 1e6);      // saturates (ONNX's default) to 448
        f8.setFlat(2, Double.NaN);
        f8.setFlat(3, -0.0);
        assertEquals(0.3125, f8.getFlat(0));
        assertEquals(448.0, f8.getFlat(1));
        assertTrue(Double.isNaN(f8.getFlat(2)));
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(f8.getFlat(3)));

        NDArray i4 = NDArray.zeros(DType.I4, 3);
        i4.setLong(9, 0);        // wraps to -7
        i4.setLong(-8, 1);
        i4.setFlat(2, 7.9);      // truncates to 7
        assertArrayEquals(new long[] {-7, -8, 7}, i4.toLongArray());
        assertEquals(-7, i4.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0), "stored sign-extended, one per byte");
        NDArray u2 = NDArray.zeros(DType.U2, 2);
        u2.setLong(-1, 0);
        u2.setLong(6, 1);
        assertArrayEquals(new long[] {3, 2}, u2.toLongArray());
    }

    @Test
    void castHonoursSaturateAndRoundMode() {
        NDArray x = NDArray.of(new float[] {1000f, -1e9f, Float.POSITIVE_INFINITY, 0.25f, 3f});
        assertArrayEquals(new double[] {448, -448, 448, 0.25, 3}, cast(x, "dtype", DType.F8E4M3FN).toDoubleArray());
        double[] noSat = cast(x, "dtype", DType.F8E4M3FN, "saturate", false).toDoubleArray();
        assertTrue(Double.isNaN(noSat[0]) && Double.isNaN(noSat[1]) && Double.isNaN(noSat[2]));
        assertArrayEquals(new double[] {1024, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, 0.25, 3},
                cast(x, "dtype", DType.F8E5M2, "saturate", false).toDoubleArray());
        // f8e8m0: 3 rounds up to 4 by default, down to 2, and to 4 at nearest (ties and above go up)
        assertEquals(4.0, cast(x, "dtype", DType.F8E8M0).getFlat(4));
        assertEquals(2.0, cast(x, "dtype", DType.F8E8M0, "round_mode", "down").getFlat(4));
        assertEquals(4.0, cast(x, "dtype", DType.F8E8M0, "round_mode", "nearest").getFlat(4));
        // saturate does not apply to integers or f4e2m1 (which always saturates)
        assertArrayEquals(new double[] {6, -6, 6, 0, 3}, cast(x, "dtype", DType.F4E2M1, "saturate", false).toDoubleArray());
        assertThrows(IllegalArgumentException.class, () -> cast(x, "dtype", DType.F8E8M0, "round_mode", "sideways"));
    }

    @Test
    void integerCastsSignAndZeroExtend() {
        NDArray i8 = NDArray.zeros(DType.I8, 4);
        long[] values = {-9, -8, 7, 16};
        for (int i = 0; i < 4; i++) i8.setLong(values[i], i);
        NDArray i4 = cast(i8, "dtype", DType.I4);
        assertArrayEquals(new long[] {7, -8, 7, 0}, i4.toLongArray());
        assertArrayEquals(new long[] {7, -8, 7, 0}, cast(i4, "dtype", DType.I8).toLongArray());
        assertArrayEquals(new long[] {7, 8, 7, 0}, cast(i8, "dtype", DType.U4).toLongArray());
        assertArrayEquals(new double[] {7, -8, 7, 0}, cast(i4, "dtype", DType.F16).toDoubleArray());
    }

    /**
     * Every storage-only dtype survives a cast to f32 and back unchanged (each of its values is an f32), except
     * f8e8m0's smallest code: 2^-127 is an f32 subnormal, which ONNX's f8e8m0 rounding sends up to 2^-126.
     */
    @Property(tries = 50)
    void castThroughF32IsLossless(@ForAll @IntRange(min = 0, max = 255) int code) {
        for (DType t : DType.values()) {
            if (!t.isStorageOnly()) continue;
            NDArray x = NDArray.zeros(t, 1);
            x.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, normalised(t, code));
            NDArray back = cast(cast(x, "dtype", DType.F32), "dtype", t, "saturate", false);
            double a = x.getFlat(0), b = back.getFlat(0);
            if (t == DType.F8E8M0 && code == 0) {
                assertEquals(Math.scalb(1.0, -126), b);
                continue;
            }
            if (Double.isNaN(a)) assertTrue(Double.isNaN(b), t + " code " + code);
            else assertEquals(x.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0),
                    back.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0), t + " code " + code);
        }
    }

    /** {@code code} as the byte Kiln stores for {@code t} (low bits, sign-extended for the signed ints). */
    private static byte normalised(DType t, int code) {
        return switch (t) {
            case F4E2M1 -> (byte) (code & 0xF);
            case I4 -> (byte) (((code & 0xF) ^ 8) - 8);
            case U4 -> (byte) (code & 0xF);
            case I2 -> (byte) (((code & 3) ^ 2) - 2);
            case U2 -> (byte) (code & 3);
            default -> (byte) code;
        };
    }

    @Test
    void dataMovementKeepsTheBytes() {
        NDArray x = cast(NDArray.of(new float[] {0.5f, 1f, 1.5f, 2f, 3f, 4f}, 2, 3), "dtype", DType.F8E5M2);
        NDArray t = OpKernels.run("permute", Builder.attrs("perm", new long[] {1, 0}), List.of(x));
        NDArray r = OpKernels.run("reshape", Builder.attrs("shape", new long[] {6}), List.of(t));
        assertArrayEquals(new double[] {0.5, 2, 1, 3, 1.5, 4}, r.toDoubleArray());
        NDArray c = OpKernels.run("cat", Builder.attrs("axis", 0L), List.of(x, x));
        assertArrayEquals(new long[] {4, 3}, c.shape());
        assertEquals(4.0, c.getFlat(11));
        NDArray idx = NDArray.of(new long[] {2, 0}, 2);
        assertArrayEquals(new double[] {1.5, 0.5, 4, 2},
                OpKernels.run("index_select", Builder.attrs("axis", 1L), List.of(x, idx)).toDoubleArray());
        NDArray flipped = OpKernels.run("flip", Builder.attrs("axes", new long[] {0}), List.of(x));
        assertArrayEquals(new double[] {2, 3, 4, 0.5, 1, 1.5}, flipped.toDoubleArray());
        NDArray cond = NDArray.ofBooleans(new boolean[] {true, false, true}, 3);
        NDArray w = OpKernels.run("where", java.util.Map.of(), List.of(cond, x, flipped));
        assertEquals(DType.F8E5M2, w.dtype());
        assertArrayEquals(new double[] {0.5, 3, 1.5, 2, 1, 4}, w.toDoubleArray());
        NDArray q = cast(NDArray.of(new long[] {-3, 5, 7, -8}, 4), "dtype", DType.I4);
        assertArrayEquals(new long[] {-3, 5, 7, -8, -3, 5, 7, -8},
                OpKernels.run("repeat", Builder.attrs("repeats", new long[] {2}), List.of(q)).toLongArray());
        assertArrayEquals(new long[] {5, 7},
                OpKernels.run("slice", Builder.attrs("axis", 0L, "start", 1L, "end", 3L), List.of(q)).toLongArray());
        assertArrayEquals(q.toLongArray(), OpKernels.run("clone", java.util.Map.of(), List.of(q)).toLongArray());
    }
}
