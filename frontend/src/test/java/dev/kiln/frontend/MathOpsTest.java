package dev.kiln.frontend;

import dev.kiln.ir.DType;
import dev.kiln.ir.IrException;
import org.junit.jupiter.api.Test;

import static dev.kiln.frontend.Expect.messageHas;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The math ops through the frontend: PyTorch's type promotion, result dtypes and semantics. */
class MathOpsTest {

    private static Tensor i32(int... v) { return Tensor.of(v, v.length); }

    private static Tensor f32(float... v) { return Tensor.of(v, v.length); }

    @Test
    void wideUnsignedDTypesPromoteOnlyToFloats() {
        for (DType u : new DType[] {DType.U16, DType.U32, DType.U64}) {
            assertEquals(u, Promotion.promoteTypes(u, u));
            assertEquals(DType.F32, Promotion.promoteTypes(u, DType.F32));
            assertEquals(DType.F64, Promotion.promoteTypes(DType.F64, u));
            for (DType other : new DType[] {DType.I64, DType.I8, DType.U8, DType.BOOL}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Promotion.promoteTypes(u, other));
                messageHas(e, "u16, u32 and u64 promote only to floating-point dtypes");
            }
        }
        Tensor big = Tensor.zeros(DType.U32, 2);
        assertEquals(DType.U32, big.add(3L).dtype(), "an integer Java scalar keeps the tensor's dtype");
        assertEquals(DType.F32, big.add(Tensor.zeros(DType.F32, 2)).dtype());
    }

    @Test
    void zeroDimTensorsDecideOnlyWhenTheirCategoryIsHigher() {
        Tensor r = i32(1, 2).add(Tensor.scalar(DType.F32, 0.5));
        assertEquals(DType.F32, r.dtype(), "int tensor + 0-d float -> float");
        assertArrayEquals(new float[] {1.5f, 2.5f}, r.toFloatArray());
        assertEquals(DType.F64, Tensor.of(new long[] {1}, 1).mul(Tensor.scalar(DType.F64, 2)).dtype());
        assertEquals(DType.F16, Tensor.zeros(DType.F16, 2).add(Tensor.scalar(DType.F64, 1)).dtype(), "same category: dims win");
        assertEquals(DType.I32, i32(1, 2).add(Tensor.scalar(DType.I64, 1)).dtype());
        assertEquals(DType.F64, Tensor.zeros(DType.F32, 2).maximum(Tensor.zeros(DType.F64, 2)).dtype());
        assertEquals(DType.F32, i32(7).remainder(2.5).dtype(), "Java double scalar lifts ints to the default float");
        assertEquals(0.5, i32(-7).remainder(2.5).item(), 1e-7, "-7 mod 2.5 takes the divisor's sign");
        assertEquals(DType.I32, i32(1).add(3L).dtype());
    }

    @Test
    void integerDivisionIsTrueDivision() {
        Tensor q = i32(7, -7).div(i32(2));
        assertEquals(DType.F32, q.dtype());
        assertArrayEquals(new float[] {3.5f, -3.5f}, q.toFloatArray());
        assertEquals(DType.F32, i32(1).div(2L).dtype());
    }

    @Test
    void integerSumsAndProductsGiveI64AndMeanNeedsFloats() {
        Tensor s = i32(Integer.MAX_VALUE, Integer.MAX_VALUE).sum();
        assertEquals(DType.I64, s.dtype());
        assertEquals(2.0 * Integer.MAX_VALUE, s.item());
        assertEquals(DType.I64, Tensor.ofBooleans(new boolean[] {true, true, false}, 3).sum().dtype());
        assertEquals(2.0, Tensor.ofBooleans(new boolean[] {true, true, false}, 3).sum().item());
        Tensor p = i32(65536, 65536).prod();
        assertEquals(DType.I64, p.dtype());
        assertEquals(4294967296.0, p.item());
        assertEquals(DType.F16, Tensor.ones(DType.F16, 3).prod().dtype());
        messageHas(assertThrows(IrException.class, () -> i32(1, 2).mean()), "mean:", "floating-point");
    }

    @Test
    void floatOnlyOpsPromoteIntsToF32AndIntOpsKeepTheirDtype() {
        assertEquals(DType.F32, i32(0).exp().dtype());
        assertEquals(1.0, i32(0).exp().item());
        assertEquals(DType.F32, i32(1).logsumexp(0, false).dtype());
        assertEquals(DType.F32, i32(4).pow(0.5).dtype());
        assertEquals(DType.F32, i32(4).sqrt().dtype());
        assertEquals(DType.I32, i32(-3).abs().dtype());
        assertArrayEquals(new int[] {3}, new int[] {(int) i32(-3).abs().item()});
        assertEquals(DType.I32, i32(5).round().dtype());
        assertArrayEquals(new long[] {0, 3, 6}, i32(-2, 3, 9).clamp(0, 6).toLongArray());
        assertArrayEquals(new float[] {0f, 3f, 6f}, f32(-2, 3, 9).relu6().toFloatArray());
        assertEquals(DType.F32, i32(1).clamp(0.5, 2).dtype());   // fractional bounds promote, as in PyTorch
        assertEquals(1.0, i32(1).clamp(0.5, 2).item());
        messageHas(assertThrows(IrException.class, () -> i32(1).leakyRelu(0.1)), "leaky_relu:", "floating-point", "i32[1]");
    }

    @Test
    void argmaxAndArgminTakeTheFirstOfTies() {
        assertEquals(1.0, f32(1, 5, 5, 2).argmax().item());
        assertEquals(DType.I64, f32(1, 5, 5, 2).argmax().dtype());
        Tensor m = Tensor.of(new float[] {3, 1, 3, 0, 0, 2}, 2, 3);
        assertArrayEquals(new long[] {0, 2}, m.argmax(1, false).toLongArray(), "row 0 ties at 0 and 2");
        assertArrayEquals(new long[] {1, 0}, m.argmin(1, false).toLongArray(), "row 1 ties at 0 and 1");
        assertArrayEquals(new long[] {1, 3}, m.argmax(0, true).shape());
        assertEquals(3.0, m.argmin().item(), "flattened index");
        assertArrayEquals(new float[] {3, 2}, m.max(1, false).toFloatArray());
        assertEquals(0.0, m.min().item());
    }

    @Test
    void comparisonsLogicAndWherePromoteLikeTorch() {
        Tensor x = f32(1, 2, 3);
        assertArrayEquals(new boolean[] {true, false, true}, x.ne(Tensor.scalar(DType.F32, 2)).toBooleanArray());
        assertArrayEquals(new boolean[] {true, true, false}, x.le(Tensor.scalar(DType.I64, 2)).toBooleanArray());
        assertArrayEquals(new boolean[] {false, true, true}, i32(1, 2, 3).ge(1.5).toBooleanArray());
        assertArrayEquals(new boolean[] {true, false}, f32(Float.NaN, 1).ne(f32(Float.NaN, 1)).toBooleanArray());
        Tensor a = f32(0, 2, -1), b = i32(1, 0, 3);
        assertArrayEquals(new boolean[] {false, false, true}, a.logicalAnd(b).toBooleanArray());
        assertArrayEquals(new boolean[] {true, true, true}, a.logicalOr(b).toBooleanArray());
        assertArrayEquals(new boolean[] {true, false, false}, a.logicalNot().toBooleanArray());
        Tensor w = Tensor.where(x.gt(1.5), Tensor.of(new long[] {7, 8, 9}, 3), Tensor.scalar(DType.F32, -1));
        assertEquals(DType.F32, w.dtype(), "where promotes its branches");
        assertArrayEquals(new float[] {-1, 8, 9}, w.toFloatArray());
    }

    @Test
    void nanPropagatesThroughMaximumAndReductions() {
        Tensor a = f32(1, Float.NaN, 3), b = f32(Float.NaN, 0, 1);
        assertArrayEquals(new float[] {Float.NaN, Float.NaN, 3}, a.maximum(b).toFloatArray());
        assertArrayEquals(new float[] {Float.NaN, Float.NaN, 1}, a.minimum(b).toFloatArray());
        assertEquals(Double.NaN, a.max().item());
        assertEquals(1.0, a.argmax().item(), "nan counts as the maximum");
        assertEquals(Double.NEGATIVE_INFINITY, f32(Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY).logsumexp(0, false).item());
    }

    @Test
    void roundingAndActivationsMatchPyTorchValues() {
        assertArrayEquals(new float[] {0, 2, 2, -0f, -2}, f32(0.5f, 1.5f, 2.5f, -0.5f, -1.5f).round().toFloatArray());
        assertArrayEquals(new float[] {0, 0, 1, -1}, f32(Float.NaN, -0f, 2, -3).sign().toFloatArray());
        float[] gelu = f32(-1, 0, 1).gelu().toFloatArray();
        assertArrayEquals(new float[] {-0.15865526f, 0f, 0.8413447f}, gelu, 1e-7f);
        float[] tanh = f32(1).gelu(true).toFloatArray();
        assertEquals(0.8411920f, tanh[0], 1e-6f);
        assertArrayEquals(new float[] {30f, (float) Math.log1p(Math.exp(1))}, f32(30, 1).softplus().toFloatArray(), 1e-7f);
        assertArrayEquals(new float[] {-0.02f, 3f}, f32(-2, 3).leakyRelu(0.01).toFloatArray(), 1e-9f);
        assertArrayEquals(new float[] {(float) Math.expm1(-1), 2f}, f32(-1, 2).elu(1).toFloatArray(), 1e-7f);
        assertEquals((float) (1 / (1 + Math.exp(-2)) * 2), f32(2).silu().toFloatArray()[0], 1e-6f);
        assertEquals(-8.0, f32(-2).pow(3).item());
        assertEquals(Double.NaN, f32(-8).pow(1.0 / 3).item());
    }

    @Test
    void badInputNamesTheOp() {
        messageHas(assertThrows(IrException.class, () -> f32(1, 2).remainder(f32(1, 2, 3))), "remainder:", "[2]", "[3]");
        messageHas(assertThrows(IrException.class, () -> Tensor.ofBooleans(new boolean[] {true}, 1).abs()), "abs:", "bool");
        messageHas(assertThrows(IrException.class, () -> f32(1, 2).amax(new int[] {2}, false)), "amax:", "axis 2");
        messageHas(assertThrows(IrException.class, () -> Tensor.zeros(2, 0).max(1, false)), "amax:", "size 0");
        messageHas(assertThrows(IllegalArgumentException.class, () -> i32(1).remainder(i32(0))), "remainder:", "by zero");
    }
}
