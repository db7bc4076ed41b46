package dev.kiln.onnx;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static dev.kiln.ir.Builder.attrs;
import static dev.kiln.onnx.Nd.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * max_pool2d and avg_pool2d against PyTorch's rules: ceil_mode drops a last window starting in the
 * right padding, and count_include_pad counts padding but never the ceil_mode overhang.
 */
class PoolExportTest {

    private static Graph pool(String op, long h, long w, Map<String, dev.kiln.ir.Attribute> attributes) {
        Graph g = new Graph("pool");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(2), Dim.of(h), Dim.of(w)));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op(op, attributes, x));
        return g;
    }

    private static int[] pair(int a, int b) { return new int[] {a, b}; }

    @ParameterizedTest(name = "max_pool2d {0}x{1} k={2} s={3} p={4} d={5} ceil={6}")
    @CsvSource({
            "7, 8, 3, 2, 1, 1, false",
            "7, 7, 2, 2, 0, 1, true",
            "9, 8, 3, 2, 1, 2, true",
            "5, 5, 2, 3, 1, 1, true",   // ceil adds a window that would start in the right padding: dropped
            "6, 5, 3, 2, 1, 1, true"})
    void maxPool2d(int h, int w, int k, int s, int p, int d, boolean ceil) {
        Graph g = pool("max_pool2d", h, w, attrs("kernel_size", new long[] {k, k}, "stride", new long[] {s, s},
                "padding", new long[] {p, p}, "dilation", new long[] {d, d}, "ceil_mode", ceil));
        ModelProto m = Exports.checked(g);
        for (long n : new long[] {1, 2}) {
            Nd x = Nd.random(n + h, n, 2, h, w);
            Nd expected = Ref.maxPool2d(x, pair(k, k), pair(s, s), pair(p, p), pair(d, d), ceil);
            assertClose(expected, OrtRunner.runOne(m, Map.of("x", x)), "max_pool2d");
        }
    }

    @ParameterizedTest(name = "avg_pool2d {0}x{1} k={2} s={3} p={4} ceil={5} count_include_pad={6}")
    @CsvSource({
            "7, 8, 3, 2, 1, false, true",
            "7, 8, 3, 2, 1, false, false",
            "7, 8, 3, 2, 1, true, true",
            "7, 8, 3, 2, 1, true, false",
            "6, 6, 3, 2, 1, true, true",    // last window overhangs the right padding: not counted
            "6, 6, 3, 2, 1, true, false",
            "5, 5, 2, 3, 1, true, true",    // extra ceil window starting in the right padding: dropped
            "5, 5, 2, 3, 1, true, false",
            "7, 7, 2, 2, 0, true, true"})
    void avgPool2d(int h, int w, int k, int s, int p, boolean ceil, boolean countIncludePad) {
        Graph g = pool("avg_pool2d", h, w, attrs("kernel_size", new long[] {k, k}, "stride", new long[] {s, s},
                "padding", new long[] {p, p}, "ceil_mode", ceil, "count_include_pad", countIncludePad));
        ModelProto m = Exports.checked(g);
        for (long n : new long[] {1, 3}) {
            Nd x = Nd.random(n * 7 + h, n, 2, h, w);
            Nd expected = Ref.avgPool2d(x, pair(k, k), pair(s, s), pair(p, p), ceil, countIncludePad);
            assertClose(expected, OrtRunner.runOne(m, Map.of("x", x)), "avg_pool2d");
        }
    }

    @Test
    void kilnResultTypeMatchesPytorchOutputSize() {
        Graph g = pool("avg_pool2d", 5, 5, attrs("kernel_size", new long[] {2, 2}, "stride", new long[] {3, 3},
                "padding", new long[] {1, 1}, "ceil_mode", true));
        assertEquals(TensorType.of(DType.F32, Dim.sym("N"), Dim.of(2), Dim.of(2), Dim.of(2)), g.outputs().get(0).type());
    }

    /** Symbolic H/W: ceil_mode windows are decided by the runtime, which follows PyTorch's rule. */
    @Test
    void ceilModeWithSymbolicSpatialDims() {
        Graph g = new Graph("pool_sym");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.of(1), Dim.of(1), Dim.sym("H"), Dim.sym("W")));
        Builder b = Builder.atEnd(g.body());
        var k2s3p1 = attrs("kernel_size", new long[] {2, 2}, "stride", new long[] {3, 3}, "padding", new long[] {1, 1}, "ceil_mode", true);
        var avg = new java.util.LinkedHashMap<>(k2s3p1);
        avg.put("count_include_pad", dev.kiln.ir.Attribute.of(false));
        b.ret(b.op("max_pool2d", k2s3p1, x), b.op("avg_pool2d", avg, x));
        ModelProto m = Exports.checked(g);
        for (int size : new int[] {5, 6}) {
            Nd xv = Nd.random(size, 1, 1, size, size);
            var out = java.util.List.copyOf(OrtRunner.run(m, Map.of("x", xv)).values());
            assertClose(Ref.maxPool2d(xv, pair(2, 2), pair(3, 3), pair(1, 1), pair(1, 1), true), out.get(0), "max_pool2d H=W=" + size);
            assertClose(Ref.avgPool2d(xv, pair(2, 2), pair(3, 3), pair(1, 1), true, false), out.get(1), "avg_pool2d H=W=" + size);
        }
    }

    @Test
    void countIncludePadWithCeilModeNeedsStaticSpatialDims() {
        Graph g = new Graph("pool_sym");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.of(1), Dim.of(1), Dim.sym("H"), Dim.of(6)));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("avg_pool2d", attrs("kernel_size", new long[] {3, 3}, "stride", new long[] {2, 2},
                "padding", new long[] {1, 1}, "ceil_mode", true, "count_include_pad", true), x));
        OnnxExportException e = assertThrows(OnnxExportException.class, () -> OnnxExporter.export(g, Map.of(), ExportOptions.defaults()));
        assertTrue(e.getMessage().startsWith("avg_pool2d:") && e.getMessage().contains("count_include_pad"), e.getMessage());
    }
}
