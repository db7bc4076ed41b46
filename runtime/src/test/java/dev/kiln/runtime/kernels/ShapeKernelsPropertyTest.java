package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.OpKernels;
import dev.kiln.ir.Builder;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.kiln.runtime.kernels.ShapeFixtures.assertElements;
import static dev.kiln.runtime.kernels.ShapeFixtures.dtype;
import static dev.kiln.runtime.kernels.ShapeFixtures.shape;
import static dev.kiln.runtime.kernels.ShapeFixtures.strided;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The view and layout kernels against references written from the definitions, on random shapes,
 * dtypes, negative axes and strided inputs. Kernels run through {@link OpKernels}, as eager code does.
 */
class ShapeKernelsPropertyTest {

    private static NDArray run(String op, List<NDArray> in, Object... attrs) {
        return OpKernels.run(op, Builder.attrs(attrs), in);
    }

    /** Python's slice: the kept indices of a dim of {@code n}, from the definition. */
    private static List<Long> pythonSlice(long n, long start, long end, long step) {
        long s = start < 0 ? Math.max(0, start + n) : Math.min(start, n);
        long e = end < 0 ? Math.max(0, end + n) : Math.min(end, n);
        List<Long> kept = new ArrayList<>();
        for (long i = 0; i < n; i++) if (i >= s && i < e && (i - s) % step == 0) kept.add(i);
        return kept;
    }

