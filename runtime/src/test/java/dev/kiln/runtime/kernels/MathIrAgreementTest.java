package dev.kiln.runtime.kernels;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.InferenceContext;
import dev.kiln.ir.IrException;
import dev.kiln.ir.IrParser;
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

/** The registry's type inference and the kernels must agree on every result's dtype and shape. */
class MathIrAgreementTest {

    private static TensorType inferred(String op, Map<String, Attribute> attrs, NDArray... in) {
        OpSchema s = OpRegistry.get(op);
        List<Type> types = new ArrayList<>();
        for (NDArray a : in) types.add(TensorType.of(a.dtype(), a.shape()));
        s.checkOperands(types);
        s.checkAttributes(attrs);
        return (TensorType) s.inference().infer(new InferenceContext(s, types, attrs, List.of())).get(0);
    }

    private static void agree(String op, Map<String, Attribute> attrs, NDArray... in) {
        TensorType t = inferred(op, attrs, in);
        NDArray out = OpKernels.run(op, attrs, List.of(in));
        assertEquals(t.dtype(), out.dtype(), op + " dtype for " + TensorType.of(in[0].dtype(), in[0].shape()));
        assertArrayEquals(t.shape().toArray(), out.shape(), op + " shape");
    }

    private static String irError(String op, Map<String, Attribute> attrs, NDArray... in) {
        return assertThrows(IrException.class, () -> inferred(op, attrs, in)).getMessage();
    }

    @Test
    void everyNewOpAgreesWithItsInference() {
        NDArray f = NDArray.zeros(DType.F32, 2, 3), d = NDArray.full(DType.F64, 0.5, 3), h = NDArray.zeros(DType.F16, 1, 3);
        NDArray i32 = NDArray.full(DType.I32, 2, 2, 3), u8 = NDArray.full(DType.U8, 3, 3);
        NDArray bools = NDArray.ofBooleans(new boolean[] {true, false, true}, 3);
        for (String op : List.of("abs", "sign", "floor", "ceil", "round", "clamp")) {
            for (NDArray x : List.of(f, d, h, i32, u8)) agree(op, Map.of(), x);
        }
        for (String op : List.of("exp", "log", "log1p", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "erf", "silu",
                "leaky_relu", "elu", "gelu", "softplus")) {
            for (NDArray x : List.of(f, d, h)) agree(op, Map.of(), x);
        }
        agree("pow_scalar", Builder.attrs("exponent", 2.0), d);
        agree("gelu", Builder.attrs("approximate", "tanh"), f);
        agree("logical_not", Map.of(), bools);
        for (String op : List.of("remainder", "maximum", "minimum")) {
            agree(op, Map.of(), f, NDArray.full(DType.F32, 1, 3));
            agree(op, Map.of(), i32, NDArray.full(DType.I32, 1));
        }
        agree("pow", Map.of(), d, NDArray.full(DType.F64, 2, 2, 1));
        for (String op : List.of("ne", "le", "ge")) agree(op, Map.of(), i32, NDArray.full(DType.I32, 1, 3));
        agree("logical_and", Map.of(), bools, NDArray.ofBooleans(new boolean[] {true}, 1, 1));
        agree("logical_or", Map.of(), bools, bools);
        agree("where", Map.of(), bools, f, NDArray.zeros(DType.F32, 1));
        agree("where", Map.of(), NDArray.ofBooleans(new boolean[] {true, false}, 2, 1), i32, NDArray.zeros(DType.I32, 3));
        Map<String, Attribute> axes = Builder.attrs("axes", new long[] {-1}, "keepdim", true);
        for (String op : List.of("sum", "prod", "amax", "amin")) {
            for (NDArray x : List.of(f, d, h, i32, u8)) {
                agree(op, Map.of(), x);
                agree(op, axes, x);
            }
        }
        for (NDArray x : List.of(f, d, h)) agree("logsumexp", axes, x);
        for (String op : List.of("argmax", "argmin")) {
            agree(op, Builder.attrs("axis", 0L), f);
            agree(op, Builder.attrs("axis", -1L, "keepdim", true), i32);
            agree(op, Builder.attrs("axis", 0L), NDArray.full(DType.F32, 3));
        }
    }

