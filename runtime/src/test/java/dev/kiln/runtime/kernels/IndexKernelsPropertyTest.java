package dev.kiln.runtime.kernels;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.OpKernels;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.kiln.runtime.kernels.ShapeFixtures.assertElements;
import static dev.kiln.runtime.kernels.ShapeFixtures.forEachIndex;
import static dev.kiln.runtime.kernels.ShapeFixtures.shape;
import static dev.kiln.runtime.kernels.ShapeFixtures.strided;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * gather, index_select, scatter, scatter_add, index_add and slice_scatter against references written
 * from PyTorch's definitions, on random shapes, negative axes, strided inputs and strided indices.
 */
class IndexKernelsPropertyTest {

    private static NDArray run(String op, List<NDArray> in, Object... attrs) {
        return OpKernels.run(op, Builder.attrs(attrs), in);
    }

    /** A random i64 index of {@code shape} with entries in {@code [0, bound)}, in a random layout. */
    private static NDArray index(Random r, long bound, long... shape) {
        NDArray layout = strided(r, DType.I64, shape);
        forEachIndex(shape, idx -> layout.setLong(r.nextLong(Math.max(bound, 1)), idx));
        return layout;
    }

    /** An index shape no larger than {@code limit} in any dim but {@code axis}, where it may be up to {@code axisMax}. */
    private static long[] indexShape(Random r, long[] limit, int axis, long axisMax) {
        long[] s = new long[limit.length];
        for (int d = 0; d < s.length; d++) s[d] = d == axis ? r.nextInt((int) axisMax + 1) : r.nextInt((int) limit[d] + 1);
        return s;
    }

    private static DType numeric(Random r) {
        DType[] ts = {DType.F32, DType.F64, DType.I64, DType.I32};
        return ts[r.nextInt(ts.length)];
    }

