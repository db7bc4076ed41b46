package dev.kiln.onnx;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.onnx.proto.OnnxProtos.AttributeProto;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import dev.kiln.onnx.proto.OnnxProtos.OperatorSetIdProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorShapeProto;
import dev.kiln.onnx.proto.OnnxProtos.TypeProto;
import dev.kiln.onnx.proto.OnnxProtos.ValueInfoProto;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hand-built ONNX graphs in PyTorch's style whose Reshape and Expand targets are computed from the
 * shape of a dynamically sized input: they import with symbolic size lists and run at every batch
 * size; what size lists cannot express fails naming the node and what it computes.
 */
class SymbolicShapeImportTest {

    private static final int FLOAT = TensorProto.DataType.FLOAT.getNumber();

    /** A small ONNX graph builder: inputs, constants, nodes and one output. */
    private static final class G {
        final GraphProto.Builder g = GraphProto.newBuilder().setName("g");
        int opset = 17;

        G input(String name, Object... dims) {
            g.addInput(info(name, FLOAT, dims));
            return this;
        }

        G ints(String name, long... values) {
            return node("Constant", List.of(), List.of(name), AttributeProto.newBuilder().setName("value")
                    .setType(AttributeProto.AttributeType.TENSOR).setT(OnnxTensors.fromArray(name, NDArray.of(values, values.length))).build());
        }

        G scalarInt(String name, long value) {
            return node("Constant", List.of(), List.of(name), AttributeProto.newBuilder().setName("value")
                    .setType(AttributeProto.AttributeType.TENSOR).setT(OnnxTensors.fromArray(name, NDArray.full(DType.I64, value))).build());
        }

        G node(String op, List<String> in, List<String> out, AttributeProto... attrs) {
            NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(op.toLowerCase() + "_" + g.getNodeCount())
                    .addAllInput(in).addAllOutput(out);
            for (AttributeProto a : attrs) n.addAttribute(a);
            g.addNode(n);
            return this;
        }

