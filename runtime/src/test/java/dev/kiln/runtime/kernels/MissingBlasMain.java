package dev.kiln.runtime.kernels;

import dev.kiln.runtime.NDArray;

/** Entry point for {@link GemmTest}'s child JVM, started with a bogus {@code kiln.openblas.library}. */
public final class MissingBlasMain {
    private MissingBlasMain() {}

    public static void main(String[] args) {
        NDArray a = NDArray.of(new float[] {1, 2, 3, 4}, 2, 2);
        try {
            Gemm.matmul(a, a);
            System.out.println("no error");
        } catch (IllegalStateException e) {
            System.out.println(e.getMessage());
        }
        System.out.println("still usable: " + dev.kiln.runtime.kernels.Elementwise.add(a, a).getFloat(3));
    }
}
