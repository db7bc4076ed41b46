package dev.kiln.codegen;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Trait;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a {@code fused_elementwise} group, or a single elementwise op, into a {@link LoopSpec}: the expression tree
 * of its ops, each operand's strides over the elementwise shape (zero where it broadcasts), with dims merged where
 * every operand allows it so the inner loop is as long as possible. Returns null for what generated loops do not
 * compute (a dtype other than f32, an op without a loop form, a reduction that is not over trailing dims), which
 * then runs through reference kernels.
 */
final class Fusion {
    private static final Set<String> REDUCTIONS = Set.of("sum", "mean", "amax", "amin");
    /** Rows of at least this many elements when a flat loop is split so that it can run in parallel. */
    private static final long MIN_SPLIT_ROW = 4096;

    private Fusion() {}

    static LoopSpec fromGroup(Op fused, List<TensorRef> operands, TensorRef out) {
        Block body = fused.region(0);
        List<Op> ops = body.ops().subList(0, body.ops().size() - 1);
        if (ops.isEmpty()) return null;
        Map<Value, LoopSpec.Expr> exprs = new IdentityHashMap<>();
        for (int i = 0; i < body.arguments().size(); i++) {
            if (!isF32(body.argument(i))) return null;
            exprs.put(body.argument(i), new LoopSpec.Expr.In(i));
        }
        Op last = ops.get(ops.size() - 1);
        Op reduction = last.has(Trait.REDUCTION) ? last : null;
        for (Op op : reduction == null ? ops : ops.subList(0, ops.size() - 1)) {
            LoopSpec.Expr e = apply(op, exprs);
            if (e == null) return null;
            exprs.put(op.result(), e);
        }
        Value root = reduction == null ? body.terminator().operand(0) : reduction.operand(0);
        LoopSpec.Expr expr = exprs.get(root);
        if (expr == null) return null;
        long[] shape = reduction == null ? out.shape() : broadcast(operands);
        return shape == null ? null : build(expr, operands, out, shape, reduction);
    }

    /** The broadcast of the operands' shapes: the elementwise shape of a group (null if they do not broadcast). */
    private static long[] broadcast(List<TensorRef> operands) {
        int rank = operands.stream().mapToInt(r -> r.shape().length).max().orElse(0);
        long[] out = new long[rank];
        java.util.Arrays.fill(out, 1);
        for (TensorRef r : operands) {
            long[] s = r.shape();
            for (int j = 0; j < s.length; j++) {
                int d = rank - s.length + j;
                if (s[j] == out[d] || s[j] == 1) continue;
                if (out[d] != 1) return null;
                out[d] = s[j];
            }
        }
        return out;
    }

    /** A row-major copy of {@code src} (any strides) into {@code out} (contiguous, of src's shape). */
    static LoopSpec copy(TensorRef src, TensorRef out) {
        return build(new LoopSpec.Expr.In(0), List.of(src), out, src.shape(), null);
    }

    static LoopSpec fromOp(Op op, List<TensorRef> operands, TensorRef out) {
        Map<Value, LoopSpec.Expr> exprs = new IdentityHashMap<>();
        for (int i = 0; i < op.operandCount(); i++) {
            if (!isF32(op.operand(i))) return null;
            exprs.put(op.operand(i), new LoopSpec.Expr.In(i));
        }
        LoopSpec.Expr e = apply(op, exprs);
        return e == null ? null : build(e, operands, out, out.shape(), null);
    }

    private static boolean isF32(Value v) {
        return v.type() instanceof TensorType t && t.dtype() == DType.F32;
    }

    private static LoopSpec.Expr apply(Op op, Map<Value, LoopSpec.Expr> exprs) {
        String name = ExprOps.loopName(op);
        if (name == null || op.results().size() != 1 || !isF32(op.result())) return null;
        if (op.operandCount() != ExprOps.get(name).arity()) return null;
        List<LoopSpec.Expr> operands = new ArrayList<>();
        for (Value v : op.operands()) {
            LoopSpec.Expr e = exprs.get(v);
            if (e == null) return null;
            operands.add(e);
        }
        return new LoopSpec.Expr.Apply(name, operands, ExprOps.params(op));
    }

