package dev.kiln.runtime;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.DType;
import dev.kiln.ir.InferenceContext;
import dev.kiln.ir.OpRegistry;
import dev.kiln.ir.OpSchema;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Type;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Eager mode's direct f32 kernels ({@link EagerKernels} → {@code EagerF32}) against the reference kernels the
 * interpreter runs: convolutions within the GEMM bound {@code 4 eps k max|w| max|x|} (k = taps per output),
 * pools bit for bit, batch norm within {@code 4 eps (|x scale| + |shift|)}; and the direct kernel must really
 * be the one that ran (a result that equals the reference because the reference ran proves nothing).
 */
class EagerKernelsPropertyTest {
    private static final double EPS = Math.ulp(1f);

    @Property(tries = 150)
    void conv2dMatchesTheReference(@ForAll @IntRange(min = 1, max = 2) int n, @ForAll @IntRange(min = 1, max = 2) int groups,
                                   @ForAll @IntRange(min = 1, max = 3) int cg, @ForAll @IntRange(min = 1, max = 3) int mg,
                                   @ForAll @IntRange(min = 1, max = 11) int h, @ForAll @IntRange(min = 1, max = 11) int w,
                                   @ForAll @IntRange(min = 1, max = 4) int k, @ForAll @IntRange(min = 1, max = 2) int stride,
                                   @ForAll @IntRange(max = 2) int pad, @ForAll @IntRange(min = 1, max = 2) int dilation,
                                   @ForAll boolean bias, @ForAll long seed) {
        Assume.that(h + 2 * pad >= dilation * (k - 1) + 1 && w + 2 * pad >= dilation * (k - 1) + 1);
        Random r = new Random(seed);
        List<NDArray> in = new ArrayList<>(List.of(random(r, n, groups * cg, h, w), random(r, groups * mg, cg, k, k)));
        if (bias) in.add(random(r, groups * mg));
        Map<String, Attribute> attrs = Map.of("stride", ints(stride, stride), "padding", ints(pad, pad),
                "dilation", ints(dilation, dilation), "groups", new Attribute.Int(groups));
        double tolerance = 4 * EPS * (cg * k * k + 1);
        assertClose(reference("conv2d", in, attrs), direct("conv2d", in, attrs), tolerance);
    }

    @Example
    void pointwiseAndResNetStemShapes() {
        Random r = new Random(3);
        Map<String, Attribute> pointwise = Map.of("stride", ints(1, 1), "padding", ints(0, 0), "dilation", ints(1, 1), "groups", new Attribute.Int(1));
        List<NDArray> in = List.of(random(r, 2, 16, 7, 5), random(r, 24, 16, 1, 1), random(r, 24));
        assertClose(reference("conv2d", in, pointwise), direct("conv2d", in, pointwise), 4 * EPS * 17);
        Map<String, Attribute> stem = Map.of("stride", ints(2, 2), "padding", ints(3, 3), "dilation", ints(1, 1), "groups", new Attribute.Int(1));
        List<NDArray> x = List.of(random(r, 1, 3, 64, 64), random(r, 8, 3, 7, 7));
        assertClose(reference("conv2d", x, stem), direct("conv2d", x, stem), 4 * EPS * 148);
    }

    @Property(tries = 100)
    void linearAndMatmulMatchTheReference(@ForAll @IntRange(min = 1, max = 3) int batch, @ForAll @IntRange(min = 1, max = 70) int m,
                                          @ForAll @IntRange(min = 1, max = 70) int n, @ForAll @IntRange(min = 1, max = 70) int k,
                                          @ForAll boolean bias, @ForAll boolean sharedB, @ForAll long seed) {
        Random r = new Random(seed);
        List<NDArray> lin = new ArrayList<>(List.of(random(r, batch, m, k), random(r, n, k)));
        if (bias) lin.add(random(r, n));
        double tolerance = 4 * EPS * (k + 1);
        assertClose(reference("linear", lin, Map.of()), direct("linear", lin, Map.of()), tolerance);
        List<NDArray> mm = List.of(random(r, batch, m, k), sharedB ? random(r, k, n) : random(r, batch, k, n));
        assertClose(reference("matmul", mm, Map.of()), direct("matmul", mm, Map.of()), tolerance);
    }

    @Property(tries = 150)
    void poolsMatchTheReferenceExactly(@ForAll @IntRange(min = 1, max = 3) int planes, @ForAll @IntRange(min = 1, max = 12) int h,
                                       @ForAll @IntRange(min = 1, max = 12) int w, @ForAll @IntRange(min = 1, max = 4) int k,
                                       @ForAll @IntRange(min = 1, max = 3) int stride, @ForAll @IntRange(max = 2) int pad,
                                       @ForAll boolean ceil, @ForAll boolean max, @ForAll boolean countIncludePad, @ForAll long seed) {
        Assume.that(pad <= k / 2 && h + 2 * pad >= k && w + 2 * pad >= k);
        List<NDArray> in = List.of(random(new Random(seed), 1, planes, h, w));
        Map<String, Attribute> attrs = new LinkedHashMap<>(Map.of("kernel_size", ints(k, k), "stride", ints(stride, stride),
                "padding", ints(pad, pad), "ceil_mode", new Attribute.Bool(ceil)));
        if (max) attrs.put("dilation", ints(1, 1));
        else attrs.put("count_include_pad", new Attribute.Bool(countIncludePad));
        String op = max ? "max_pool2d" : "avg_pool2d";
        assertClose(reference(op, in, attrs), direct(op, in, attrs), 0);
    }

