package dev.kiln.codegen;

import java.util.Arrays;
import java.util.List;

/**
 * One generated elementwise loop nest (a fused group, a single elementwise op, or a GEMM/convolution epilogue):
 * the iteration space is {@code outer} (flattened into a row index {@code r}) times {@code inner} contiguous output
 * elements; each input element is read at {@code sum_d ((r / div_d) % outer_d) * outerStrides_d + c * innerStride}
 * of its segment. The loop writes {@code expr} to {@code out} at {@code r * inner + c}, or, with a trailing
 * reduction, reduces over {@code c} and writes {@code out[r]}.
 *
 * @param reduction {@code null}, or one of {@code sum, mean, amax, amin}
 */
record LoopSpec(List<Input> inputs, TensorRef out, long[] outer, long inner, Expr expr, String reduction) {

    /** A loop input: where it lives and how the iteration space maps onto it (strides in elements). */
    record Input(TensorRef ref, long[] outerStrides, long innerStride) {}

    /** The computed value: a tree over the inputs. */
    sealed interface Expr {
        record In(int index) implements Expr {}

        /** An op of {@link ExprOps}: its operands and its float parameters (slope, bounds, ...). */
        record Apply(String op, List<Expr> operands, float[] params) implements Expr {}
    }

    long rows() {
        long r = 1;
        for (long d : outer) r *= d;
        return r;
    }

    /** Whether every op has a vector form and every input is contiguous or broadcast along the inner dim. */
    boolean vectorizable() {
        for (Input in : inputs) if (in.innerStride != 0 && in.innerStride != 1) return false;
        return allVector(expr);
    }

    private static boolean allVector(Expr e) {
        return switch (e) {
            case Expr.In in -> true;
            case Expr.Apply a -> ExprOps.get(a.op()).vector() && a.operands().stream().allMatch(LoopSpec::allVector);
        };
    }

    /** A one-line description for listings: {@code relu(add(in0, in1)) over [32] x 512}. */
    String describe() {
        return show(expr) + (reduction != null ? " reduced by " + reduction : "") + " over " + Arrays.toString(outer) + " x " + inner;
    }

    static String show(Expr e) {
        return switch (e) {
            case Expr.In in -> "in" + in.index();
            case Expr.Apply a -> a.op() + "(" + String.join(", ", a.operands().stream().map(LoopSpec::show).toList())
                    + (a.params().length > 0 ? ", " + Arrays.toString(a.params()) : "") + ")";
        };
    }
}