    @Test
    void integerSumsAndProductsAreI64InBoth() {
        assertEquals(DType.I64, inferred("sum", Map.of(), NDArray.zeros(DType.I32, 2)).dtype());
        assertEquals(DType.I64, inferred("prod", Map.of(), NDArray.zeros(DType.U8, 2)).dtype());
        assertEquals(DType.F16, inferred("sum", Map.of(), NDArray.zeros(DType.F16, 2)).dtype());
    }

    @Test
    void inferenceRejectsBadInputNamingTheOp() {
        NDArray ints = NDArray.zeros(DType.I32, 2), f = NDArray.zeros(DType.F32, 2);
        NDArray bools = NDArray.ofBooleans(new boolean[] {true, false}, 2);
        assertEquals("exp: needs a floating-point tensor, got i32[2]", irError("exp", Map.of(), ints));
        assertEquals("abs: does not accept bool tensors", irError("abs", Map.of(), bools));
        assertEquals("logical_not: needs a bool tensor, got f32[2]", irError("logical_not", Map.of(), f));
        assertEquals("gelu: approximate must be 'none' or 'tanh', got 'erf'", irError("gelu", Builder.attrs("approximate", "erf"), f));
        assertEquals("clamp: min = 0.5 is not a whole number, so it cannot clamp i32[2]; convert the tensor to a floating-point"
                + " dtype first", irError("clamp", Builder.attrs("min", 0.5), ints));
        assertEquals("pow_scalar: missing required attribute 'exponent'", irError("pow_scalar", Map.of(), f));
        assertEquals("pow: needs floating-point tensors, got i32[2] and i32[2]", irError("pow", Map.of(), ints, ints));
        assertEquals("remainder: dtypes i32 and f32 differ (i32[2] vs f32[2])", irError("remainder", Map.of(), ints, f));
        assertEquals("logical_and: needs bool tensors, got bool[2] and f32[2]", irError("logical_and", Map.of(), bools, f));
        assertEquals("where: cond must be a bool tensor, got f32[2]", irError("where", Map.of(), f, f, f));
        assertEquals("where: shapes [3] and [2] cannot be broadcast together: dimensions 3 and 2 at axis -1 differ and neither"
                + " is 1", irError("where", Map.of(), NDArray.ofBooleans(new boolean[3], 3), f, f));
        assertEquals("sum: does not accept bool tensors", irError("sum", Map.of(), bools));
        assertEquals("logsumexp: needs a floating-point tensor, got i32[2]", irError("logsumexp", Map.of(), ints));
        assertEquals("amax: cannot reduce over axis 1 of f32[2, 0]: it has size 0 and the op has no identity",
                irError("amax", Builder.attrs("axes", new long[] {1}), NDArray.zeros(DType.F32, 2, 0)));
        assertEquals("argmax: missing required attribute 'axis'", irError("argmax", Map.of(), f));
        assertEquals("argmin: axis 2 is out of range for rank 1", irError("argmin", Builder.attrs("axis", 2L), f));
    }

    @Test
    void theInterpreterRunsTheNewOpsFromText() {
        Graph g = IrParser.parse("""
                graph @g(%x: f32[2, 3], %y: f32[3]) {
                  %m = maximum(%x, %y) : f32[2, 3]
                  %c = clamp(%m) {min = -0.5, max = 0.5} : f32[2, 3]
                  %p = gt(%c, %y) : bool[2, 3]
                  %w = where(%p, %c, %y) : f32[2, 3]
                  %l = logsumexp(%w) {axes = [1]} : f32[2]
                  %i = argmax(%x) {axis = 1} : i64[2]
                  return(%l, %i)
                }
                """);
        Verifier.verify(g);
        NDArray x = NDArray.of(new float[] {0.1f, 0.9f, -2f, 3f, -1f, 0.2f}, 2, 3);
        NDArray y = NDArray.of(new float[] {0f, 0.3f, -1f});
        List<NDArray> out = Interpreter.runTensors(g, List.of(x, y), Map.of());
        // row 0: max -> [0.1, 0.9, -1], clamp -> [0.1, 0.5, -0.5], > y -> [t, t, t]: w = [0.1, 0.5, -0.5]
        double row0 = Math.log(Math.exp((double) 0.1f) + Math.exp(0.5) + Math.exp(-0.5));
        assertEquals(row0, out.get(0).getDouble(0), 1e-6);
        assertArrayEquals(new long[] {1, 0}, out.get(1).toLongArray());
    }
}
