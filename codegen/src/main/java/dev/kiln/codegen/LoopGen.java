package dev.kiln.codegen;

import dev.kiln.ir.KilnException;
import org.objectweb.asm.Label;
import org.objectweb.asm.Opcodes;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Writes one {@link LoopSpec} as a static method {@code loopN(long r0, long r1)} of the class being generated:
 * rows {@code [r0, r1)} of the iteration space, each a Vector API loop over the contiguous inner elements (when
 * every op has a vector form and every input is contiguous or broadcast along them) followed by a scalar tail.
 * Each input is read once per element into a local, intermediate values stay in registers, and only the result
 * (or the reduction's) is written.
 */
final class LoopGen implements Opcodes {

    /** The vector species' length in floats, or 0 when generated loops are scalar. */
    private final int lanes;
    private final Object species;

    LoopGen(Object species, int lanes) {
        this.species = species;
        this.lanes = lanes;
    }

    static final String DESCRIPTOR = "(JJ)V";

    /** Emits the loop method and returns its name. */
    String emit(Gen g, LoopSpec s, Segments segments) {
        String name = g.methodName("loop");
        g.beginMethod(ACC_PRIVATE | ACC_STATIC, name, DESCRIPTOR, 4);
        var mv = g.mv;
        boolean vector = lanes > 0 && s.vectorizable();
        int reduction = reductionKind(s.reduction());
        List<LoopSpec.Input> inputs = s.inputs();
        int n = inputs.size();
        int[] seg = new int[n], base = new int[n], value = new int[n];
        for (int k = 0; k < n; k++) {
            seg[k] = g.local(Object.class);
            segments.load(g, inputs.get(k).ref());
            mv.visitVarInsn(ASTORE, seg[k]);
        }
        int outSeg = g.local(Object.class);
        segments.load(g, s.out());
        mv.visitVarInsn(ASTORE, outSeg);
        int r = g.local(long.class), c = g.local(int.class), obase = g.local(long.class);
        for (int k = 0; k < n; k++) base[k] = g.local(long.class);
        int sacc = g.local(float.class), vacc = g.local(Object.class);
        int[] scalarValue = new int[n];
        for (int k = 0; k < n; k++) {
            value[k] = g.local(Object.class);
            scalarValue[k] = g.local(float.class);
        }
        long inner = s.inner();
        if (inner > Integer.MAX_VALUE - Math.max(1, lanes)) {
            throw new KilnException("codegen: a generated loop's inner dim of " + inner + " elements does not fit an int counter");
        }

        mv.visitVarInsn(LLOAD, 0);
        mv.visitVarInsn(LSTORE, r);
        Label rowTest = new Label(), rowEnd = new Label();
        mv.visitLabel(rowTest);
        mv.visitVarInsn(LLOAD, r);
        mv.visitVarInsn(LLOAD, 2);
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFGE, rowEnd);
        // per-row bases
        long[] outer = s.outer();
        for (int k = 0; k < n; k++) {
            g.pushLong(0);
            long div = 1;
            long[] st = inputs.get(k).outerStrides();
            for (int d = outer.length - 1; d >= 0; d--) {
                if (st[d] != 0 && outer[d] != 1) {
                    mv.visitVarInsn(LLOAD, r);
                    if (div != 1) { g.pushLong(div); mv.visitInsn(LDIV); }
                    if (d > 0) { g.pushLong(outer[d]); mv.visitInsn(LREM); }
                    g.pushLong(st[d]);
                    mv.visitInsn(LMUL);
                    mv.visitInsn(LADD);
                }
                div *= outer[d];
            }
            mv.visitVarInsn(LSTORE, base[k]);
        }
        mv.visitVarInsn(LLOAD, r);
        if (reduction < 0) { g.pushLong(inner); mv.visitInsn(LMUL); }
        mv.visitVarInsn(LSTORE, obase);
        // inputs broadcast along the inner dim: one scalar per row (and its vector)
        for (int k = 0; k < n; k++) {
            if (inputs.get(k).innerStride() != 0) continue;
            mv.visitVarInsn(ALOAD, seg[k]);
            mv.visitVarInsn(LLOAD, base[k]);
            g.callStatic(ScalarF32.class, "load", MemorySegment.class, long.class);
            mv.visitVarInsn(FSTORE, scalarValue[k]);
            if (vector) {
                g.constant(species, jdk.incubator.vector.VectorSpecies.class);
                mv.visitVarInsn(FLOAD, scalarValue[k]);
                g.callStatic(VecOps.class, "broadcast", jdk.incubator.vector.VectorSpecies.class, float.class);
                mv.visitVarInsn(ASTORE, value[k]);
            }
        }
        if (reduction >= 0) {
            g.pushInt(reduction);
            g.callStatic(ScalarF32.class, "identity", int.class);
            mv.visitVarInsn(FSTORE, sacc);
            if (vector) {
                g.constant(species, jdk.incubator.vector.VectorSpecies.class);
                g.pushInt(reduction);
                g.callStatic(VecOps.class, "identity", jdk.incubator.vector.VectorSpecies.class, int.class);
                mv.visitVarInsn(ASTORE, vacc);
            }
        }
        g.pushInt(0);
        mv.visitVarInsn(ISTORE, c);
        long upper = vector ? inner - inner % lanes : 0;
        // the vector loop twice unrolled (two independent vectors in flight per step), then once for what is left
        long upper2 = vector ? inner - inner % (2L * lanes) : 0;
        for (int unroll = 2; unroll >= 1; unroll--) {
            long bound = unroll == 2 ? upper2 : upper;
            if (bound == 0 || (unroll == 1 && bound == upper2)) continue;
            Label test = new Label(), end = new Label();
            mv.visitLabel(test);
            mv.visitVarInsn(ILOAD, c);
            g.pushInt((int) (bound - (unroll - 1L) * lanes));
            mv.visitJumpInsn(IF_ICMPGE, end);
            for (int u = 0; u < unroll; u++) {
                int shift = u * lanes;
                for (int k = 0; k < n; k++) {
                    if (inputs.get(k).innerStride() == 0 || !uses(s.expr(), k)) continue;
                    g.constant(species, jdk.incubator.vector.VectorSpecies.class);
                    mv.visitVarInsn(ALOAD, seg[k]);
                    mv.visitVarInsn(LLOAD, base[k]);
                    pushIndex(g, c, shift);
                    mv.visitInsn(LADD);
                    g.callStatic(VecOps.class, "load", jdk.incubator.vector.VectorSpecies.class, MemorySegment.class, long.class);
                    mv.visitVarInsn(ASTORE, value[k]);
                }
                if (reduction >= 0) {
                    g.pushInt(reduction);
                    mv.visitVarInsn(ALOAD, vacc);
                    expr(g, s.expr(), value, true);
                    g.callStatic(VecOps.class, "combine", int.class, jdk.incubator.vector.FloatVector.class, jdk.incubator.vector.FloatVector.class);
                    mv.visitVarInsn(ASTORE, vacc);
                } else {
                    expr(g, s.expr(), value, true);
                    mv.visitVarInsn(ALOAD, outSeg);
                    mv.visitVarInsn(LLOAD, obase);
                    pushIndex(g, c, shift);
                    mv.visitInsn(LADD);
                    g.callStatic(VecOps.class, "store", jdk.incubator.vector.FloatVector.class, MemorySegment.class, long.class);
                }
            }
            mv.visitIincInsn(c, unroll * lanes);
            mv.visitJumpInsn(GOTO, test);
            mv.visitLabel(end);
        }
        // scalar tail (or the whole row when the loop is scalar)
        Label test = new Label(), end = new Label();
        mv.visitLabel(test);
        mv.visitVarInsn(ILOAD, c);
        g.pushInt((int) inner);
        mv.visitJumpInsn(IF_ICMPGE, end);
        for (int k = 0; k < n; k++) {
            long stride = inputs.get(k).innerStride();
            if (stride == 0 || !uses(s.expr(), k)) continue;
            mv.visitVarInsn(ALOAD, seg[k]);
            mv.visitVarInsn(LLOAD, base[k]);
            mv.visitVarInsn(ILOAD, c);
                mv.visitInsn(I2L);
            if (stride != 1) { g.pushLong(stride); mv.visitInsn(LMUL); }
            mv.visitInsn(LADD);
            g.callStatic(ScalarF32.class, "load", MemorySegment.class, long.class);
            mv.visitVarInsn(FSTORE, scalarValue[k]);
        }
        if (reduction >= 0) {
            g.pushInt(reduction);
            mv.visitVarInsn(FLOAD, sacc);
            expr(g, s.expr(), scalarValue, false);
            g.callStatic(ScalarF32.class, "combine", int.class, float.class, float.class);
            mv.visitVarInsn(FSTORE, sacc);
        } else {
            mv.visitVarInsn(ALOAD, outSeg);
            mv.visitVarInsn(LLOAD, obase);
            mv.visitVarInsn(ILOAD, c);
                mv.visitInsn(I2L);
            mv.visitInsn(LADD);
            expr(g, s.expr(), scalarValue, false);
            g.callStatic(ScalarF32.class, "store", MemorySegment.class, long.class, float.class);
        }
        mv.visitIincInsn(c, 1);
        mv.visitJumpInsn(GOTO, test);
        mv.visitLabel(end);
        if (reduction >= 0) {
            mv.visitVarInsn(ALOAD, outSeg);
            mv.visitVarInsn(LLOAD, obase);
            g.pushInt(reduction);
            mv.visitVarInsn(FLOAD, sacc);
            if (vector) {
                g.pushInt(reduction);
                mv.visitVarInsn(ALOAD, vacc);
                g.callStatic(VecOps.class, "reduce", int.class, jdk.incubator.vector.FloatVector.class);
            } else {
                g.pushFloat(ScalarF32.identity(reduction));
            }
            g.callStatic(ScalarF32.class, "combine", int.class, float.class, float.class);
            if (s.reduction().equals("mean")) {
                g.pushFloat((float) inner);
                mv.visitInsn(FDIV);
            }
            g.callStatic(ScalarF32.class, "store", MemorySegment.class, long.class, float.class);
        }
        mv.visitVarInsn(LLOAD, r);
        mv.visitInsn(LCONST_1);
        mv.visitInsn(LADD);
        mv.visitVarInsn(LSTORE, r);
        mv.visitJumpInsn(GOTO, rowTest);
        mv.visitLabel(rowEnd);
        g.endMethod();
        return name;
    }

    /** Pushes {@code c + shift} as a long. */
    private static void pushIndex(Gen g, int c, int shift) {
        g.mv.visitVarInsn(ILOAD, c);
        if (shift != 0) {
            g.pushInt(shift);
            g.mv.visitInsn(IADD);
        }
        g.mv.visitInsn(I2L);
    }

    /** Emits {@code e}; {@code values} are the locals holding each input's vector (or float) for this element. */
    private void expr(Gen g, LoopSpec.Expr e, int[] values, boolean vector) {
        switch (e) {
            case LoopSpec.Expr.In in -> g.mv.visitVarInsn(vector ? ALOAD : FLOAD, values[in.index()]);
            case LoopSpec.Expr.Apply a -> {
                ExprOps op = ExprOps.get(a.op());
                for (LoopSpec.Expr x : a.operands()) expr(g, x, values, vector);
                for (float p : a.params()) g.pushFloat(p);
                Class<?> t = vector ? jdk.incubator.vector.FloatVector.class : float.class;
                Class<?>[] params = new Class<?>[op.arity() + a.params().length];
                for (int i = 0; i < params.length; i++) params[i] = i < op.arity() ? t : float.class;
                g.callStatic(vector ? VecOps.class : ScalarF32.class, op.method(), params);
            }
        }
    }

    private static boolean uses(LoopSpec.Expr e, int k) {
        return switch (e) {
            case LoopSpec.Expr.In in -> in.index() == k;
            case LoopSpec.Expr.Apply a -> a.operands().stream().anyMatch(x -> uses(x, k));
        };
    }

    static int reductionKind(String reduction) {
        if (reduction == null) return -1;
        return switch (reduction) {
            case "sum", "mean" -> ScalarF32.Reduction.SUM;
            case "amax" -> ScalarF32.Reduction.MAX;
            case "amin" -> ScalarF32.Reduction.MIN;
            default -> throw new KilnException("codegen: no generated loop for reduction " + reduction);
        };
    }

    /** How generated code obtains the segment of a tensor (a constant, or a bound input's). */
    interface Segments {
        void load(Gen g, TensorRef ref);
    }
}
