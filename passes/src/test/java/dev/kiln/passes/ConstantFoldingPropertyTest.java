package dev.kiln.passes;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.statistics.Statistics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Random graphs made mostly of constants (the general random graphs rarely give the folder work):
 * chains of elementwise, shape and reduction ops over random f32 constants and one input. Folding
 * (with a random size limit) must leave the interpreter's outputs bit-identical and the graph valid.
 */
class ConstantFoldingPropertyTest {

    private static final List<String> UNARY = List.of("neg", "relu", "tanh", "sigmoid", "exp", "abs", "sqrt");
    private static final List<String> BINARY = List.of("add", "sub", "mul", "div", "maximum");

    @Property(tries = 300)
    void foldingPreservesResults(@ForAll long seed) {
        Random r = new Random(seed);
        Graph g = new Graph("g");
        Value x = g.addInput("x", TensorType.of(DType.F32, 2, 3));
        Builder b = Builder.atEnd(g.body());
        List<Value> pool = new ArrayList<>(List.of(x, constant(b, r, 2, 3), constant(b, r, 3), constant(b, r)));
        int n = 3 + r.nextInt(10);
        for (int i = 0; i < n; i++) {
            Value a = pool.get(r.nextInt(pool.size()));
            Value v = switch (r.nextInt(5)) {
                case 0, 1 -> b.op(UNARY.get(r.nextInt(UNARY.size())), a);
                case 2 -> binary(b, r, a, pool.get(r.nextInt(pool.size())));
                case 3 -> a.tensorType().rank() == 2 ? b.op("permute", Builder.attrs("perm", new long[] {1, 0}), a)
                        : b.op("reshape", Builder.attrs("shape", new long[] {-1, 1}), a);
                default -> b.op("sum", Builder.attrs("axes", new long[] {}), a);
            };
            if (v != null) pool.add(v);
        }
        b.ret(pool.subList(1, pool.size()).toArray(Value[]::new));
        Graph folded = copyOf(g);

        long limit = r.nextBoolean() ? ConstantFolding.DEFAULT_MAX_BYTES : r.nextInt(30);
        boolean changed = new PassManager("cf").add(new ConstantFolding(limit)).verifyEach(true).run(folded).get(0).changed();
        Statistics.collect(changed ? "folded" : "unchanged");

        NDArray in = NDArray.zeros(DType.F32, 2, 3);
        for (int i = 0; i < 6; i++) in.setFlat(i, r.nextGaussian());
        List<NDArray> before = Interpreter.runTensors(g, List.of(in), Map.of());
        List<NDArray> after = Interpreter.runTensors(folded, List.of(in), Map.of());
        assertEquals(before.size(), after.size());
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(before.get(i).shape(), after.get(i).shape());
            assertArrayEquals(before.get(i).toDoubleArray(), after.get(i).toDoubleArray(), "output " + i);
        }
        for (Op op : folded.body().ops()) {
            if (op.name().equals("constant")) continue;
            boolean allConstant = !op.operands().isEmpty() && op.operands().stream()
                    .allMatch(v -> v.definingOp() != null && v.definingOp().name().equals("constant"));
            if (allConstant && !op.has(dev.kiln.ir.Trait.TERMINATOR) && limit == ConstantFolding.DEFAULT_MAX_BYTES) {
                throw new AssertionError(op.name() + " on constants was left unfolded");
            }
        }
    }

    private static Value binary(Builder b, Random r, Value a, Value c) {
        try {
            return b.op(BINARY.get(r.nextInt(BINARY.size())), a, c);
        } catch (RuntimeException incompatibleShapes) {
            return null;
        }
    }

    private static Value constant(Builder b, Random r, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = r.nextInt(9) == 0 ? 0.0 : r.nextGaussian();
        return b.constant(Attribute.Tensor.fromDoubles(DType.F32, shape, v));
    }

    private static Graph copyOf(Graph g) {
        return dev.kiln.ir.IrParser.parse(dev.kiln.ir.IrPrinter.print(g));
    }
}
