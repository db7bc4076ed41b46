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

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import static dev.kiln.ir.Builder.attrs;
import static dev.kiln.onnx.Nd.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** matmul, linear (Gemm and MatMul forms), conv2d, softmax and log_softmax. */
class NnExportTest {

    private static List<String> opTypes(ModelProto m) {
        return m.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
    }

    @Test
    void matmulHandlesBatchedAndVectorOperands() {
        Graph g = new Graph("matmul");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(3), Dim.of(4)));
        Value w = g.addInput("w", TensorType.of(DType.F32, 4, 5));
        Value v = g.addInput("v", TensorType.of(DType.F32, 4));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("matmul", x, w), b.op("matmul", x, v), b.op("matmul", v, w));
        ModelProto m = Exports.checked(g);
        for (long n : new long[] {1, 2}) {
            Nd xv = Nd.random(n, n, 3, 4), wv = Nd.random(5, 4, 5), vv = Nd.random(6, 4);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", xv, "w", wv, "v", vv)).values());
            assertClose(Ref.matmul(xv, wv), out.get(0), "batched matmul");
            assertClose(Ref.matmul(xv, vv), out.get(1), "matrix @ vector");
            assertClose(Ref.matmul(vv, wv), out.get(2), "vector @ matrix");
        }
    }

    @Test
    void linearOn2dInputIsGemmAndOn3dInputIsTransposeMatMulAdd() {
        Nd w = Nd.random(21, 3, 4), bias = Nd.random(22, 3);
        Graph g = new Graph("linear");
        Value x2 = g.addInput("x2", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(4)));
        Value x3 = g.addInput("x3", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(2), Dim.of(4)));
        Value wv = g.addWeight("fc.weight", TensorType.of(DType.F32, 3, 4));
        Value bv = g.addWeight("fc.bias", TensorType.of(DType.F32, 3));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("linear", x2, wv, bv), b.op("linear", x2, wv), b.op("linear", x3, wv, bv), b.op("linear", x3, wv));
        Map<String, ByteBuffer> weights = Map.of("fc.weight", w.bytes(), "fc.bias", bias.bytes());
        ModelProto m = Exports.checked(g, weights);
        List<String> ops = opTypes(m);
        assertEquals(2, ops.stream().filter("Gemm"::equals).count(), ops.toString());
        assertEquals(2, ops.stream().filter("MatMul"::equals).count(), ops.toString());
        assertEquals(List.of("fc.weight", "fc.bias"), m.getGraph().getInitializerList().stream().map(t -> t.getName()).toList());

        for (long n : new long[] {1, 3}) {
            Nd a = Nd.random(n, n, 4), c = Nd.random(n + 10, n, 2, 4);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x2", a, "x3", c)).values());
            assertClose(Ref.linear(a, w, bias), out.get(0), "Gemm with bias");
            assertClose(Ref.linear(a, w, null), out.get(1), "Gemm without bias");
            assertClose(Ref.linear(c, w, bias), out.get(2), "MatMul + Add");
            assertClose(Ref.linear(c, w, null), out.get(3), "MatMul");
        }
    }

    @Test
    void conv2dWithStridePaddingDilationGroupsAndOptionalBias() {
        Nd w1 = Nd.random(31, 6, 4, 3, 3), b1 = Nd.random(32, 6), w2 = Nd.random(33, 4, 2, 2, 3);
        Graph g = new Graph("conv");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(4), Dim.of(7), Dim.of(8)));
        Value cw1 = g.addWeight("c1.weight", TensorType.of(DType.F32, 6, 4, 3, 3));
        Value cb1 = g.addWeight("c1.bias", TensorType.of(DType.F32, 6));
        Value cw2 = g.addWeight("c2.weight", TensorType.of(DType.F32, 4, 2, 2, 3));
        Builder b = Builder.atEnd(g.body());
        Value y1 = b.op("conv2d", attrs("stride", new long[] {2, 1}, "padding", new long[] {1, 2}), x, cw1, cb1);
        Value y2 = b.op("conv2d", attrs("dilation", new long[] {2, 1}, "groups", 2L, "padding", new long[] {0, 1}), x, cw2);
        b.ret(y1, y2);
        ModelProto m = Exports.checked(g, Map.of("c1.weight", w1.bytes(), "c1.bias", b1.bytes(), "c2.weight", w2.bytes()));
        for (long n : new long[] {1, 2}) {
            Nd xv = Nd.random(n, n, 4, 7, 8);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", xv)).values());
            assertClose(Ref.conv2d(xv, w1, b1, new int[] {2, 1}, new int[] {1, 2}, new int[] {1, 1}, 1), out.get(0), "conv stride/pad/bias");
            assertClose(Ref.conv2d(xv, w2, null, new int[] {1, 1}, new int[] {0, 1}, new int[] {2, 1}, 2), out.get(1), "conv dilation/groups");
        }
    }

    @Test
    void softmaxAndLogSoftmaxNormaliseOneAxis() {
        Graph g = new Graph("softmax");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(3), Dim.of(5)));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("softmax", attrs("axis", 1L), x), b.op("softmax", x),
                b.op("log_softmax", attrs("axis", -2L), x), b.op("log_softmax", attrs("axis", 2L), x));
        ModelProto m = Exports.checked(g);
        for (long n : new long[] {1, 4}) {
            Nd xv = Ref.map(Nd.random(n, n, 3, 5), v -> 4 * v);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", xv)).values());
            assertClose(Ref.softmax(xv, 1, false), out.get(0), "softmax axis 1");
            assertClose(Ref.softmax(xv, -1, false), out.get(1), "softmax default axis");
            assertClose(Ref.softmax(xv, 1, true), out.get(2), "log_softmax axis -2");
            assertClose(Ref.softmax(xv, 2, true), out.get(3), "log_softmax axis 2");
        }
    }
}
