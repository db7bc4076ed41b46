package dev.kiln.runtime.kernels;

import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static dev.kiln.runtime.Elements.F32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Vector API row loops and the plain-Java ones must give the same answers. */
class VectorPathTest {
    private static final int MAX = 150;

    @Test
    void surefireRunsWithTheVectorModuleSoTheVectorPathIsSelected() {
        assertTrue(Elementwise.usesVectorApi(), "tests run with --add-modules=jdk.incubator.vector");
    }

    @Test
    void binaryRowsAgreeBitForBitForEveryStrideAndTail() {
        F32Rows vector = new VectorF32Rows(), plain = new PlainF32Rows();
        Random r = new Random(3);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = random(arena, r, 2 * MAX), b = random(arena, r, 2 * MAX);
            MemorySegment v = arena.allocate(4L * MAX), p = arena.allocate(4L * MAX);
            for (BinaryOp op : BinaryOp.values()) {
                for (long sa : new long[] {0, 1, 2}) {
                    for (long sb : new long[] {0, 1, 2}) {
                        for (int n = 0; n < MAX; n += 7) {
                            vector.binary(op, a, 3, sa, b, 5, sb, v, 0, n);
                            plain.binary(op, a, 3, sa, b, 5, sb, p, 0, n);
                            assertSame(p, v, n, 0, op + " strides " + sa + "," + sb + " n=" + n);
                        }
                    }
                }
            }
        }
    }

    @Test
    void unaryRowsAgree() {
        F32Rows vector = new VectorF32Rows(), plain = new PlainF32Rows();
        Random r = new Random(4);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(8L * MAX);
            for (int i = 0; i < 2 * MAX; i++) x.setAtIndex(F32, i, (float) (r.nextGaussian() * 8));
            x.setAtIndex(F32, 10, Float.NaN);
            x.setAtIndex(F32, 11, -0f);
            x.setAtIndex(F32, 12, -100f);
            MemorySegment v = arena.allocate(4L * MAX), p = arena.allocate(4L * MAX);
            for (UnaryOp op : UnaryOp.values()) {
                for (long stride : new long[] {1, 2}) {
                    for (int n = 0; n < MAX; n += 5) {
                        vector.unary(op, x, 1, stride, v, 0, n);
                        plain.unary(op, x, 1, stride, p, 0, n);
                        // exp/tanh intrinsics may differ from StrictMath-based doubles by an ulp or so.
                        double tol = op == UnaryOp.SIGMOID || op == UnaryOp.TANH ? 1e-6 : 0;
                        assertSame(p, v, n, tol, op + " stride " + stride + " n=" + n);
                    }
                }
            }
        }
    }

    @Test
    void publicOpsGiveTheSameTensorsOnBothPaths() {
        Random r = new Random(5);
        NDArray a = Tensors.randomF32(r, 3, 1, 37);
        NDArray b = Tensors.randomF32(r, 4, 37);
        for (BinaryOp op : BinaryOp.values()) {
            float[] fast = Elementwise.binary(op, a, b, F32Rows.best()).toFloatArray();
            float[] plain = Elementwise.binary(op, a, b, new PlainF32Rows()).toFloatArray();
            assertTrue(java.util.Arrays.equals(fast, plain), op.opName);
        }
        float[] fast = Elementwise.unary(UnaryOp.RELU, a, F32Rows.best()).toFloatArray();
        float[] plain = Elementwise.unary(UnaryOp.RELU, a, new PlainF32Rows()).toFloatArray();
        assertTrue(java.util.Arrays.equals(fast, plain), "relu");
    }

    /** Starts a JVM without jdk.incubator.vector: the runtime must still load and compute on the plain path. */
    @Test
    void runtimeWorksInAJvmWithoutTheVectorModule() throws IOException, InterruptedException {
        ChildJvm.Result child = ChildJvm.run(PlainPathMain.class);
        assertEquals(0, child.exitCode(), child.output());
        assertEquals("vector=false add=[5.0, 7.0, 9.0] relu=[0.0, 2.0]", child.output());
    }

    private static MemorySegment random(Arena arena, Random r, int n) {
        MemorySegment s = arena.allocate(4L * n);
        for (int i = 0; i < n; i++) s.setAtIndex(F32, i, r.nextFloat() * 4 - 2);
        return s;
    }

    private static void assertSame(MemorySegment expected, MemorySegment actual, int n, double tol, String what) {
        for (int i = 0; i < n; i++) {
            float e = expected.getAtIndex(F32, i), a = actual.getAtIndex(F32, i);
            boolean ok = tol == 0
                    ? Float.floatToIntBits(e) == Float.floatToIntBits(a)
                    : (Float.isNaN(e) && Float.isNaN(a)) || Math.abs(e - a) <= tol * Math.max(1, Math.abs(e));
            assertTrue(ok, what + ": element " + i + " plain " + e + " vector " + a);
        }
    }
}