    @Property(tries = 100)
    void batchNormMatchesTheReference(@ForAll @IntRange(min = 1, max = 3) int n, @ForAll @IntRange(min = 1, max = 5) int c,
                                      @ForAll @IntRange(max = 3) int rank, @ForAll boolean affine, @ForAll long seed) {
        Random r = new Random(seed);
        long[] shape = new long[2 + rank];
        shape[0] = n;
        shape[1] = c;
        for (int d = 2; d < shape.length; d++) shape[d] = 1 + r.nextInt(6);
        NDArray var = random(r, c);
        for (long i = 0; i < c; i++) var.setFlat(i, Math.abs(var.getFlat(i)) + 0.1);
        List<NDArray> in = new ArrayList<>(List.of(random(r, shape), random(r, c), var));
        if (affine) {
            in.add(random(r, c));
            in.add(random(r, c));
        }
        Map<String, Attribute> attrs = Map.of("eps", new Attribute.Float(1e-5));
        // |x| <= 1, |mean| <= 1, var >= 0.1, |weight|, |bias| <= 1: |y| <= 2 / sqrt(0.1) + 1
        assertClose(reference("batch_norm", in, attrs), direct("batch_norm", in, attrs), 4 * EPS * 8);
    }

    /** Operands that are not f32, contiguous and native take the reference kernel. */
    @Example
    void otherOperandsRunTheReferenceKernel() {
        Random r = new Random(4);
        Map<String, Attribute> attrs = Map.of("kernel_size", ints(2, 2), "stride", ints(2, 2), "padding", ints(0, 0),
                "dilation", ints(1, 1), "ceil_mode", new Attribute.Bool(false));
        NDArray strided = random(r, 1, 2, 6, 6).permute(0, 1, 3, 2);
        assertEquals(null, dev.kiln.runtime.kernels.EagerF32.maxPool2d(strided, new long[] {2, 2}, new long[] {2, 2},
                new long[] {0, 0}, new long[] {1, 1}, new long[] {1, 2, 3, 3}));
        List<NDArray> in = List.of(strided);
        assertClose(reference("max_pool2d", in, attrs), EagerKernels.apply("max_pool2d", in, attributes("max_pool2d", attrs), type("max_pool2d", in, attrs)), 0);
        List<NDArray> f64 = List.of(random(r, 1, 2, 6, 6).to(DType.F64));
        assertClose(reference("max_pool2d", f64, attrs), EagerKernels.apply("max_pool2d", f64, attributes("max_pool2d", attrs), type("max_pool2d", f64, attrs)), 0);
    }

    /** Runs the direct kernel and checks that it, not the reference, produced the result. */
    private static NDArray direct(String op, List<NDArray> in, Map<String, Attribute> attrs) {
        Type t = type(op, in, attrs);
        OpAttributes a = attributes(op, attrs);
        NDArray out = EagerKernels.apply(op, in, a, t);
        long[] shape = ((TensorType) t).shape().toArray();
        NDArray again = switch (op) {
            case "conv2d" -> dev.kiln.runtime.kernels.EagerF32.conv2d(in.get(0), in.get(1), in.size() > 2 ? in.get(2) : null,
                    a.longs("stride"), a.longs("padding"), a.longs("dilation"), a.integer("groups"), shape);
            case "max_pool2d" -> dev.kiln.runtime.kernels.EagerF32.maxPool2d(in.get(0), a.longs("kernel_size"), a.longs("stride"),
                    a.longs("padding"), a.longs("dilation"), shape);
            case "avg_pool2d" -> dev.kiln.runtime.kernels.EagerF32.avgPool2d(in.get(0), a.longs("kernel_size"), a.longs("stride"),
                    a.longs("padding"), a.bool("count_include_pad"), shape);
            case "linear" -> dev.kiln.runtime.kernels.EagerF32.linear(in.get(0), in.get(1), in.size() > 2 ? in.get(2) : null, shape);
            case "matmul" -> dev.kiln.runtime.kernels.EagerF32.matmul(in.get(0), in.get(1), shape);
            default -> dev.kiln.runtime.kernels.EagerF32.batchNorm(in.get(0), in.get(1), in.get(2), in.size() > 3 ? in.get(3) : null,
                    in.size() > 4 ? in.get(4) : null, 1e-5);
        };
        assertTrue(again != null, op + ": the direct kernel declined operands it should take");
        assertArrayEquals(again.toDoubleArray(), out.toDoubleArray(), op + ": eager dispatch did not run the direct kernel");
        assertNotSame(in.get(0), out);
        return out;
    }

    private static NDArray reference(String op, List<NDArray> in, Map<String, Attribute> attrs) {
        return OpKernels.get(op).apply(in, attributes(op, attrs));
    }

    private static OpAttributes attributes(String op, Map<String, Attribute> attrs) {
        return new OpAttributes(OpRegistry.get(op), attrs);
    }

    private static Type type(String op, List<NDArray> in, Map<String, Attribute> attrs) {
        OpSchema schema = OpRegistry.get(op);
        List<Type> types = in.stream().map(a -> (Type) TensorType.of(a.dtype(), a.shape())).toList();
        return schema.inference().infer(new InferenceContext(schema, types, attrs, List.of())).get(0);
    }

    private static void assertClose(NDArray expected, NDArray actual, double tolerance) {
        assertArrayEquals(expected.shape(), actual.shape(), "shape");
        assertEquals(expected.dtype(), actual.dtype(), "dtype");
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            boolean ok = Double.compare(e[i], a[i]) == 0 || Math.abs(e[i] - a[i]) <= tolerance;
            assertTrue(ok, "element " + i + ": expected " + e[i] + ", got " + a[i] + " (tolerance " + tolerance + ")");
        }
    }

    private static NDArray random(Random r, long... shape) {
        NDArray a = NDArray.zeros(DType.F32, shape);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, r.nextFloat() * 2 - 1);
        return a;
    }

    private static Attribute.Ints ints(long... v) { return new Attribute.Ints(v); }
}
