package dev.kiln.ir;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The storage-only dtypes in the IR: names, text round-trip, constants, and which ops accept them. */
class StorageDTypesTest {

    @Test
    void namesAndPredicates() {
        assertEquals(List.of("f8e4m3fn", "f8e4m3fnuz", "f8e5m2", "f8e5m2fnuz", "f4e2m1", "f8e8m0", "i4", "u4", "i2", "u2"),
                java.util.Arrays.stream(DType.values()).filter(DType::isStorageOnly).map(DType::irName).toList());
        for (DType t : DType.values()) {
            assertEquals(t, DType.fromIrName(t.irName()));
            if (t.isStorageOnly()) assertEquals(1, t.byteSize(), t + " is kept one element per byte");
        }
        assertTrue(DType.F8E5M2.isFloatingPoint());
        assertTrue(DType.U2.isInteger());
        assertFalse(DType.BF16.isStorageOnly());
        assertEquals(4, DType.F4E2M1.codecBits());
        assertEquals(2, DType.I2.codecBits());
    }

    @Test
    void textRoundTripsWithCastsViewsAndConstants() {
        String text = """
                graph @quantised(%w: f8e4m3fn[2, 3], %s: f8e8m0[2], %q: i4[6], %u: u2[4], %h: f16[3]) {
                  %0 = cast(%w) {dtype = f32} : f32[2, 3]
                  %1 = reshape(%q) {shape = [2, 3]} : i4[2, 3]
                  %2 = permute(%1) {perm = [1, 0]} : i4[3, 2]
                  %3 = cast(%h) {dtype = f8e5m2, saturate = false} : f8e5m2[3]
                  %4 = cast(%0) {dtype = f8e8m0, round_mode = "nearest"} : f8e8m0[2, 3]
                  %5 = constant() {value = dense<f8e4m3fn[4]: [0.5, -448.0, 0.001953125, nan]>} : f8e4m3fn[4]
                  %6 = constant() {value = dense<f4e2m1[3]: [6.0, -0.0, 1.5]>} : f4e2m1[3]
                  %7 = constant() {value = dense<i4[3]: [-8, 7, 0]>} : i4[3]
                  %8 = constant() {value = dense<u2[2]: [3, 0]>} : u2[2]
                  %9 = cat(%w, %w) {axis = 0} : f8e4m3fn[4, 3]
                  %10 = constant() {value = dense<f8e8m0[2]: [5.877472E-39, 1.0]>} : f8e8m0[2]
                  return(%0, %2, %3, %4, %5, %6, %7, %8, %9, %10, %s, %u)
                }
                """;
        Graph g = IrParser.parse(text);
        Verifier.verify(g);
        assertEquals(text, IrPrinter.print(g));
    }

    @Test
    void literalsRoundAndRangeCheck() {
        // 1000 saturates to the largest f8e4m3fn (448); 0.3 rounds to the nearest code, 0.3125
        Attribute.Tensor t = (Attribute.Tensor) constantOf("dense<f8e4m3fn[2]: [1000.0, 0.3]>", "f8e4m3fn[2]").attr("value");
        assertArrayEquals(new byte[] {0x7E, 0x2A}, t.data());
        assertEquals(0.3125, t.elementAsDouble(1));
        ParseException e = assertThrows(ParseException.class, () -> constantOf("dense<i4[1]: [8]>", "i4[1]"));
        assertTrue(e.getMessage().contains("element 8 is out of range for i4 [-8, 7]"), e.getMessage());
        assertThrows(ParseException.class, () -> constantOf("dense<u2[1]: [-1]>", "u2[1]"));
        assertArrayEquals(new byte[] {-1, 1}, Attribute.Tensor.fromDoubles(DType.I4, new long[] {2}, new double[] {15, -15.9}).data());
    }

    private static Op constantOf(String literal, String type) {
        Graph g = IrParser.parse("graph @g() {\n  %0 = constant() {value = " + literal + "} : " + type + "\n  return(%0)\n}\n");
        return g.body().ops().get(0);
    }

    @Test
    void arithmeticRejectsStorageDTypesWithAHint() {
        Graph g = new Graph("g");
        Value x = g.addInput("x", TensorType.of(DType.F8E4M3FN, 2, 3));
        Value q = g.addInput("q", TensorType.of(DType.I4, 6));
        Builder b = Builder.atEnd(g.body());
        IrException add = assertThrows(IrException.class, () -> b.op("add", x, x));
        assertEquals("add: does not accept f8e4m3fn tensors (f8e4m3fn is a storage-only dtype); cast to f32 first", add.getMessage());
        assertThrows(IrException.class, () -> b.op("relu", x));
        assertThrows(IrException.class, () -> b.op("sum", q));
        assertThrows(IrException.class, () -> b.op("matmul", x, b.op("permute", Builder.attrs("perm", new long[] {1, 0}), x)));
        // data movement and conversion are fine
        Value f = b.op("cast", Builder.attrs("dtype", DType.F32), x);
        assertEquals(TensorType.of(DType.F32, 2, 3), f.type());
        assertEquals(TensorType.of(DType.I4, 2, 3), b.op("reshape", Builder.attrs("shape", new long[] {2, 3}), q).type());
        Value idx = b.constant(Attribute.Tensor.fromDoubles(DType.I64, new long[] {1}, new double[] {1}));
        assertEquals(TensorType.of(DType.F8E4M3FN, 2, 1), b.op("index_select", Builder.attrs("axis", 1L), x, idx).type());
        assertEquals(ScalarType.INT, b.op("item", b.op("slice", Builder.attrs("axis", 0L, "start", 0L, "end", 1L), q)).type());
    }

    @Test
    void castRejectsAnUnknownRoundMode() {
        Graph g = new Graph("g");
        Value x = g.addInput("x", TensorType.of(DType.F32, 2));
        IrException e = assertThrows(IrException.class, () -> Builder.atEnd(g.body())
                .op("cast", Builder.attrs("dtype", DType.F8E8M0, "round_mode", "sideways"), x));
        assertEquals("cast: round_mode must be one of [up, down, nearest], got 'sideways'", e.getMessage());
    }
}
