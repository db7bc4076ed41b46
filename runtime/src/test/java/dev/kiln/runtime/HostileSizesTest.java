package dev.kiln.runtime;

import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.KilnException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sizes and attributes from hostile model files at run time: each is a {@link KilnException} naming what is
 * wrong, before any memory is taken, never an ArithmeticException or an OutOfMemoryError.
 */
class HostileSizesTest {

    @Test
    void convAttributeBeyond32BitsIsAKilnErrorNamingIt() {
        Graph g = IrParser.parse("""
                graph @g(%x: f32[1, 1, 4, 4], %w: f32[1, 1, 1, 1]) {
                  %y = conv2d(%x, %w) {stride = [2147483648, 1]} : f32[1, 1, 1, 4]
                  return(%y)
                }
                """);
        KilnException e = assertThrows(KilnException.class,
                () -> Interpreter.run(g, List.of(NDArray.zeros(DType.F32, 1, 1, 4, 4), NDArray.zeros(DType.F32, 1, 1, 1, 1)), Map.of()));
        assertEquals("conv2d: attribute 'stride' entry 0 is 2147483648, outside the 32-bit range the conv2d kernel supports", e.getMessage());
    }

    @Test
    void padByTwoToTheFortyIsRefusedBeforeAllocating() {
        Graph g = IrParser.parse("""
                graph @g(%x: f32[2, 4]) {
                  %y = pad(%x) {pads = [1099511627776, 0], value = 0.0} : f32[2, 1099511627780]
                  return(%y)
                }
                """);
        long before = Allocations.bytes();
        KilnException e = assertThrows(KilnException.class, () -> Interpreter.run(g, List.of(NDArray.zeros(DType.F32, 2, 4)), Map.of()));
        assertTrue(e.getMessage().startsWith("a new tensor: f32 [2, 1099511627780] needs 8796093022240 bytes (8.0 TiB), more than the tensor size limit of"),
                e.getMessage());
        assertTrue(e.getMessage().contains("kiln.maxTensorBytes"), e.getMessage());
        assertTrue(Allocations.bytes() - before < 1 << 20, "allocated " + (Allocations.bytes() - before) + " bytes");
    }

    @Test
    void theLimitIsConfigurableAndChecksOverflow() {
        long old = TensorLimits.setMaxTensorBytes(1024);
        try {
            NDArray.zeros(DType.F32, 16, 16); // exactly 1024 bytes
            KilnException e = assertThrows(KilnException.class, () -> NDArray.zeros(DType.F32, 16, 17));
            assertEquals("a new tensor: f32 [16, 17] needs 1088 bytes (1.1 KiB), more than the tensor size limit of 1024 bytes (1.0 KiB)"
                    + " (system property kiln.maxTensorBytes or TensorLimits.setMaxTensorBytes raise it)", e.getMessage());
        } finally {
            TensorLimits.setMaxTensorBytes(old);
        }
        KilnException overflow = assertThrows(KilnException.class,
                () -> TensorLimits.checkedBytes(DType.F32, new long[] {4, 4611686018427387905L}, "tensor 'w'"));
        assertEquals("tensor 'w': shape [4, 4611686018427387905] has more elements than a 64-bit count holds", overflow.getMessage());
        KilnException bytes = assertThrows(KilnException.class,
                () -> TensorLimits.checkedBytes(DType.F64, new long[] {1L << 61}, "tensor 'w'"));
        assertEquals("tensor 'w': f64 [2305843009213693952] has more bytes than a 64-bit count holds", bytes.getMessage());
    }

    @Test
    void theDefaultIsSixteenGibibytesOrHalfThePhysicalMemory() {
        long d = TensorLimits.defaultMaxTensorBytes();
        assertTrue(d > 0 && d <= 16L << 30, "default " + d);
        assertEquals(16L << 30, TensorLimits.parse("16g"));
        assertEquals(1000, TensorLimits.parse("1000"));
        assertEquals(512L << 20, TensorLimits.parse("512M"));
        assertThrows(KilnException.class, () -> TensorLimits.parse("lots"));
        assertThrows(KilnException.class, () -> TensorLimits.parse("-5"));
    }
}
