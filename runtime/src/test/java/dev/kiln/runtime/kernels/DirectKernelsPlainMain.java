package dev.kiln.runtime.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.kiln.runtime.Elements.F32;

/**
 * Entry point for {@link DirectKernelsAllocationTest}'s child JVMs (one without jdk.incubator.vector, one with
 * {@code -Dkiln.vector=false}): runs small direct kernels, which must take the plain-Java path (and never load
 * OpenBLAS, so no native-access warning appears).
 */
public final class DirectKernelsPlainMain {
    /** What the child prints; {@code $VECTOR} is whether the Vector API kernels were chosen. */
    static final String EXPECTED = "vector=$VECTOR gemv=[17.0, 23.0] gemm=[11.0, 14.0, 17.0, 20.0]"
            + " im2col=[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0] maxpool=[4.0] avgpool=[2.5]";

    private DirectKernelsPlainMain() {}

    public static void main(String[] args) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = of(arena, 1, 2), b = of(arena, 5, 6, 7, 8), c = arena.allocate(4L * 4);
            DirectGemm.sgemm(1, 2, 2, a, 2, b, 2, true, c, 2);           // [1 2] . [[5 6] [7 8]]^T
            String gemv = Arrays.toString(Arrays.copyOf(c.toArray(F32), 2));
            MemorySegment b2 = of(arena, 1, 2, 3, 4, 5, 6, 7, 8);
            DirectGemm.sgemm(1, 4, 2, a, 2, b2, 4, false, c, 4);        // [1 2] . [[1 2 3 4] [5 6 7 8]]
            String gemm = Arrays.toString(c.toArray(F32));
            MemorySegment x = of(arena, 1, 2, 3, 4), col = arena.allocate(4L * 4 * 9);
            DirectConv.im2colF32(x, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 3, 3, col);   // row of tap (0, 0)
            String im2col = Arrays.toString(Arrays.copyOf(col.toArray(F32), 9));
            MemorySegment out = arena.allocate(4);
            DirectPool.maxPool2dF32(x, 1, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1, out);
            String max = Arrays.toString(out.toArray(F32));
            DirectPool.avgPool2dF32(x, 1, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, false, out);
            System.out.println("vector=" + DirectGemm.usesVectorApi() + " gemv=" + gemv + " gemm=" + gemm
                    + " im2col=" + im2col + " maxpool=" + max + " avgpool=" + Arrays.toString(out.toArray(F32)));
        }
    }

    private static MemorySegment of(Arena arena, float... v) {
        MemorySegment s = arena.allocate(4L * v.length);
        MemorySegment.copy(v, 0, s, F32, 0, v.length);
        return s;
    }
}
