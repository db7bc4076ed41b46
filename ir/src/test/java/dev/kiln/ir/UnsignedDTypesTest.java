package dev.kiln.ir;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** u16, u32 and u64 in the IR: names, arithmetic accepted, text round-trip of constants past the signed range. */
class UnsignedDTypesTest {

    @Test
    void namesSizesAndPredicates() {
        assertEquals(DType.U16, DType.fromIrName("u16"));
        assertEquals(DType.U32, DType.fromIrName("u32"));
        assertEquals(DType.U64, DType.fromIrName("u64"));
        assertEquals(2, DType.U16.byteSize());
        assertEquals(4, DType.U32.byteSize());
        assertEquals(8, DType.U64.byteSize());
        for (DType t : new DType[] {DType.U16, DType.U32, DType.U64}) {
            assertTrue(t.isInteger() && t.isUnsigned(), t + " is an unsigned integer");
            assertFalse(t.isStorageOnly(), t + " computes");
        }
        assertFalse(DType.I64.isUnsigned());
    }

    @Test
    void constantsPastTheSignedRangeRoundTrip() {
        String text = """
                graph @unsigned(%a: u64[3], %b: u32[2], %c: u16[2]) {
                  %0 = constant() {value = dense<u64[3]: [18446744073709551615, 9223372036854775813, 0]>} : u64[3]
                  %1 = div(%a, %0) : u64[3]
                  %2 = gt(%a, %0) : bool[3]
                  %3 = constant() {value = dense<u32[2]: [4294967295, 7]>} : u32[2]
                  %4 = add(%b, %3) : u32[2]
                  %5 = constant() {value = dense<u16[2]: [65535, 1]>} : u16[2]
                  %6 = maximum(%c, %5) : u16[2]
                  %7 = cast(%a) {dtype = f64} : f64[3]
                  return(%1, %2, %4, %6, %7)
                }
                """;
        Graph g = IrParser.parse(text);
        Verifier.verify(g);
        assertEquals(text, IrPrinter.print(g));
        Attribute.Tensor big = (Attribute.Tensor) g.body().ops().get(0).attr("value");
        assertEquals(0x1p64, big.elementAsDouble(0));
        assertEquals(0x1p63, big.elementAsDouble(1));
        assertArrayEquals(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1}, java.util.Arrays.copyOf(big.data(), 8));
    }

    @Test
    void literalsAreRangeChecked() {
        assertThrows(ParseException.class, () -> IrParser.parse(
                "graph @g() {\n  %0 = constant() {value = dense<u64[1]: [18446744073709551616]>} : u64[1]\n  return(%0)\n}\n"));
        assertThrows(ParseException.class, () -> IrParser.parse(
                "graph @g() {\n  %0 = constant() {value = dense<u32[1]: [-1]>} : u32[1]\n  return(%0)\n}\n"));
        assertThrows(ParseException.class, () -> IrParser.parse(
                "graph @g() {\n  %0 = constant() {value = dense<u16[1]: [65536]>} : u16[1]\n  return(%0)\n}\n"));
    }

    @Test
    void doublesConvertToAndFromU64Bits() {
        assertEquals(0x1p64, DType.u64ToDouble(-1L));
        assertEquals(0x1p63, DType.u64ToDouble(Long.MIN_VALUE));
        assertEquals(Long.MIN_VALUE + 2048, DType.doubleToU64(0x1p63 + 2048));
        assertEquals(-1L, DType.doubleToU64(1e30));
        assertEquals(5L, DType.doubleToU64(5.9));
    }
}