    /** The loop over elementwise shape {@code shape}, reduced by {@code reduction} (or null) into {@code out}. */
    private static LoopSpec build(LoopSpec.Expr expr, List<TensorRef> operands, TensorRef out, long[] shape, Op reduction) {
        if (!out.contiguous()) return null;
        int rank = shape.length;
        boolean[] reduced = new boolean[rank];
        if (reduction != null) {
            if (!REDUCTIONS.contains(reduction.name())) return null;
            long[] axes = ((Attribute.Ints) reduction.attr("axes")).values();
            if (axes.length == 0) java.util.Arrays.fill(reduced, true);
            for (long a : axes) reduced[(int) (a < 0 ? a + rank : a)] = true;
            boolean seen = false;
            for (int d = 0; d < rank; d++) {
                if (reduced[d]) seen = true;
                else if (seen && shape[d] != 1) return null; // reduced dims must be trailing
            }
        }
        int n = operands.size();
        long[][] strides = new long[n][rank];
        for (int k = 0; k < n; k++) {
            TensorRef r = operands.get(k);
            int lead = rank - r.shape().length;
            if (lead < 0) return null;
            for (int d = 0; d < rank; d++) {
                int j = d - lead;
                strides[k][d] = j < 0 || (r.shape()[j] == 1 && shape[d] != 1) ? 0 : r.strides()[j];
            }
        }
        // merge dims: drop size-1 dims, then join neighbours whose strides agree for every operand
        List<long[]> dims = new ArrayList<>(); // {size, reduced, strides...}
        for (int d = 0; d < rank; d++) {
            if (shape[d] == 1) continue;
            long[] dim = new long[2 + n];
            dim[0] = shape[d];
            dim[1] = reduced[d] ? 1 : 0;
            for (int k = 0; k < n; k++) dim[2 + k] = strides[k][d];
            if (!dims.isEmpty() && mergeable(dims.get(dims.size() - 1), dim, n)) {
                long[] prev = dims.get(dims.size() - 1);
                prev[0] *= dim[0];
                for (int k = 0; k < n; k++) prev[2 + k] = dim[2 + k];
            } else {
                dims.add(dim);
            }
        }
        long inner = 1;
        long[] innerStrides = new long[n];
        boolean hasReduced = !dims.isEmpty() && dims.get(dims.size() - 1)[1] == 1;
        if (reduction != null && dims.stream().filter(d -> d[1] == 1).count() > 1) return null;
        if (!dims.isEmpty() && (reduction == null || hasReduced)) {
            long[] last = dims.remove(dims.size() - 1);
            inner = last[0];
            for (int k = 0; k < n; k++) innerStrides[k] = last[2 + k];
        }
        if (reduction == null && dims.isEmpty()) {
            // one flat row: split it so rows can run in parallel
            long split = splitRow(inner, innerStrides);
            if (split > 1) {
                long[] outerDim = new long[2 + n];
                outerDim[0] = split;
                inner /= split;
                for (int k = 0; k < n; k++) outerDim[2 + k] = innerStrides[k] * inner;
                dims.add(outerDim);
            }
        }
        if (inner > Integer.MAX_VALUE / 2) return null; // the loop counts inner elements in an int
        long[] outer = new long[dims.size()];
        for (int d = 0; d < outer.length; d++) outer[d] = dims.get(d)[0];
        List<LoopSpec.Input> inputs = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            long[] os = new long[outer.length];
            for (int d = 0; d < outer.length; d++) os[d] = dims.get(d)[2 + k];
            inputs.add(new LoopSpec.Input(operands.get(k), os, innerStrides[k]));
        }
        return new LoopSpec(inputs, out, outer, inner, expr, reduction == null ? null : reduction.name());
    }

    private static boolean mergeable(long[] prev, long[] dim, int n) {
        if (prev[1] != dim[1]) return false;
        for (int k = 0; k < n; k++) if (prev[2 + k] != dim[2 + k] * dim[0]) return false;
        return true;
    }

    /** How many rows to split one flat row of {@code inner} elements into (1: none). */
    private static long splitRow(long inner, long[] innerStrides) {
        for (long s : innerStrides) if (s != 0 && s != 1) return 1;
        if (inner < 2 * MIN_SPLIT_ROW) return 1;
        long rows = 1;
        while (inner % (rows * 2) == 0 && inner / (rows * 2) >= MIN_SPLIT_ROW && rows < 1024) rows *= 2;
        return rows;
    }
}
