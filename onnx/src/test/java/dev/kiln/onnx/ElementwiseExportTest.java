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
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static dev.kiln.onnx.Nd.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** add sub mul div neg relu sigmoid tanh gt lt eq, with broadcasting and a symbolic batch dim. */
class ElementwiseExportTest {

    @Test
    void arithmeticAndActivationsMatchReferenceAtTwoBatchSizes() {
        Graph g = new Graph("elementwise");
        Value a = g.addInput("a", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(3), Dim.of(4)));
        Value c = g.addInput("b", TensorType.of(DType.F32, Dim.of(4)));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("add", a, c), b.op("sub", a, c), b.op("mul", a, c), b.op("div", a, c),
                b.op("neg", a), b.op("relu", a), b.op("sigmoid", a), b.op("tanh", a));
        ModelProto m = Exports.checked(g);

        for (long n : new long[] {1, 3}) {
            Nd av = Nd.random(n, n, 3, 4);
            Nd bv = Ref.map(Nd.random(7, 4), v -> 1.5 + v); // in [0.5, 2.5): safe divisor
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("a", av, "b", bv)).values());
            assertClose(Ref.zip(av, bv, DType.F32, Double::sum), out.get(0), "add");
            assertClose(Ref.zip(av, bv, DType.F32, (x, y) -> x - y), out.get(1), "sub");
            assertClose(Ref.zip(av, bv, DType.F32, (x, y) -> x * y), out.get(2), "mul");
            assertClose(Ref.zip(av, bv, DType.F32, (x, y) -> x / y), out.get(3), "div");
            assertClose(Ref.map(av, x -> -x), out.get(4), "neg");
            assertClose(Ref.map(av, x -> Math.max(x, 0)), out.get(5), "relu");
            assertClose(Ref.map(av, x -> 1 / (1 + Math.exp(-x))), out.get(6), "sigmoid");
            assertClose(Ref.map(av, Math::tanh), out.get(7), "tanh");
        }
    }

    @Test
    void comparisonsGiveBoolTensorsIncludingOnBoolOperands() {
        Graph g = new Graph("compare");
        Value a = g.addInput("a", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(5)));
        Value c = g.addInput("b", TensorType.of(DType.F32, Dim.of(1), Dim.of(5)));
        Builder b = Builder.atEnd(g.body());
        Value gt = b.op("gt", a, c), lt = b.op("lt", a, c), eq = b.op("eq", a, c);
        b.ret(gt, lt, eq, b.op("gt", eq, lt), b.op("lt", gt, eq), b.op("eq", gt, lt));
        ModelProto m = Exports.checked(g);

        for (long n : new long[] {2, 4}) {
            Nd av = Nd.randomInts(n, 2, DType.F32, n, 5), bv = Nd.randomInts(11, 2, DType.F32, 1, 5);
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("a", av, "b", bv)).values());
            Nd gtR = Ref.zip(av, bv, DType.BOOL, (x, y) -> x > y ? 1 : 0);
            Nd ltR = Ref.zip(av, bv, DType.BOOL, (x, y) -> x < y ? 1 : 0);
            Nd eqR = Ref.zip(av, bv, DType.BOOL, (x, y) -> x == y ? 1 : 0);
            assertTrue(java.util.Arrays.stream(eqR.values()).anyMatch(v -> v == 1), "test data should contain ties");
            assertClose(gtR, out.get(0), "gt");
            assertClose(ltR, out.get(1), "lt");
            assertClose(eqR, out.get(2), "eq");
            assertClose(Ref.zip(eqR, ltR, DType.BOOL, (x, y) -> x > y ? 1 : 0), out.get(3), "gt on bools");
            assertClose(Ref.zip(gtR, eqR, DType.BOOL, (x, y) -> x < y ? 1 : 0), out.get(4), "lt on bools");
            assertClose(Ref.zip(gtR, ltR, DType.BOOL, (x, y) -> x == y ? 1 : 0), out.get(5), "eq on bools");
        }
    }

    /** Integer arithmetic wraps and divides toward zero in Kiln; integer Relu is Max(x, 0) before opset 14. */
    @ParameterizedTest
    @ValueSource(ints = {13, 17})
    void integerOpsMatchKilnSemantics(int opset) {
        Graph g = new Graph("ints");
        Value a = g.addInput("a", TensorType.of(DType.I64, Dim.sym("N"), Dim.of(6)));
        Value c = g.addInput("b", TensorType.of(DType.I64, Dim.of(6)));
        Value i = g.addInput("i", TensorType.of(DType.I32, Dim.of(6)));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("add", a, c), b.op("sub", a, c), b.op("mul", a, c), b.op("div", a, c), b.op("neg", a), b.op("relu", i));
        ModelProto m = Exports.checked(g, ExportOptions.defaults().withOpset(opset));
        assertEquals(opset >= 14, m.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("Relu")));

        Nd av = Nd.randomInts(3, 9, DType.I64, 2, 6);
        Nd bv = new Nd(DType.I64, new long[] {6}, new double[] {3, -3, 2, -2, 4, 7});
        Nd iv = Nd.randomInts(4, 5, DType.I32, 6);
        List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("a", av, "b", bv, "i", iv)).values());
        assertClose(Ref.zip(av, bv, DType.I64, Double::sum), out.get(0), "add");
        assertClose(Ref.zip(av, bv, DType.I64, (x, y) -> x - y), out.get(1), "sub");
        assertClose(Ref.zip(av, bv, DType.I64, (x, y) -> x * y), out.get(2), "mul");
        assertClose(Ref.zip(av, bv, DType.I64, (x, y) -> (long) x / (long) y), out.get(3), "div truncates toward zero");
        assertClose(Ref.map(av, x -> -x), out.get(4), "neg");
        assertClose(Ref.map(iv, x -> Math.max(x, 0)), out.get(5), "relu");
    }

    @Test
    void smallIntegerArithmeticAtOpset13IsAClearError() {
        Graph g = new Graph("i8");
        Value a = g.addInput("a", TensorType.of(DType.I8, 4));
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op("add", a, a));
        OnnxExportException e = assertThrows(OnnxExportException.class,
                () -> OnnxExporter.export(g, Map.of(), ExportOptions.defaults().withOpset(13)));
        assertTrue(e.getMessage().startsWith("add:") && e.getMessage().contains("opset 14"), e.getMessage());
        Exports.checked(g, ExportOptions.defaults().withOpset(14));
    }
}
