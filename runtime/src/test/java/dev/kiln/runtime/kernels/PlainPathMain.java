package dev.kiln.runtime.kernels;

import dev.kiln.runtime.NDArray;

import java.util.Arrays;

/** Entry point for {@link VectorPathTest}'s child JVM, which runs without jdk.incubator.vector. */
public final class PlainPathMain {
    private PlainPathMain() {}

    public static void main(String[] args) {
        NDArray sum = Elementwise.add(NDArray.of(new float[] {1, 2, 3}), NDArray.of(new float[] {4, 5, 6}));
        NDArray relu = Elementwise.relu(NDArray.of(new float[] {-1, 2}));
        System.out.println("vector=" + Elementwise.usesVectorApi() + " add=" + Arrays.toString(sum.toFloatArray())
                + " relu=" + Arrays.toString(relu.toFloatArray()));
    }
}