    @Property(tries = 150)
    void gatherMatchesDefinition(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 1, 4, 4, false);
        int axis = r.nextInt(shape.length);
        NDArray x = strided(r, ShapeFixtures.dtype(r), shape);
        long[] is = indexShape(r, shape, axis, 5);
        NDArray index = index(r, shape[axis], is);
        NDArray out = run("gather", List.of(x, index), "axis", r.nextBoolean() ? axis : axis - shape.length);
        assertElements(is, out, idx -> {
            long[] src = idx.clone();
            src[axis] = index.getLong(idx);
            return x.getDouble(src);
        }, "gather");
    }

    @Property(tries = 150)
    void indexSelectMatchesDefinition(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 1, 4, 4, false);
        int axis = r.nextInt(shape.length);
        NDArray x = strided(r, ShapeFixtures.dtype(r), shape);
        boolean scalar = r.nextInt(8) == 0;
        NDArray index = scalar ? index(r, shape[axis]) : index(r, shape[axis], r.nextInt(6));
        if (r.nextBoolean()) index = index.to(DType.I32);
        NDArray idx32 = index;
        NDArray out = run("index_select", List.of(x, index), "axis", r.nextBoolean() ? axis : axis - shape.length);
        long[] expectedShape = shape.clone();
        expectedShape[axis] = index.numel();
        assertElements(expectedShape, out, idx -> {
            long[] src = idx.clone();
            src[axis] = scalar ? idx32.getLong() : idx32.getLong(idx[axis]);
            return x.getDouble(src);
        }, "index_select");
    }

    @Property(tries = 150)
    void scatterAndScatterAddMatchDefinition(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 1, 4, 4, false);
        int axis = r.nextInt(shape.length);
        DType t = numeric(r);
        NDArray x = strided(r, t, shape);
        long[] is = indexShape(r, shape, axis, 5);
        long[] srcShape = is.clone();
        for (int d = 0; d < srcShape.length; d++) srcShape[d] += r.nextInt(2);
        NDArray src = strided(r, t, srcShape);
        NDArray index = index(r, shape[axis], is);
        int ax = r.nextBoolean() ? axis : axis - shape.length;
        NDArray written = run("scatter", List.of(x, index, src), "axis", ax);
        NDArray added = run("scatter_add", List.of(x, index, src), "axis", ax);
        // Reference: visit the index in row-major order; the last write wins, sums accumulate.
        Map<List<Long>, Double> last = new HashMap<>(), sums = new HashMap<>();
        forEachIndex(is, idx -> {
            long[] dst = idx.clone();
            dst[axis] = index.getLong(idx);
            List<Long> key = java.util.Arrays.stream(dst).boxed().toList();
            last.put(key, src.getDouble(idx));
            sums.merge(key, src.getDouble(idx), Double::sum);
        });
        assertElements(shape, written, idx -> last.getOrDefault(key(idx), x.getDouble(idx)), "scatter");
        assertElements(shape, added, idx -> x.getDouble(idx) + sums.getOrDefault(key(idx), 0.0), "scatter_add");
    }

    private static List<Long> key(long[] idx) { return java.util.Arrays.stream(idx).boxed().toList(); }

    @Property(tries = 100)
    void indexAddMatchesDefinition(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 1, 4, 4, false);
        int axis = r.nextInt(shape.length);
        DType t = numeric(r);
        NDArray x = strided(r, t, shape);
        NDArray index = index(r, shape[axis], r.nextInt(6));
        long[] srcShape = shape.clone();
        srcShape[axis] = index.numel();
        NDArray src = strided(r, t, srcShape);
        NDArray out = run("index_add", List.of(x, index, src), "axis", r.nextBoolean() ? axis : axis - shape.length);
        Map<List<Long>, Double> sums = new HashMap<>();
        forEachIndex(srcShape, idx -> {
            long[] dst = idx.clone();
            dst[axis] = index.getLong(idx[axis]);
            sums.merge(key(dst), src.getDouble(idx), Double::sum);
        });
        assertElements(shape, out, idx -> x.getDouble(idx) + sums.getOrDefault(key(idx), 0.0), "index_add");
    }

    @Property(tries = 100)
    void sliceScatterWritesExactlyTheSlice(@ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = shape(r, 1, 4, 5, false);
        int axis = r.nextInt(shape.length);
        DType t = ShapeFixtures.dtype(r);
        NDArray x = strided(r, t, shape);
        long n = shape[axis], start = r.nextInt((int) n + 2) - 1, end = r.nextInt((int) (2 * n + 1)) - n, step = 1 + r.nextInt(3);
        NDArray view = x.slice(axis, start, end, step);
        NDArray src = strided(r, t, view.shape());
        NDArray out = run("slice_scatter", List.of(x, src), "axis", axis, "start", start, "end", end, "step", step);
        long first = start < 0 ? Math.max(0, start + n) : Math.min(start, n);
        assertElements(shape, out, idx -> {
            long offset = idx[axis] - first;
            if (offset >= 0 && offset % step == 0 && offset / step < view.dim(axis)) {
                long[] s = idx.clone();
                s[axis] = offset / step;
                return src.getDouble(s);
            }
            return x.getDouble(idx);
        }, "slice_scatter");
    }

    @Property(tries = 30)
    void scalarGatherAndScatterActLikeOneElementVectors(@ForAll long seed) {
        Random r = new Random(seed);
        NDArray x = NDArray.full(DType.F64, r.nextInt(10), new long[0]);
        NDArray zero = NDArray.full(DType.I64, 0, new long[0]);
        NDArray src = NDArray.full(DType.F64, 42, new long[0]);
        assertEquals(x.item(), run("gather", List.of(x, zero), "axis", -1).item());
        assertEquals(42.0, run("scatter", List.of(x, zero, src), "axis", 0).item());
        assertEquals(x.item() + 42, run("scatter_add", List.of(x, zero, src), "axis", 0).item());
    }
}