        ModelProto model(String output) {
            g.addOutput(ValueInfoProto.newBuilder().setName(output));
            return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(opset))
                    .setGraph(g).build();
        }
    }

    private static ValueInfoProto info(String name, int elemType, Object... dims) {
        var shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            if (d instanceof String s) shape.addDimBuilder().setDimParam(s);
            else shape.addDimBuilder().setDimValue(((Number) d).longValue());
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static NDArray random(long seed, long... shape) {
        Random r = new Random(seed);
        long n = 1;
        for (long s : shape) n *= s;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return NDArray.of(v, shape);
    }

    /** The ops named {@code name} that read the graph input (not the import-time index arithmetic left beside them). */
    private static List<Op> ops(ImportedModel m, String name) {
        return m.graph().body().ops().stream()
                .filter(op -> op.name().equals(name) && op.operand(0) == m.graph().inputs().get(0)).toList();
    }

    /** PyTorch's {@code x.view(x.size(0), -1)}: Shape → Gather(0) → Unsqueeze → Concat with [-1] → Reshape. */
    @Test
    void pytorchFlattenByTheBatchSizeRunsAtEveryBatch() {
        ModelProto model = new G().input("x", "batch", 3, 4)
                .node("Shape", List.of("x"), List.of("s"))
                .scalarInt("zero", 0)
                .node("Gather", List.of("s", "zero"), List.of("n"), intAttr("axis", 0))
                .ints("axes", 0)
                .node("Unsqueeze", List.of("n", "axes"), List.of("n1"))
                .ints("minus_one", -1)
                .node("Concat", List.of("n1", "minus_one"), List.of("target"), intAttr("axis", 0))
                .node("Reshape", List.of("x", "target"), List.of("y"))
                .model("y");
        ImportedModel m = OnnxImporter.fromProto(model, null);
        Op reshape = ops(m, "reshape").get(0);
        assertEquals(new Attribute.Dims(new long[] {0, -1}, new String[] {"batch", null}), reshape.attr("shape"), IrPrinter.print(m.graph()));
        assertEquals(TensorType.of(DType.F32, Dim.sym("batch"), Dim.of(12)), reshape.result().type());
        for (int batch : new int[] {2, 5}) {
            NDArray x = random(batch, batch, 3, 4);
            NDArray y = m.run(List.of(x)).get(0);
            assertArrayEquals(new long[] {batch, 12}, y.shape());
            assertArrayEquals(x.toFloatArray(), y.toFloatArray());
        }
    }

    /** Shape → Slice → Concat → Expand, with opset 13's Unsqueeze-free form and a static tail folded to a constant. */
    @Test
    void expandToASlicedShapeRunsAtEveryBatch() {
        ModelProto model = new G().input("x", "N", 1, 4)
                .node("Shape", List.of("x"), List.of("s"))
                .ints("start", 0).ints("end", 1)
                .node("Slice", List.of("s", "start", "end"), List.of("lead"))
                .ints("tail_start", -1).ints("tail_end", Long.MAX_VALUE)
                .node("Slice", List.of("s", "tail_start", "tail_end"), List.of("tail"))
                .ints("three", 3)
                .node("Concat", List.of("lead", "three", "tail"), List.of("target"), intAttr("axis", 0))
                .node("Expand", List.of("x", "target"), List.of("y"))
                .model("y");
        ImportedModel m = OnnxImporter.fromProto(model, null);
        Op expand = ops(m, "expand").get(0);
        assertEquals(TensorType.of(DType.F32, Dim.sym("N"), Dim.of(3), Dim.of(4)), expand.result().type(), IrPrinter.print(m.graph()));
        for (int batch : new int[] {1, 6}) {
            NDArray x = random(batch, batch, 1, 4);
            NDArray y = m.run(List.of(x)).get(0);
            assertArrayEquals(new long[] {batch, 3, 4}, y.shape());
            float[] xs = x.toFloatArray(), ys = y.toFloatArray();
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < 3; r++) {
                    for (int c = 0; c < 4; c++) assertEquals(xs[b * 4 + c], ys[(b * 3 + r) * 4 + c]);
                }
            }
        }
    }

    /** Size → Div → Unsqueeze → Concat and Gather → Mul: multiples of N reach Reshape, which infers the one it cannot name. */
    @Test
    void sizeArithmeticReshapesRunAtEveryBatch() {
        ModelProto model = new G().input("x", "N", 4, 6)
                .node("Size", List.of("x"), List.of("numel"))
                .scalarInt("six", 6)
                .node("Div", List.of("numel", "six"), List.of("rows"))      // 24*N / 6 = 4*N
                .ints("axes", 0)
                .node("Unsqueeze", List.of("rows", "axes"), List.of("rows1"))
                .node("Shape", List.of("x"), List.of("s"))
                .ints("last", 2)
                .node("Gather", List.of("s", "last"), List.of("cols"), intAttr("axis", 0))
                .node("Concat", List.of("rows1", "cols"), List.of("target"), intAttr("axis", 0))
                .node("Reshape", List.of("x", "target"), List.of("y"))
                .model("y");
        ImportedModel m = OnnxImporter.fromProto(model, null);
        for (int batch : new int[] {1, 3}) {
            NDArray x = random(batch, batch, 4, 6);
            NDArray y = m.run(List.of(x)).get(0);
            assertArrayEquals(new long[] {4L * batch, 6}, y.shape());
            assertArrayEquals(x.toFloatArray(), y.toFloatArray());
        }
    }

    /** ConstantOfShape of a dynamic shape: the fill value expanded to the symbolic sizes, here {@code x + ones_like(x)}. */
    @Test
    void constantOfShapeFollowsTheBatch() {
        AttributeProto one = AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                .setT(OnnxTensors.fromArray("one", NDArray.of(new float[] {1f}, 1))).build();
        ModelProto model = new G().input("x", "N", 3)
                .node("Shape", List.of("x"), List.of("s"))
                .node("ConstantOfShape", List.of("s"), List.of("ones"), one)
                .node("Add", List.of("x", "ones"), List.of("y"))
                .model("y");
        ImportedModel m = OnnxImporter.fromProto(model, null);
        for (int batch : new int[] {2, 4}) {
            NDArray x = random(batch, batch, 3);
            float[] want = x.toFloatArray();
            for (int i = 0; i < want.length; i++) want[i] += 1f;
            assertArrayEquals(want, m.run(List.of(x)).get(0).toFloatArray());
        }
    }

    /** A Slice whose end is read with Shape and equals the sliced dim, as in {@code x[:, :y.shape[1]]} with matching sizes. */
    @Test
    void sliceToTheRunTimeSizeOfTheSlicedDimIsWhole() {
        ModelProto model = new G().input("x", "N", "T")
                .node("Shape", List.of("x"), List.of("s"))
                .ints("one", 1)
                .ints("two", 2)
                .node("Slice", List.of("s", "one", "two"), List.of("t"))
                .ints("zero", 0)
                .node("Slice", List.of("x", "zero", "t", "one"), List.of("y"))
                .model("y");
        ImportedModel m = OnnxImporter.fromProto(model, null);
        NDArray x = random(1, 2, 5);
        assertArrayEquals(x.toFloatArray(), m.run(List.of(x)).get(0).toFloatArray());
    }

    /**
     * Slices of a shape value pick the same sizes as the importer's ordinary path, which folds them
     * with the reference kernels when the input is bound to data (an independent reference for the clamping).
     */
    @Property(tries = 40)
    void slicedSizesMatchTheStaticFold(@ForAll @IntRange(min = 1, max = 5) int batch,
                                       @ForAll @IntRange(min = -4, max = 4) int start,
                                       @ForAll @IntRange(min = -4, max = 4) int end,
                                       @ForAll @IntRange(min = -2, max = 2) int step) {
        ModelProto model = new G().input("x", "N", 2, 3)
                .node("Shape", List.of("x"), List.of("s"))
                .ints("starts", start).ints("ends", end).ints("axes", 0).ints("steps", step == 0 ? 1 : step)
                .node("Slice", List.of("s", "starts", "ends", "axes", "steps"), List.of("picked"))
                .scalarInt("last", -1)
                .node("Gather", List.of("s", "last"), List.of("three"), intAttr("axis", 0))
                .ints("axes0", 0)
                .node("Unsqueeze", List.of("three", "axes0"), List.of("three1"))
                .node("Concat", List.of("picked", "three1", "s"), List.of("y"), intAttr("axis", 0))
                .node("ConstantOfShape", List.of("y"), List.of("z"))
                .model("z");
        NDArray x = random(batch, batch, 2, 3);
        long[] symbolic = OnnxImporter.fromProto(model, null).run(List.of(x)).get(0).shape();
        ImportedModel bound = OnnxImporter.fromProto(model, null, ImportOptions.defaults().withConstantInputs(Map.of("x", x)));
        assertArrayEquals(bound.run(List.of()).get(0).shape(), symbolic);
    }

    /** Size arithmetic agrees with integer arithmetic on the sizes the symbols take at run time, whenever it gives a result. */
    @Property(tries = 200)
    void sizeArithmeticAgreesWithEveryBinding(@ForAll @IntRange(min = -3, max = 6) int ca, @ForAll @IntRange(min = 0, max = 2) int na,
                                              @ForAll @IntRange(min = -3, max = 6) int cb, @ForAll @IntRange(min = 0, max = 2) int nb,
                                              @ForAll @IntRange(min = 1, max = 9) int n, @ForAll @IntRange(min = 1, max = 9) int m) {
        ImportSymbolicShape.Size a = size(ca, na, "N", "M"), b = size(cb, nb, "M", "N");
        Map<String, Long> at = Map.of("N", (long) n, "M", (long) m);
        assertEquals(eval(a, at) * eval(b, at), eval(a.times(b), at));
        ImportSymbolicShape.Size sum = a.plus(b, 1), diff = a.plus(b, -1);
        if (sum != null) assertEquals(eval(a, at) + eval(b, at), eval(sum, at));
        if (diff != null) assertEquals(eval(a, at) - eval(b, at), eval(diff, at));
        if (a.symbols().equals(b.symbols())) assertTrue(sum != null && diff != null, "like terms must combine: " + a + ", " + b);
        if (cb != 0) {
            ImportSymbolicShape.Size q = a.dividedBy(b);
            if (q != null) assertEquals(eval(a, at) / eval(b, at), eval(q, at), a + " / " + b + " = " + q); // truncating, as ONNX Div
            if (q == null) assertTrue(!a.isStatic() || !b.isStatic(), "static sizes always divide: " + a + " / " + b);
        }
    }

    /** {@code coeff} times the first {@code count} of {@code symbols}. */
    private static ImportSymbolicShape.Size size(long coeff, int count, String... symbols) {
        return new ImportSymbolicShape.Size(coeff, List.of(symbols).subList(0, count));
    }

    private static long eval(ImportSymbolicShape.Size s, Map<String, Long> at) {
        long v = s.coeff();
        for (String sym : s.symbols()) v *= at.get(sym);
        return v;
    }

    // ---- what stays unsupported

    @Test
    void sizesThatSizeListsCannotExpressNameTheNode() {
        ModelProto plusOne = new G().input("x", "N", 4)
                .node("Shape", List.of("x"), List.of("s"))
                .ints("one", 1)
                .node("Add", List.of("s", "one"), List.of("bigger"))
                .node("ConstantOfShape", List.of("bigger"), List.of("y"))
                .model("y");
        ImportNeedsConstantException e = assertThrows(ImportNeedsConstantException.class, () -> OnnxImporter.fromProto(plusOne, null));
        assertTrue(e.getMessage().startsWith("node 2 'add_2' (Add): computes the run-time size N + 1"), e.getMessage());
        assertEquals(Set.of("x"), e.graphInputs());

        ModelProto twoProducts = new G().input("x", "N", "M")
                .node("Shape", List.of("x"), List.of("s"))
                .node("Mul", List.of("s", "s"), List.of("squares"))
                .node("Reshape", List.of("x", "squares"), List.of("y"))
                .model("y");
        e = assertThrows(ImportNeedsConstantException.class, () -> OnnxImporter.fromProto(twoProducts, null));
        assertTrue(e.getMessage().contains("(Reshape): reshapes to [N*N, M*M]"), e.getMessage());

        ModelProto asData = new G().input("x", "N", 4)
                .node("Shape", List.of("x"), List.of("s"))
                .node("Cast", List.of("s"), List.of("f"), intAttr("to", FLOAT))
                .model("f");
        e = assertThrows(ImportNeedsConstantException.class, () -> OnnxImporter.fromProto(asData, null));
        assertTrue(e.getMessage().contains("(Cast): casts the run-time sizes [N, 4] to f32"), e.getMessage());

        G mixed = new G().input("x", "N", 4);
        mixed.g.addInput(info("k", TensorProto.DataType.INT64.getNumber(), 2));
        ModelProto withData = mixed.node("Shape", List.of("x"), List.of("s"))
                .node("Mul", List.of("s", "k"), List.of("scaled"))
                .node("Reshape", List.of("x", "scaled"), List.of("y"))
                .model("y");
        e = assertThrows(ImportNeedsConstantException.class, () -> OnnxImporter.fromProto(withData, null));
        assertTrue(e.getMessage().contains("(Mul): combines run-time sizes with input 1 ('k'), tensor data computed at run time"), e.getMessage());
        assertEquals(Set.of("x", "k"), e.graphInputs());

        // an op with no notion of shape values: the safety net names the node and the sizes
        ModelProto reduced = new G().input("x", "N", 4)
                .node("Shape", List.of("x"), List.of("s"))
                .node("ReduceProd", List.of("s"), List.of("p"), intAttr("keepdims", 0))
                .model("p");
        e = assertThrows(ImportNeedsConstantException.class, () -> OnnxImporter.fromProto(reduced, null));
        assertTrue(e.getMessage().contains("(ReduceProd): input 0 ('s') holds the run-time sizes [N, 4]"), e.getMessage());

        ModelProto output = new G().input("x", "N", 4).node("Shape", List.of("x"), List.of("s")).model("s");
        e = assertThrows(ImportNeedsConstantException.class, () -> OnnxImporter.fromProto(output, null));
        assertTrue(e.getMessage().contains("graph output 's' is the run-time size list [N, 4]"), e.getMessage());

        // a size read with Shape where the consumer needs an integer: the message says which sizes and which graph inputs
        ModelProto padded = new G().input("x", "N", 4)
                .node("Shape", List.of("x"), List.of("s"))
                .node("Concat", List.of("s", "s"), List.of("pads"), intAttr("axis", 0))
                .node("Pad", List.of("x", "pads"), List.of("y"))
                .model("y");
        e = assertThrows(ImportNeedsConstantException.class, () -> OnnxImporter.fromProto(padded, null));
        assertTrue(e.getMessage().contains("(Pad): input 1 ('pads') must be known at import time, but it holds the run-time sizes [N, 4, N, 4]"),
                e.getMessage());
    }

    /** A Reshape target computed from tensor values is data-dependent: it needs the input bound as a constant. */
    @Test
    void aReshapeTargetComputedFromTensorValuesNeedsConstants() {
        G g = new G().input("x", "N", 6);
        g.g.addInput(info("sizes", TensorProto.DataType.INT64.getNumber(), 2));
        ModelProto model = g.node("Abs", List.of("sizes"), List.of("target"))
                .node("Reshape", List.of("x", "target"), List.of("y"))
                .model("y");
        ImportNeedsConstantException e = assertThrows(ImportNeedsConstantException.class, () -> OnnxImporter.fromProto(model, null));
        assertTrue(e.getMessage().contains("(Reshape): input 1 ('target') must be known at import time"), e.getMessage());
        assertEquals(Set.of("sizes"), e.graphInputs());
        ImportedModel bound = OnnxImporter.fromProto(model, null,
                ImportOptions.defaults().withConstantInputs(Map.of("sizes", NDArray.of(new long[] {-3, 2}, 2))));
        assertArrayEquals(new long[] {3, 2}, bound.run(List.of(random(1, 1, 6))).get(0).shape());
    }

    /** Binding the input whose dims a shape value reads makes it static again, so the node folds as before. */
    @Test
    void aFullyStaticShapeStillFoldsToAConstant() {
        ModelProto model = new G().input("x", 2, 3, 4)
                .node("Shape", List.of("x"), List.of("s"))
                .ints("axes", 0)
                .scalarInt("zero", 0)
                .node("Gather", List.of("s", "zero"), List.of("n"), intAttr("axis", 0))
                .node("Unsqueeze", List.of("n", "axes"), List.of("n1"))
                .ints("minus_one", -1)
                .node("Concat", List.of("n1", "minus_one"), List.of("target"), intAttr("axis", 0))
                .node("Reshape", List.of("x", "target"), List.of("y"))
                .model("y");
        ImportedModel m = OnnxImporter.fromProto(model, null);
        assertEquals(new Attribute.Ints(new long[] {2, 12}), ops(m, "reshape").get(0).attr("shape"), IrPrinter.print(m.graph()));
    }
}
