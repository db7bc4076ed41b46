package dev.kiln.onnx;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.ScalarType;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.kiln.onnx.Nd.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** constant, item, if and loop, with conditions computed from the data as {@code item(gt(sum(x), c))}. */
class ControlFlowExportTest {

    private static Value f32Scalar(Builder b, double v) {
        return b.constant(Attribute.Tensor.fromDoubles(DType.F32, new long[0], new double[] {v}));
    }

    @Test
    void constantsAndItemGiveTensorsAndHostScalars() {
        Graph g = new Graph("consts");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(2)));
        Value one = g.addInput("one", TensorType.of(DType.F32, 1, 1));
        Value ints = g.addInput("ints", TensorType.of(DType.I32, 1));
        Builder b = Builder.atEnd(g.body());
        Value c = b.constant(Attribute.Tensor.fromDoubles(DType.F32, new long[] {2}, new double[] {1.5, -2}));
        Value ci = b.constant(Attribute.Tensor.fromDoubles(DType.I64, new long[] {3}, new double[] {7, -1, 1L << 40}));
        b.ret(b.op("add", x, c), ci, b.constant(Attribute.of(42L)), b.constant(Attribute.of(2.25)), b.constant(Attribute.of(true)),
                b.op("item", one), b.op("item", ints), b.op("item", b.op("gt", one, b.op("neg", one))));
        ModelProto m = Exports.checked(g);
        for (long n : new long[] {1, 3}) {
            Nd xv = Nd.random(n, n, 2);
            Nd onev = Nd.f32(new long[] {1, 1}, -0.75);
            Nd intsv = new Nd(DType.I32, new long[] {1}, new double[] {-9});
            List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", xv, "one", onev, "ints", intsv)).values());
            assertClose(Ref.zip(xv, Nd.f32(new long[] {2}, 1.5, -2), DType.F32, Double::sum), out.get(0), "x + constant");
            assertClose(new Nd(DType.I64, new long[] {3}, new double[] {7, -1, 1L << 40}), out.get(1), "i64 constant");
            assertClose(Nd.scalar(DType.I64, 42), out.get(2), "host int constant");
            assertClose(Nd.scalar(DType.F64, 2.25), out.get(3), "host float constant");
            assertClose(Nd.scalar(DType.BOOL, 1), out.get(4), "host bool constant");
            assertClose(Nd.scalar(DType.F64, -0.75), out.get(5), "item of f32 is a host float (double)");
            assertClose(Nd.scalar(DType.I64, -9), out.get(6), "item of i32 is a host int (int64)");
            assertClose(Nd.scalar(DType.BOOL, 0), out.get(7), "item of bool");
        }
    }

    @Test
    void ifOnADataDependentCondition() {
        Graph g = new Graph("branch");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(4)));
        Builder b = Builder.atEnd(g.body());
        Value cond = b.op("item", b.op("gt", b.op("sum", x), f32Scalar(b, 0.5)));
        Op ifOp = b.ifOp(cond, List.of(x.type(), x.type()));
        Builder then = Builder.atEnd(ifOp.region(0));
        then.yield(then.op("mul", then.op("relu", x), f32Scalar(then, 2)), x);
        Builder orElse = Builder.atEnd(ifOp.region(1));
        orElse.yield(orElse.op("neg", x), orElse.op("tanh", x));
        b.ret(ifOp.results().get(0), ifOp.results().get(1), cond);
        ModelProto m = Exports.checked(g);

        for (long n : new long[] {1, 3}) {
            for (double shift : new double[] {1, -1}) {
                Nd xv = Ref.map(Nd.random(n, n, 4), v -> v + shift);
                boolean taken = Ref.sum(xv) > 0.5;
                List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", xv)).values());
                assertClose(Nd.scalar(DType.BOOL, taken ? 1 : 0), out.get(2), "condition");
                assertClose(taken ? Ref.map(xv, v -> 2 * Math.max(v, 0)) : Ref.map(xv, v -> -v), out.get(0), "if result 0");
                assertClose(taken ? xv : Ref.map(xv, Math::tanh), out.get(1), "if result 1");
            }
        }
    }

    /**
     * {@code while (i < trip && sum(x) < limit) x = x + step}, with the trip count a host int graph
     * input, a second carried value passed through unchanged, and an outer value read in the body.
     */
    @Test
    void loopWithDataDependentConditionAndCarriedValues() {
        Graph g = new Graph("loop");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(3)));
        Value trip = g.addInput("trip", ScalarType.INT);
        Value step = g.addInput("step", TensorType.of(DType.F32, 3));
        Builder b = Builder.atEnd(g.body());
        Value limit = f32Scalar(b, 6);
        Value cond = b.op("item", b.op("lt", b.op("sum", x), limit));
        Op loop = b.loop(trip, cond, List.of(x, step));
        Block body = loop.region(0);
        Builder lb = Builder.atEnd(body);
        Value next = lb.op("add", body.argument(1), step);
        lb.yield(lb.op("item", lb.op("lt", lb.op("sum", next), limit)), next, body.argument(2));
        b.ret(loop.results().get(0), loop.results().get(1));
        ModelProto m = Exports.checked(g);

        for (long n : new long[] {1, 3}) {
            for (long tripCount : new long[] {0, 2, 100}) {
                Nd xv = Nd.random(n, n, 3), sv = Nd.f32(new long[] {3}, 0.25, 0.5, 0.25);
                Nd expected = xv;
                for (long i = 0; i < tripCount && Ref.sum(expected) < 6; i++) expected = Ref.zip(expected, sv, DType.F32, Double::sum);
                List<Nd> out = List.copyOf(OrtRunner.run(m, Map.of("x", xv, "trip", Nd.scalar(DType.I64, tripCount), "step", sv)).values());
                assertClose(expected, out.get(0), "loop result, trip " + tripCount + ", N " + n);
                assertClose(sv, out.get(1), "passed-through carried value");
            }
        }
    }

    @Test
    void loopBodyIsAnOnnxLoopWithIterationAndConditionInputs() {
        Graph g = new Graph("loop_shape");
        Value x = g.addInput("x", TensorType.of(DType.F32, 2));
        Builder b = Builder.atEnd(g.body());
        Op loop = b.loop(b.constant(Attribute.of(3L)), b.constant(Attribute.of(true)), List.of(x));
        Builder lb = Builder.atEnd(loop.region(0));
        lb.yield(lb.constant(Attribute.of(true)), lb.op("add", loop.region(0).argument(1), loop.region(0).argument(1)));
        b.ret(loop.results().get(0));
        ModelProto m = Exports.checked(g);
        var node = m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Loop")).findFirst().orElseThrow();
        var bodyGraph = node.getAttribute(0).getG();
        assertEquals(3, bodyGraph.getInputCount(), "iteration_num, cond_in, one carried value");
        assertEquals(7, bodyGraph.getInput(0).getType().getTensorType().getElemType(), "iteration_num is int64");
        assertEquals(9, bodyGraph.getInput(1).getType().getTensorType().getElemType(), "cond_in is bool");
        assertEquals(2, bodyGraph.getOutputCount(), "cond_out, one carried value");
        Nd xv = Nd.f32(new long[] {2}, 1, -2);
        assertClose(Nd.f32(new long[] {2}, 8, -16), OrtRunner.runOne(m, Map.of("x", xv)), "x doubled three times");
    }
}
