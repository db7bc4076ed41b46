package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Dispatch;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.kiln.frontend.autograd.GradCheck.check;
import static dev.kiln.frontend.autograd.GradCheck.leaf;

/** Gradient checks of the view, layout and indexing ops (and composites built on them) on random shapes, in f64. */
class ShapeGradsPropertyTest {

    /** An i64 tensor of {@code shape} with entries in {@code [0, bound)}. */
    private static Tensor indices(Random r, long bound, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        long[] v = new long[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = r.nextLong(bound);
        return Tensor.of(v, shape);
    }

    @Property(tries = 30)
    void viewsAndSlices(@ForAll @IntRange(min = 1, max = 4) int m, @ForAll @IntRange(min = 1, max = 4) int n,
                        @ForAll long seed) {
        Generator g = new Generator(seed);
        Random r = new Random(seed);
        check("expand", xs -> xs.get(0).expand(2, m, n), leaf(g, m, 1));
        check("expand -1", xs -> xs.get(0).expand(-1, -1, n).mul(xs.get(0)), leaf(g, 2, m, 1));
        long start = r.nextInt(2 * n + 1) - n, end = r.nextInt(2 * n + 3) - n - 1;
        int step = 1 + r.nextInt(3);
        check("slice", xs -> xs.get(0).slice(-1, start, end, step), leaf(g, m, n));
        check("slice of a transpose", xs -> xs.get(0).t().slice(0, start, end, step), leaf(g, m, n));
        check("narrow", xs -> xs.get(0).narrow(0, m / 2, m - m / 2), leaf(g, m, n));
        check("select", xs -> xs.get(0).select(1, -1).mul(xs.get(0).select(0, 0).sum()), leaf(g, m, n));
        check("unsqueeze/squeeze", xs -> xs.get(0).unsqueeze(1).squeeze(1).unsqueeze(-1).mul(xs.get(0).unsqueeze(0).squeeze(0).unsqueeze(2)),
                leaf(g, m, n));
        check("overlapping views accumulate", xs -> xs.get(0).narrow(1, 0, n - n / 2).add(xs.get(0).narrow(1, n / 2, n - n / 2)),
                leaf(g, m, n));
    }

    @Property(tries = 30)
    void catSplitChunkStack(@ForAll @IntRange(min = 1, max = 4) int m, @ForAll @IntRange(min = 1, max = 5) int n,
                            @ForAll @IntRange(min = 1, max = 3) int size, @ForAll long seed) {
        Generator g = new Generator(seed);
        check("cat", xs -> Tensor.cat(List.of(xs.get(0), xs.get(1).mul(xs.get(1)), xs.get(0)), -1),
                leaf(g, m, n), leaf(g, m, size));
        check("split", xs -> {
            List<Tensor> parts = new ArrayList<>(xs.get(0).split(size, 1));
            java.util.Collections.reverse(parts);
            return Tensor.cat(parts.stream().map(p -> p.mul(p)).toList(), 1);
        }, leaf(g, m, n));
        check("chunk", xs -> {
            List<Tensor> parts = xs.get(0).chunk(size, 0);
            return parts.get(parts.size() - 1).mul(parts.get(0).sum());
        }, leaf(g, m, n));
        check("stack", xs -> Tensor.stack(List.of(xs.get(0), xs.get(1), xs.get(0)), 1), leaf(g, m, n), leaf(g, m, n));
    }

    @Property(tries = 30)
    void gatherAndIndexSelect(@ForAll @IntRange(min = 1, max = 4) int m, @ForAll @IntRange(min = 1, max = 4) int n,
                              @ForAll @IntRange(min = 1, max = 5) int k, @ForAll long seed) {
        Generator g = new Generator(seed);
        Random r = new Random(seed);
        Tensor rows = indices(r, m, k, n), cols = indices(r, n, m, k), picks = indices(r, m, k);
        check("gather axis 0 (repeats accumulate)", xs -> xs.get(0).gather(0, rows), leaf(g, m, n));
        check("gather axis -1", xs -> xs.get(0).gather(-1, cols), leaf(g, m, n));
        check("index_select", xs -> xs.get(0).indexSelect(0, picks), leaf(g, m, n));
        check("index_add", xs -> Dispatch.call("index_add", Builder.attrs("axis", 0), xs.get(0), picks, xs.get(1)),
                leaf(g, m, n), leaf(g, k, n));
    }

    @Property(tries = 30)
    void scatters(@ForAll @IntRange(min = 1, max = 4) int m, @ForAll @IntRange(min = 1, max = 4) int n,
                  @ForAll long seed) {
        Generator g = new Generator(seed);
        Random r = new Random(seed);
        // scatter: distinct rows per column, so no two src values compete for one position
        int k = 1 + r.nextInt(m);
        long[] distinct = new long[k * n];
        for (int j = 0; j < n; j++) {
            List<Long> rowsOfColumn = new ArrayList<>();
            for (long i = 0; i < m; i++) rowsOfColumn.add(i);
            java.util.Collections.shuffle(rowsOfColumn, r);
            for (int i = 0; i < k; i++) distinct[i * n + j] = rowsOfColumn.get(i);
        }
        Tensor unique = Tensor.of(distinct, k, n);
        check("scatter", xs -> xs.get(0).scatter(0, unique, xs.get(1)), leaf(g, m, n), leaf(g, k + 1, n));
        Tensor any = indices(r, n, m, 3);
        check("scatter_add", xs -> xs.get(0).scatterAdd(1, any, xs.get(1)), leaf(g, m, n), leaf(g, m, 4));
        long start = r.nextInt(n + 1) - 1;
        int step = 1 + r.nextInt(2);
        long count = Tensor.zeros(n).slice(0, start, n, step).numel();
        check("slice_scatter", xs -> Dispatch.call("slice_scatter",
                Builder.attrs("axis", 1, "start", start, "end", (long) n, "step", (long) step), xs.get(0), xs.get(1)),
                leaf(g, m, n), leaf(g, m, count));
    }

    @Property(tries = 30)
    void layouts(@ForAll @IntRange(min = 1, max = 4) int m, @ForAll @IntRange(min = 1, max = 4) int n,
                 @ForAll long seed) {
        Generator g = new Generator(seed);
        Random r = new Random(seed);
        long[] pads = {r.nextInt(3) - (n > 1 ? 1 : 0), r.nextInt(3), r.nextInt(2), r.nextInt(3) - (m > 1 ? 1 : 0)};
        check("pad with crops", xs -> xs.get(0).pad(pads, 0.5), leaf(g, m, n));
        check("flip", xs -> xs.get(0).flip(0, -1).mul(xs.get(0)), leaf(g, m, n));
        check("repeat", xs -> xs.get(0).repeat(2, 1, 3), leaf(g, m, n));
        check("repeat of a transpose", xs -> xs.get(0).t().repeat(2, 1), leaf(g, m, n));
        long diag = r.nextInt(5) - 2;
        check("tril", xs -> xs.get(0).tril(diag), leaf(g, 2, m, n));
        check("triu", xs -> xs.get(0).triu(diag), leaf(g, m, n));
    }

    @Property(tries = 20)
    void oneHotComposites(@ForAll @IntRange(min = 1, max = 5) int batch, @ForAll @IntRange(min = 2, max = 5) int classes,
                          @ForAll long seed) {
        Generator g = new Generator(seed);
        Tensor labels = indices(new Random(seed), classes, batch);
        // The negative log-likelihood of a log-softmax picked by a one-hot mask, and by gather: both must agree.
        check("one-hot pick", xs -> xs.get(0).logSoftmax(1).mul(labels.oneHot(classes).to(DType.F64)).sum(1, false).neg(),
                leaf(g, batch, classes));
        check("gather pick", xs -> xs.get(0).logSoftmax(1).gather(1, labels.unsqueeze(1)).squeeze(1).neg(),
                leaf(g, batch, classes));
    }
}
