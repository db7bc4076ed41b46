package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ElementwisePropertyTest {

    /**
     * Derives an operand shape from a common broadcast shape: keeps the last {@code rank - drop} dimensions
     * and replaces those flagged in {@code ones} by 1.
     */
    private static long[] operandShape(List<Integer> dims, List<Boolean> ones, int drop) {
        int keep = Math.max(0, dims.size() - drop);
        long[] s = new long[keep];
        for (int i = 0; i < keep; i++) {
            int d = dims.size() - keep + i;
            s[i] = ones.get(d) ? 1 : dims.get(d);
        }
        return s;
    }

    @Property(tries = 150)
    void broadcastAddAndMulMatchNaive(@ForAll @Size(max = 4) List<@IntRange(min = 1, max = 5) Integer> dims,
                                      @ForAll @Size(4) List<Boolean> onesA, @ForAll @Size(4) List<Boolean> onesB,
                                      @ForAll @IntRange(max = 4) int dropA, @ForAll @IntRange(max = 4) int dropB,
                                      @ForAll long seed) {
        Random r = new Random(seed);
        NDArray a = Tensors.randomF32(r, operandShape(dims, onesA, dropA));
        NDArray b = Tensors.randomF32(r, operandShape(dims, onesB, dropB));
        NDArray sum = Elementwise.add(a, b);
        NDArray product = Elementwise.mul(a, b);
        long[] expectedShape = Naive.broadcastShape(a.shape(), b.shape());
        assertArrayEquals(expectedShape, sum.shape());
        assertArrayEquals(expectedShape, product.shape());
        // f32 + and * are correctly rounded, so every path must agree bit for bit with the naive loop.
        assertArrayEquals(Naive.binaryF32(a, b, (x, y) -> (float) x + (float) y), sum.toFloatArray());
        assertArrayEquals(Naive.binaryF32(a, b, (x, y) -> (float) x * (float) y), product.toFloatArray());
    }

    /** Long rows reach the vectorised loops: same-shape, row-broadcast, column-broadcast and scalar operands. */
    @Property(tries = 60)
    void longRowsMatchNaiveForEveryBroadcastPattern(@ForAll @IntRange(min = 1, max = 4) int rows,
                                                    @ForAll @IntRange(min = 1, max = 100) int cols,
                                                    @ForAll @IntRange(max = 3) int pattern, @ForAll boolean swap,
                                                    @ForAll long seed) {
        Random r = new Random(seed);
        NDArray a = Tensors.randomF32(r, rows, cols);
        NDArray b = switch (pattern) {
            case 0 -> Tensors.randomF32(r, rows, cols);
            case 1 -> Tensors.randomF32(r, cols);
            case 2 -> Tensors.randomF32(r, rows, 1);
            default -> Tensors.randomF32(r);
        };
        NDArray x = swap ? b : a, y = swap ? a : b;
        assertArrayEquals(Naive.binaryF32(x, y, (p, q) -> (float) p + (float) q), Elementwise.add(x, y).toFloatArray());
        assertArrayEquals(Naive.binaryF32(x, y, (p, q) -> (float) p - (float) q), Elementwise.sub(x, y).toFloatArray());
        assertArrayEquals(Naive.binaryF32(x, y, (p, q) -> (float) p * (float) q), Elementwise.mul(x, y).toFloatArray());
        assertArrayEquals(Naive.binaryF32(x, y, (p, q) -> (float) p / (float) q), Elementwise.div(x, y).toFloatArray());
        float[] in = a.toFloatArray(), relu = Elementwise.relu(a).toFloatArray(), neg = Elementwise.neg(a).toFloatArray();
        for (int i = 0; i < in.length; i++) {
            assertEquals(Math.max(in[i], 0f), relu[i]);
            assertEquals(-in[i], neg[i]);
        }
    }

    @Property(tries = 60)
    void subAndDivOnStridedViewsMatchNaive(@ForAll @IntRange(min = 1, max = 6) int rows,
                                           @ForAll @IntRange(min = 1, max = 6) int cols, @ForAll long seed) {
        Random r = new Random(seed);
        NDArray a = Tensors.randomF32(r, cols, rows).transpose(0, 1);   // non-contiguous [rows, cols]
        NDArray b = Tensors.randomF32(r, 1, cols);
        assertArrayEquals(Naive.binaryF32(a, b, (x, y) -> (float) x - (float) y), Elementwise.sub(a, b).toFloatArray());
        assertArrayEquals(Naive.binaryF32(a, b, (x, y) -> (float) x / (float) y), Elementwise.div(a, b).toFloatArray());
    }

    @Property(tries = 40)
    void f64AndIntegerPathsMatchNaive(@ForAll @IntRange(min = 1, max = 5) int n, @ForAll long seed) {
        Random r = new Random(seed);
        NDArray a = Tensors.random(r, DType.F64, n, 1);
        NDArray b = Tensors.random(r, DType.F64, n);
        NDArray sum = Elementwise.add(a, b);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) assertEquals(a.getDouble(i, 0) + b.getDouble(j), sum.getDouble(i, j));
        }
        NDArray ia = Tensors.random(r, DType.I32, n, 1);
        NDArray ib = Tensors.random(r, DType.I32, n);
        NDArray prod = Elementwise.mul(ia, ib);
        assertEquals(DType.I32, prod.dtype());
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) assertEquals(ia.getLong(i, 0) * ib.getLong(j), prod.getLong(i, j));
        }
    }

    @Example
    void largeInputsTakeTheParallelPathAndStayExact() {
        Random r = new Random(1);
        NDArray a = Tensors.randomF32(r, 300, 400);
        NDArray b = Tensors.randomF32(r, 400);
        float[] got = Elementwise.add(a, b).toFloatArray();
        float[] av = a.toFloatArray(), bv = b.toFloatArray();
        for (int i = 0; i < got.length; i++) assertEquals(av[i] + bv[i % 400], got[i]);
        float[] relu = Elementwise.relu(a).toFloatArray();
        for (int i = 0; i < relu.length; i++) assertEquals(Math.max(av[i], 0f), relu[i]);
    }

    @Example
    void unaryOpsMatchTheirDefinitions() {
        NDArray x = NDArray.of(new float[] {-3f, -0.5f, 0f, 0.5f, 3f, Float.NaN}, 2, 3);
        assertArrayEquals(new float[] {0f, 0f, 0f, 0.5f, 3f, Float.NaN}, Elementwise.relu(x).toFloatArray());
        assertArrayEquals(new float[] {3f, 0.5f, -0f, -0.5f, -3f, Float.NaN}, Elementwise.neg(x).toFloatArray());
        float[] s = Elementwise.sigmoid(x).toFloatArray();
        float[] t = Elementwise.tanh(x).toFloatArray();
        float[] in = x.toFloatArray();
        for (int i = 0; i < 5; i++) {
            assertEquals(1 / (1 + Math.exp(-in[i])), s[i], 1e-6);
            assertEquals(Math.tanh(in[i]), t[i], 1e-6);
        }
        NDArray ints = NDArray.of(new long[] {-2, 5});
        assertArrayEquals(new long[] {0, 5}, Elementwise.relu(ints).toLongArray());
        assertArrayEquals(new long[] {2, -5}, Elementwise.neg(ints).toLongArray());
    }

    @Example
    void comparisonsReturnBoolAndBroadcast() {
        NDArray a = NDArray.of(new float[] {1, 2, 3}, 3, 1);
        NDArray b = NDArray.of(new float[] {2, Float.NaN});
        NDArray gt = Elementwise.gt(a, b);
        assertEquals(DType.BOOL, gt.dtype());
        assertArrayEquals(new long[] {3, 2}, gt.shape());
        assertArrayEquals(new boolean[] {false, false, false, false, true, false}, gt.toBooleanArray());
        assertArrayEquals(new boolean[] {true, false, false, false, false, false}, Elementwise.lt(a, b).toBooleanArray());
        assertArrayEquals(new boolean[] {false, false, true, false, false, false}, Elementwise.eq(a, b).toBooleanArray());
        NDArray big = NDArray.of(new long[] {Long.MAX_VALUE, Long.MAX_VALUE - 1});
        NDArray same = NDArray.of(new long[] {Long.MAX_VALUE});
        assertArrayEquals(new boolean[] {true, false}, Elementwise.eq(big, same).toBooleanArray(),
                "i64 compares exactly, not through double");
    }

    @Example
    void halfPrecisionComputesInF32AndRoundsBack() {
        NDArray a = NDArray.of(new float[] {1.5f, -2.25f, 1000f}).to(DType.F16);
        NDArray b = NDArray.of(new float[] {0.25f, 4f, 0.1f}).to(DType.F16);
        NDArray sum = Elementwise.add(a, b);
        assertEquals(DType.F16, sum.dtype());
        assertArrayEquals(new float[] {1.75f, 1.75f, 1000f}, sum.toFloatArray());
        NDArray c = NDArray.of(new float[] {1f, 3f}).to(DType.BF16);
        assertArrayEquals(new float[] {1f, 9f}, Elementwise.mul(c, c).toFloatArray());
    }

    @Example
    void integerDivisionTruncatesAndRejectsZero() {
        NDArray a = NDArray.of(new long[] {7, -7});
        NDArray b = NDArray.of(new long[] {2});
        assertArrayEquals(new long[] {3, -3}, Elementwise.div(a, b).toLongArray());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Elementwise.div(a, NDArray.of(new long[] {0})));
        assertEquals("div: integer division by zero", e.getMessage());
    }
}
