package dev.kiln.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** An ordered list of dims; rank 0 is a scalar tensor. Printed as {@code [N, 1, 28, 28]}. */
public record Shape(List<Dim> dims) {

    public Shape {
        dims = List.copyOf(dims);
    }

    public static Shape of(long... sizes) {
        return new Shape(Arrays.stream(sizes).mapToObj(Dim::of).toList());
    }

    public static Shape of(Dim... dims) {
        return new Shape(List.of(dims));
    }

    public static final Shape SCALAR = new Shape(List.of());

    public int rank() { return dims.size(); }

    /** The dim at {@code axis}; negative axes count from the end. */
    public Dim dim(int axis) { return dims.get(normalizeAxis(axis, rank())); }

    public boolean isStatic() { return dims.stream().allMatch(Dim::isStatic); }

    /** The sizes as longs; throws if any dim is not static. */
    public long[] toArray() {
        long[] out = new long[rank()];
        for (int i = 0; i < out.length; i++) out[i] = dims.get(i).size();
        return out;
    }

    /** Element count; throws if any dim is not static. */
    /** The element count; a count beyond 64 bits is an {@link IrException} rather than a wrapped value. */
    public long numel() {
        long n = 1;
        for (Dim d : dims) {
            try {
                n = Math.multiplyExact(n, d.size());
            } catch (ArithmeticException e) {
                throw new IrException("shape " + this + " has more elements than a 64-bit count holds");
            }
        }
        return n;
    }

    public Shape withDim(int axis, Dim dim) {
        List<Dim> copy = new ArrayList<>(dims);
        copy.set(normalizeAxis(axis, rank()), dim);
        return new Shape(copy);
    }

    /** Maps a possibly negative axis into {@code [0, rank)}; throws with a clear message otherwise. */
    public static int normalizeAxis(int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.max(rank, 1) || (rank == 0 && a != 0)) {
            throw new IllegalArgumentException("axis " + axis + " is out of range for rank " + rank);
        }
        return a;
    }

    @Override
    public String toString() { return dims.toString(); }
}