    @Property(tries = 150)
    void sliceIsAViewWithPythonSemantics(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 1, 4, 5, true);
        NDArray x = strided(r, dtype(r), shape);
        int axis = r.nextInt(shape.length);
        long n = shape[axis];
        long start = r.nextInt((int) (2 * n + 5)) - n - 2, end = r.nextInt((int) (2 * n + 5)) - n - 2, step = 1 + r.nextInt(3);
        int negAxis = r.nextBoolean() ? axis : axis - shape.length;
        NDArray out = run("slice", List.of(x), "axis", negAxis, "start", start, "end", end, "step", step);
        assertSame(x.segment(), out.segment(), "slice must be a view");
        List<Long> kept = pythonSlice(n, start, end, step);
        long[] expectedShape = shape.clone();
        expectedShape[axis] = kept.size();
        assertElements(expectedShape, out, idx -> {
            long[] src = idx.clone();
            src[axis] = kept.get((int) idx[axis]);
            return x.getDouble(src);
        }, "slice");
    }

    @Property(tries = 100)
    void expandIsAZeroStrideView(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 0, 3, 3, false);
        for (int i = 0; i < shape.length; i++) if (r.nextBoolean()) shape[i] = 1;
        NDArray x = strided(r, dtype(r), shape);
        int lead = r.nextInt(3);
        long[] target = new long[lead + shape.length], full = new long[target.length];
        for (int i = 0; i < target.length; i++) {
            long have = i < lead ? 1 : shape[i - lead];
            full[i] = have == 1 ? r.nextInt(4) : have;
            target[i] = i >= lead && r.nextBoolean() ? -1 : full[i];
            if (target[i] == -1) full[i] = have;
        }
        NDArray out = run("expand", List.of(x), "shape", target);
        assertSame(x.segment(), out.segment(), "expand must be a view");
        boolean repeats = false;
        for (int i = 0; i < full.length; i++) repeats |= full[i] > 1 && (i < lead || shape[i - lead] == 1);
        assertEquals(repeats, out.hasInternalOverlap(), "only dims expanded beyond 1 overlap");
        assertElements(full, out, idx -> x.getDouble(Naive.broadcastIndex(idx, shape)), "expand");
    }

    @Property(tries = 100)
    void reshapeViewsWheneverStridesAllow(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 1, 4, 4, false);
        NDArray x = strided(r, dtype(r), shape);
        // Split or merge neighbouring dims, or insert size-1 dims: some of these need a copy, some do not.
        long[] target = switch (r.nextInt(3)) {
            case 0 -> new long[] {-1};
            case 1 -> {
                long[] t = new long[shape.length + 1];
                int at = r.nextInt(t.length);
                for (int i = 0, j = 0; i < t.length; i++) t[i] = i == at ? 1 : shape[j++];
                yield t;
            }
            default -> shape.length >= 2 ? new long[] {shape[0] * shape[1], -1} : new long[] {shape[0], 1};
        };
        NDArray out = run("reshape", List.of(x), "shape", target);
        float[] before = x.toFloatArray();
        assertTrue(java.util.Arrays.equals(before, out.toFloatArray()), "reshape keeps row-major order");
        if (x.isContiguous()) assertSame(x.segment(), out.segment(), "a contiguous reshape is a view");
        if (out.segment() == x.segment()) {
            // A view: writing through it changes x.
            out.setFlat(0, out.getFlat(0) == 0 ? 1 : 0);
            assertEquals(out.getFlat(0), x.getFlat(0));
        }
    }

    @Property(tries = 20)
    void selectingAColumnOfATransposeIsAView(@ForAll long seed) {
        Random r = new Random(seed);
        NDArray base = ShapeFixtures.random(r, DType.F32, 3, 4);
        // select(1, 2) = slice then drop the size-1 dim: PyTorch gives a view here, so must Kiln.
        NDArray col = run("reshape", List.of(base.slice(1, 2, 3, 1)), "shape", new long[] {3});
        assertSame(base.segment(), col.segment());
        NDArray t = run("permute", List.of(base), "perm", new int[] {1, 0});
        NDArray merged = run("reshape", List.of(t), "shape", new long[] {12});
        assertNotSame(base.segment(), merged.segment(), "a transpose cannot be flattened without a copy");
        assertEquals(base.getDouble(1, 0), merged.getFlat(1));
    }

    @Property(tries = 100)
    void catMatchesDefinition(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 1, 4, 4, true);
        DType t = dtype(r);
        int axis = r.nextInt(shape.length);
        List<NDArray> xs = new ArrayList<>();
        List<Long> starts = new ArrayList<>();
        long total = 0;
        for (int k = 0, n = 1 + r.nextInt(4); k < n; k++) {
            long[] s = shape.clone();
            s[axis] = r.nextInt(4);
            xs.add(strided(r, t, s));
            starts.add(total);
            total += s[axis];
        }
        long[] expectedShape = shape.clone();
        expectedShape[axis] = total;
        NDArray out = run("cat", xs, "axis", r.nextBoolean() ? axis : axis - shape.length);
        for (NDArray x : xs) assertNotSame(x.segment(), out.segment());
        assertElements(expectedShape, out, idx -> {
            int k = 0;
            while (k + 1 < xs.size() && idx[axis] >= starts.get(k + 1)) k++;
            while (xs.get(k).dim(axis) == 0) k++;
            long[] src = idx.clone();
            src[axis] -= starts.get(k);
            return xs.get(k).getDouble(src);
        }, "cat");
    }

    @Property(tries = 100)
    void padMatchesDefinitionIncludingCrops(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 1, 4, 4, true);
        DType t = dtype(r);
        NDArray x = strided(r, t, shape);
        int padded = 1 + r.nextInt(shape.length);
        long[] pads = new long[2 * padded];
        for (int p = 0; p < padded; p++) {
            long size = shape[shape.length - 1 - p];
            long before = r.nextInt(4) - Math.min(size, 2), after = r.nextInt(4) - Math.min(size + Math.min(before, 0), 2);
            pads[2 * p] = before;
            pads[2 * p + 1] = after;
        }
        double value = t == DType.BOOL ? 1 : t.isFloatingPoint() ? 2.5 : 7;
        NDArray out = run("pad", List.of(x), "pads", pads, "value", value);
        long[] expectedShape = shape.clone();
        for (int p = 0; p < padded; p++) expectedShape[shape.length - 1 - p] += pads[2 * p] + pads[2 * p + 1];
        assertElements(expectedShape, out, idx -> {
            long[] src = idx.clone();
            for (int p = 0; p < padded; p++) src[shape.length - 1 - p] -= pads[2 * p];
            for (int d = 0; d < src.length; d++) if (src[d] < 0 || src[d] >= shape[d]) return value;
            return x.getDouble(src);
        }, "pad " + java.util.Arrays.toString(pads));
    }

    @Property(tries = 100)
    void flipMatchesDefinition(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 0, 4, 4, true);
        NDArray x = strided(r, dtype(r), shape);
        List<Long> axes = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) if (r.nextBoolean()) axes.add(r.nextBoolean() ? (long) d : d - shape.length);
        boolean[] flipped = new boolean[shape.length];
        for (long a : axes) flipped[(int) Math.floorMod(a, shape.length)] = true;
        NDArray out = run("flip", List.of(x), "axes", axes.stream().mapToLong(Long::longValue).toArray());
        assertNotSame(x.segment(), out.segment());
        assertElements(shape, out, idx -> {
            long[] src = idx.clone();
            for (int d = 0; d < src.length; d++) if (flipped[d]) src[d] = shape[d] - 1 - idx[d];
            return x.getDouble(src);
        }, "flip " + axes);
    }

    @Property(tries = 100)
    void repeatMatchesDefinition(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 0, 3, 3, true);
        NDArray x = strided(r, dtype(r), shape);
        long[] repeats = new long[shape.length + r.nextInt(3)];
        for (int i = 0; i < repeats.length; i++) repeats[i] = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(3);
        int lead = repeats.length - shape.length;
        long[] expectedShape = new long[repeats.length];
        for (int i = 0; i < repeats.length; i++) expectedShape[i] = repeats[i] * (i < lead ? 1 : shape[i - lead]);
        NDArray out = run("repeat", List.of(x), "repeats", repeats);
        assertElements(expectedShape, out, idx -> {
            long[] src = new long[shape.length];
            for (int d = 0; d < shape.length; d++) src[d] = idx[d + lead] % shape[d];
            return x.getDouble(src);
        }, "repeat " + java.util.Arrays.toString(repeats));
    }

    @Property(tries = 100)
    void trilAndTriuMatchDefinition(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 2, 4, 5, true);
        NDArray x = strided(r, dtype(r), shape);
        long k = r.nextInt(9) - 4;
        if (r.nextInt(10) == 0) k = r.nextBoolean() ? Long.MAX_VALUE : Long.MIN_VALUE;
        long diag = k;
        int rank = shape.length;
        NDArray lower = run("tril", List.of(x), "diagonal", k), upper = run("triu", List.of(x), "diagonal", k);
        assertElements(shape, lower, idx -> (double) idx[rank - 1] - idx[rank - 2] <= (double) diag ? x.getDouble(idx) : 0, "tril " + k);
        assertElements(shape, upper, idx -> (double) idx[rank - 1] - idx[rank - 2] >= (double) diag ? x.getDouble(idx) : 0, "triu " + k);
        assertFalse(lower.segment() == x.segment() || upper.segment() == x.segment());
    }

    @Property(tries = 10)
    void largeCopiesSplitAcrossThreadsStayCorrect(@ForAll long seed) {
        Random r = new Random(seed);
        NDArray x = ShapeFixtures.random(r, DType.F32, 300, 260).transpose(0, 1);
        NDArray cat = run("cat", List.of(x, x), "axis", 1);
        NDArray flip = run("flip", List.of(x), "axes", new long[] {0, 1});
        NDArray pad = run("pad", List.of(x), "pads", new long[] {1, 2, 3, -4}, "value", 0.5);
        for (int t = 0; t < 200; t++) {
            long i = r.nextInt(260), j = r.nextInt(300);
            assertEquals(x.getDouble(i, j), cat.getDouble(i, j + 300));
            assertEquals(x.getDouble(i, j), flip.getDouble(259 - i, 299 - j));
            if (i + 3 < 259) assertEquals(x.getDouble(i, j), pad.getDouble(i + 3, j + 1));
        }
    }
}
