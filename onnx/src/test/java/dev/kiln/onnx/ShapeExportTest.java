package dev.kiln.onnx;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static dev.kiln.ir.Builder.attrs;
import static dev.kiln.onnx.Nd.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** reshape, permute, flatten, sum and mean. */
class ShapeExportTest {

    private static List<String> opTypes(ModelProto m) {
        return m.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
    }

    @Test
    void reshapeWithInferredDimAndPermute() {
        Graph g = new Graph("shape");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(2), Dim.of(6)));
        Builder b = Builder.atEnd(g.body());
        Value r = b.op("reshape", attrs("shape", new long[] {-1, 3, 4}), x);
        Value p = b.op("permute", attrs("perm", new long[] {2, 0, -2}), x);
        b.ret(r, p);
        ModelProto m = Exports.checked(g);
        for (long n : new long[] {1, 3}) {
            Nd xv = Nd.random(n, n, 2, 6);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", xv)).values());
            assertClose(Ref.reshape(xv, n, 3, 4), out.get(0), "reshape");
            assertClose(Ref.permute(xv, 2, 0, 1), out.get(1), "permute");
        }
    }

    @Test
    void reshapeToAZeroSizeNeedsAllowzeroFromOpset14() {
        Graph g = new Graph("zero");
        Value x = g.addInput("x", TensorType.of(DType.F32, 0, 4));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("reshape", attrs("shape", new long[] {4, 0}), x));
        OnnxExportException e = assertThrows(OnnxExportException.class,
                () -> OnnxExporter.export(g, Map.of(), ExportOptions.defaults().withOpset(13)));
        assertTrue(e.getMessage().startsWith("reshape:") && e.getMessage().contains("opset 14"), e.getMessage());
        ModelProto m = Exports.checked(g);
        Nd out = OrtRunner.runOne(m, Map.of("x", new Nd(DType.F32, new long[] {0, 4}, new double[0])));
        assertEquals(List.of(4L, 0L), java.util.Arrays.stream(out.shape()).boxed().toList());
    }

    /** flatten keeps PyTorch's rank; ONNX Flatten is used only where it agrees (start 1, end last). */
    @Test
    void flattenWithStaticAndSymbolicDims() {
        Graph g = new Graph("flatten");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(2), Dim.of(3), Dim.of(4)));
        Value t = g.addInput("t", TensorType.of(DType.F32, Dim.of(2), Dim.of(3), Dim.of(4), Dim.sym("T")));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("flatten", attrs("start_dim", 1L), x),
                b.op("flatten", x),
                b.op("flatten", attrs("start_dim", 1L, "end_dim", 2L), x),
                b.op("flatten", attrs("start_dim", 0L, "end_dim", 1L), x),
                b.op("flatten", attrs("start_dim", 1L, "end_dim", 2L), t),
                b.op("flatten", attrs("start_dim", 2L, "end_dim", 2L), x));
        ModelProto m = Exports.checked(g);
        assertEquals(1, opTypes(m).stream().filter("Flatten"::equals).count(), opTypes(m).toString());
        for (long n : new long[] {1, 3}) {
            Nd xv = Nd.random(n, n, 2, 3, 4), tv = Nd.random(n + 5, 2, 3, 4, n + 1);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", xv, "t", tv)).values());
            assertClose(Ref.reshape(xv, n, 24), out.get(0), "flatten(1, -1)");
            assertClose(Ref.reshape(xv, n * 24), out.get(1), "flatten(0, -1)");
            assertClose(Ref.reshape(xv, n, 6, 4), out.get(2), "flatten(1, 2)");
            assertClose(Ref.reshape(xv, n * 2, 3, 4), out.get(3), "flatten(0, 1)");
            assertClose(Ref.reshape(tv, 2, 12, n + 1), out.get(4), "flatten(1, 2) before a symbolic dim");
            assertClose(xv, out.get(5), "flatten(2, 2)");
        }
    }

    /** ReduceMean takes axes as an attribute before opset 18 and as an input from 18; ReduceSum as an input from 13. */
    @ParameterizedTest
    @ValueSource(ints = {13, 17, 18, 21})
    void sumAndMeanOverAxesAcrossOpsets(int opset) {
        Graph g = new Graph("reduce");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(3), Dim.of(4)));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("sum", attrs("axes", new long[] {1}), x),
                b.op("sum", x),
                b.op("sum", attrs("axes", new long[] {-1, 0}, "keepdim", true), x),
                b.op("mean", attrs("axes", new long[] {2}), x),
                b.op("mean", attrs("keepdim", true), x),
                b.op("mean", attrs("axes", new long[] {0, 1}), x));
        ModelProto m = Exports.checked(g, ExportOptions.defaults().withOpset(opset));
        long axesAttrs = 0, axesInputs = 0;
        for (NodeProto node : m.getGraph().getNodeList()) {
            if (!node.getOpType().equals("ReduceMean")) continue;
            if (node.getAttributeList().stream().anyMatch(a -> a.getName().equals("axes"))) axesAttrs++;
            if (node.getInputCount() == 2) axesInputs++;
        }
        assertEquals(opset < 18 ? List.of(2L, 0L) : List.of(0L, 2L), List.of(axesAttrs, axesInputs), "ReduceMean axes form at opset " + opset);
        for (long n : new long[] {2, 5}) {
            Nd xv = Nd.random(n, n, 3, 4);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", xv)).values());
            assertClose(Ref.reduce(xv, new int[] {1}, false, false), out.get(0), "sum axis 1");
            assertClose(Ref.reduce(xv, new int[0], false, false), out.get(1), "sum all");
            assertClose(Ref.reduce(xv, new int[] {-1, 0}, true, false), out.get(2), "sum keepdim");
            assertClose(Ref.reduce(xv, new int[] {2}, false, true), out.get(3), "mean axis 2");
            assertClose(Ref.reduce(xv, new int[0], true, true), out.get(4), "mean all keepdim");
            assertClose(Ref.reduce(xv, new int[] {0, 1}, false, true), out.get(5), "mean axes 0,1");
        }
    }
}
