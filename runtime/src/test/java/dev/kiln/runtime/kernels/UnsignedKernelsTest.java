package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import java.math.BigInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** u16, u32 and u64 kernels with values past the signed range, against {@link BigInteger} arithmetic. */
class UnsignedKernelsTest {

    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    /** A u64 tensor holding the given bits (an i64 to u64 cast keeps them). */
    private static NDArray u64(long... bits) { return NDArray.of(bits, bits.length).to(DType.U64); }

    private static BigInteger unsigned(long bits) { return new BigInteger(Long.toUnsignedString(bits)); }

    @Example
    void u64DividesComparesAndConvertsAboveTheSignedRange() {
        long big = Long.MIN_VALUE + 5;                       // 2^63 + 5
        NDArray a = u64(big, -1L, 7), b = u64(3, 2, Long.MIN_VALUE);
        assertArrayEquals(new long[] {Long.divideUnsigned(big, 3), Long.MAX_VALUE, 0}, Elementwise.div(a, b).toLongArray());
        assertEquals("3074457345618258604", Long.toUnsignedString(Elementwise.div(a, b).toLongArray()[0]));
        assertArrayEquals(new long[] {Long.remainderUnsigned(big, 3), 1, 7}, Elementwise.remainder(a, b).toLongArray());
        assertArrayEquals(new boolean[] {true, true, false}, Elementwise.gt(a, b).toBooleanArray());
        assertArrayEquals(new boolean[] {true}, Elementwise.gt(u64(Long.MIN_VALUE), u64(1)).toBooleanArray(), "2^63 > 1");
        assertArrayEquals(new long[] {big, -1L, Long.MIN_VALUE}, Elementwise.maximum(a, b).toLongArray());
        assertArrayEquals(new long[] {3, 2, 7}, Elementwise.minimum(a, b).toLongArray());
        assertEquals(0x1p64, u64(-1L).to(DType.F64).getFlat(0));
        assertEquals(0x1p63, u64(Long.MIN_VALUE).to(DType.F32).getFlat(0));
        assertArrayEquals(new long[] {Long.MIN_VALUE, -2048L}, NDArray.of(new double[] {0x1p63, 0x1p64 - 2048}, 2).to(DType.U64).toLongArray());
        assertEquals(-1L, MathReductions.amax(a, null, false).toLongArray()[0]);
        assertEquals(1L, MathReductions.argmax(a, 0, false).toLongArray()[0]);
        assertEquals(2L, MathReductions.argmin(a, 0, false).toLongArray()[0]);
        assertArrayEquals(new long[] {big, -1L, 7}, MathUnary.abs(a).toLongArray());
        assertArrayEquals(new long[] {1, 1, 1}, MathUnary.sign(a).toLongArray());
        assertArrayEquals(new long[] {Long.MIN_VALUE, Long.MIN_VALUE, 7}, MathUnary.clamp(a, 7, 0x1p63).toLongArray());
        assertThrows(IllegalArgumentException.class, () -> MathUnary.clamp(a, -1, 5));
        assertThrows(IllegalArgumentException.class, () -> Elementwise.div(a, u64(0, 1, 1)));
    }

    @Example
    void u16AndU32WrapAndCompareAsUnsigned() {
        NDArray a = NDArray.of(new long[] {65535, 0, 40000}, 3).to(DType.U16);
        NDArray b = NDArray.of(new long[] {1, 1, 30000}, 3).to(DType.U16);
        assertArrayEquals(new long[] {0, 65535, 4464}, Elementwise.add(a, Elementwise.add(b, NDArray.of(new long[] {0, 65534, 0}, 3).to(DType.U16))).toLongArray());
        assertArrayEquals(new long[] {65534, 65535, 10000}, Elementwise.sub(a, b).toLongArray());
        assertArrayEquals(new boolean[] {true, false, true}, Elementwise.gt(a, b).toBooleanArray());
        NDArray c = NDArray.of(new long[] {4294967295L, 3000000000L}, 2).to(DType.U32);
        NDArray d = NDArray.of(new long[] {2, 7}, 2).to(DType.U32);
        assertArrayEquals(new long[] {2147483647L, 428571428L}, Elementwise.div(c, d).toLongArray());
        assertArrayEquals(new long[] {4294967294L, 3820130816L}, Elementwise.mul(c, d).toLongArray());
        assertEquals(4294967295.0, c.to(DType.F64).getFlat(0));
        assertEquals(3000000000L, NDArray.of(new double[] {3e9}, 1).to(DType.U32).toLongArray()[0]);
        assertEquals(4294967295L, MathReductions.amax(c, null, false).toLongArray()[0]);
    }

    @Property(tries = 300)
    void u64ArithmeticMatchesBigIntegers(@ForAll long a, @ForAll long b) {
        NDArray x = u64(a), y = u64(b);
        BigInteger ua = unsigned(a), ub = unsigned(b);
        assertEquals(ua.add(ub).mod(TWO_64), unsigned(Elementwise.add(x, y).toLongArray()[0]));
        assertEquals(ua.subtract(ub).mod(TWO_64), unsigned(Elementwise.sub(x, y).toLongArray()[0]));
        assertEquals(ua.multiply(ub).mod(TWO_64), unsigned(Elementwise.mul(x, y).toLongArray()[0]));
        if (b != 0) {
            assertEquals(ua.divide(ub), unsigned(Elementwise.div(x, y).toLongArray()[0]));
            assertEquals(ua.mod(ub), unsigned(Elementwise.remainder(x, y).toLongArray()[0]));
        }
        int cmp = ua.compareTo(ub);
        assertEquals(cmp > 0, Elementwise.gt(x, y).toBooleanArray()[0]);
        assertEquals(cmp < 0, Elementwise.lt(x, y).toBooleanArray()[0]);
        assertEquals(cmp >= 0, Elementwise.ge(x, y).toBooleanArray()[0]);
        assertEquals(ua.max(ub), unsigned(Elementwise.maximum(x, y).toLongArray()[0]));
        assertEquals(ua.doubleValue(), x.to(DType.F64).getFlat(0));
    }
}
