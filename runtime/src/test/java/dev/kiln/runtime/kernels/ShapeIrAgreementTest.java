package dev.kiln.runtime.kernels;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.InferenceContext;
import dev.kiln.ir.IrException;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.OpRegistry;
import dev.kiln.ir.OpSchema;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Type;
import dev.kiln.ir.Verifier;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.OpKernels;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Registry inference and the shape/index kernels agree on result types; symbolic dims infer sensibly; graphs run. */
class ShapeIrAgreementTest {

    private static TensorType infer(String op, Map<String, Attribute> attrs, TensorType... in) {
        OpSchema s = OpRegistry.get(op);
        List<Type> types = List.of(in);
        s.checkOperands(types);
        s.checkAttributes(attrs);
        return (TensorType) s.inference().infer(new InferenceContext(s, types, attrs, List.of())).get(0);
    }

    private static void agree(String op, Map<String, Attribute> attrs, NDArray... in) {
        List<TensorType> types = new ArrayList<>();
        for (NDArray a : in) types.add(TensorType.of(a.dtype(), a.shape()));
        TensorType t = infer(op, attrs, types.toArray(TensorType[]::new));
        NDArray out = OpKernels.run(op, attrs, List.of(in));
        assertEquals(t.dtype(), out.dtype(), op + " dtype");
        assertArrayEquals(t.shape().toArray(), out.shape(), op + " shape");
    }

    @Test
    void everyOpAgreesWithItsInference() {
        NDArray x = NDArray.zeros(DType.F32, 2, 3, 4), b = NDArray.zeros(DType.BOOL, 3, 1);
        NDArray idx = NDArray.zeros(DType.I64, 2, 2, 4), vec = NDArray.of(new long[] {0, 2, 2});
        agree("expand", Builder.attrs("shape", new long[] {5, -1, 4}), b);
        agree("slice", Builder.attrs("axis", -1, "start", -3, "end", 100, "step", 2), x);
        agree("cat", Builder.attrs("axis", 1), x, NDArray.zeros(DType.F32, 2, 5, 4), x);
        agree("pad", Builder.attrs("pads", new long[] {1, -2, 0, 3}), x);
        agree("pad", Builder.attrs("pads", new long[] {2, 2}, "value", 1.0), b);
        agree("flip", Builder.attrs("axes", new long[] {0, -1}), b);
        agree("repeat", Builder.attrs("repeats", new long[] {2, 1, 3}), b);
        agree("tril", Map.of(), x);
        agree("triu", Builder.attrs("diagonal", -1), b);
        agree("gather", Builder.attrs("axis", 1), x, idx);
        agree("index_select", Builder.attrs("axis", 2), x, vec);
        agree("index_select", Builder.attrs("axis", 0), b, NDArray.of(new int[] {1, 1, 0, 2}));
        agree("scatter", Builder.attrs("axis", 1), x, idx, x);
        agree("scatter_add", Builder.attrs("axis", -2), x, idx, x);
        agree("index_add", Builder.attrs("axis", 1), x, vec, NDArray.zeros(DType.F32, 2, 3, 4));
        agree("slice_scatter", Builder.attrs("axis", 2, "start", 1, "end", 4, "step", 2), x, NDArray.zeros(DType.F32, 2, 3, 2));
    }

    @Test
    void symbolicDimsSurviveWhereTheyCan() {
        TensorType x = TensorType.of(DType.F32, Dim.sym("N"), Dim.of(1), Dim.of(4));
        assertEquals("f32[N, 3, 4]", infer("expand", Builder.attrs("shape", new long[] {-1, 3, -1}), x).toString());
        assertEquals("f32[N, 1, 2]", infer("slice", Builder.attrs("axis", 2, "start", 1, "end", 3), x).toString());
        assertEquals("f32[?, 1, 4]", infer("slice", Builder.attrs("axis", 0, "start", 1, "end", 3), x).toString());
        assertEquals("f32[N, 1, 4]", infer("slice", Builder.attrs("axis", 0, "start", 0, "end", Long.MAX_VALUE), x).toString());
        assertEquals("f32[N, 2, 4]", infer("cat", Builder.attrs("axis", 1), x, x).toString());
        assertEquals("f32[?, 1, 4]", infer("cat", Builder.attrs("axis", 0), x, x).toString());
        assertEquals("f32[N, 3, 2]", infer("pad", Builder.attrs("pads", new long[] {-1, -1, 1, 1}), x).toString());
        assertEquals("f32[N, 2, 4]", infer("repeat", Builder.attrs("repeats", new long[] {1, 2, 1}), x).toString());
        assertEquals("f32[2, ?, 1, 4]", infer("repeat", Builder.attrs("repeats", new long[] {2, 3, 1, 1}), x).toString());
    }

    @Test
    void inferenceErrorsNameTheOp() {
        TensorType x = TensorType.of(DType.F32, 2, 3);
        assertEquals("cat: needs at least one tensor", assertThrows(IrException.class, () -> infer("cat", Builder.attrs("axis", 0))).getMessage());
        assertEquals("cat: tensors must share a dtype: f32[2, 3] (position 0) and i64[2, 3] (position 1)",
                assertThrows(IrException.class, () -> infer("cat", Builder.attrs("axis", 0), x, TensorType.of(DType.I64, 2, 3))).getMessage());
        assertEquals("gather: index must be i64, got i32[2, 3]",
                assertThrows(IrException.class, () -> infer("gather", Builder.attrs("axis", 0), x, TensorType.of(DType.I32, 2, 3))).getMessage());
        assertEquals("scatter_add: does not accept bool tensors", assertThrows(IrException.class, () -> infer("scatter_add",
                Builder.attrs("axis", 0), TensorType.of(DType.BOOL, 2), TensorType.of(DType.I64, 2), TensorType.of(DType.BOOL, 2))).getMessage());
    }

    @Test
    void aParsedGraphRunsInTheInterpreter() {
        Graph g = IrParser.parse("""
                graph @layout(%x: f32[2, 3], %i: i64[2, 1]) {
                  %c = cat(%x, %x) {axis = 1} : f32[2, 6]
                  %s = slice(%c) {axis = 1, start = 1, end = 6, step = 2} : f32[2, 3]
                  %p = pad(%s) {pads = [1, 0], value = -1.0} : f32[2, 4]
                  %f = flip(%p) {axes = [0]} : f32[2, 4]
                  %g = gather(%f, %i) {axis = 1} : f32[2, 1]
                  %e = expand(%g) {shape = [-1, 3]} : f32[2, 3]
                  return(%e)
                }
                """);
        Verifier.verify(g);
        assertEquals(IrPrinter.print(g), IrPrinter.print(IrParser.parse(IrPrinter.print(g))));
        NDArray x = NDArray.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        NDArray out = Interpreter.runTensors(g, List.of(x, NDArray.of(new long[] {0, 2}, 2, 1)), Map.of()).get(0);
        // c rows: [1 2 3 1 2 3], [4 5 6 4 5 6]; s: [2 1 3], [5 4 6]; p: [-1 2 1 3], [-1 5 4 6]; f swaps rows.
        assertArrayEquals(new float[] {-1, -1, -1, 1, 1, 1}, out.toFloatArray());
    }
}
