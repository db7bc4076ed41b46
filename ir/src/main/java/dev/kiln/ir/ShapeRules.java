package dev.kiln.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shape arithmetic shared by the op tables: NumPy broadcasting, matmul, convolution and pooling
 * windows, reductions and reshapes, all over static and symbolic dims. Errors start with the op name.
 */
public final class ShapeRules {

    private ShapeRules() {}

    /** NumPy broadcasting of two shapes; symbolic dims broadcast against 1 and against equal names. */
    public static Shape broadcast(String op, Shape a, Shape b) {
        int rank = Math.max(a.rank(), b.rank());
        List<Dim> out = new ArrayList<>(rank);
        for (int i = 0; i < rank; i++) {
            Dim da = i < rank - a.rank() ? Dim.of(1) : a.dims().get(i - (rank - a.rank()));
            Dim db = i < rank - b.rank() ? Dim.of(1) : b.dims().get(i - (rank - b.rank()));
            out.add(broadcastDim(op, a, b, da, db, i - rank));
        }
        return new Shape(out);
    }

    private static Dim broadcastDim(String op, Shape a, Shape b, Dim da, Dim db, int axisFromEnd) {
        if (da.equals(db)) return da;
        if (da.equals(Dim.of(1))) return db;
        if (db.equals(Dim.of(1))) return da;
        if (da.isStatic() && db.isStatic()) {
            throw new IrException(op + ": shapes " + a + " and " + b + " cannot be broadcast together: dimensions "
                    + da + " and " + db + " at axis " + axisFromEnd + " differ and neither is 1");
        }
        // A symbolic dim against a static size > 1 must equal it at run time; against another name it is unknown.
        if (da.isStatic()) return da;
        if (db.isStatic()) return db;
        return Dim.UNKNOWN;
    }

    /** Both operands must share a dtype (no implicit promotion); returns it. */
    public static DType sameDType(String op, TensorType a, TensorType b) {
        if (a.dtype() != b.dtype()) {
            throw new IrException(op + ": dtypes " + a.dtype() + " and " + b.dtype() + " differ (" + a + " vs " + b + ")");
        }
        return a.dtype();
    }

    /** NumPy matmul: 1-D operands are promoted and the added dim removed; batch dims broadcast. */
    public static Shape matmul(String op, Shape a, Shape b) {
        if (a.rank() == 0 || b.rank() == 0) {
            throw new IrException(op + ": shapes " + a + " and " + b + " are incompatible: operands must have rank >= 1");
        }
        List<Dim> ad = new ArrayList<>(a.dims());
        List<Dim> bd = new ArrayList<>(b.dims());
        boolean aVec = ad.size() == 1, bVec = bd.size() == 1;
        if (aVec) ad.add(0, Dim.of(1));
        if (bVec) bd.add(Dim.of(1));
        Dim k1 = ad.get(ad.size() - 1), k2 = bd.get(bd.size() - 2);
        if (k1.isStatic() && k2.isStatic() && k1.size() != k2.size()) {
            throw new IrException(op + ": shapes " + a + " and " + b + " are incompatible: inner dimensions "
                    + k1 + " and " + k2 + " differ");
        }
        Shape batch = broadcast(op, new Shape(ad.subList(0, ad.size() - 2)), new Shape(bd.subList(0, bd.size() - 2)));
        List<Dim> out = new ArrayList<>(batch.dims());
        if (!aVec) out.add(ad.get(ad.size() - 2));
        if (!bVec) out.add(bd.get(bd.size() - 1));
        return new Shape(out);
    }

    /** Output size of a convolution or pooling window along one axis, PyTorch's formula. */
    public static Dim windowOutput(String op, Dim in, long kernel, long stride, long padBegin, long padEnd,
                                   long dilation, boolean ceilMode) {
        if (!in.isStatic()) return Dim.UNKNOWN;
        long effective = dilation * (kernel - 1) + 1;
        long span = in.size() + padBegin + padEnd - effective;
        if (span < 0) {
            throw new IrException(op + ": input size " + in + " with padding " + padBegin + "+" + padEnd
                    + " is smaller than the window (" + effective + ")");
        }
        long out = (ceilMode ? Math.ceilDiv(span, stride) : span / stride) + 1;
        // With ceil_mode the last window must start inside the input or the left padding.
        if (ceilMode && (out - 1) * stride >= in.size() + padBegin) out--;
        return Dim.of(out);
    }

    /** The result shape of reducing {@code axes} (empty: all) with or without kept dims. */
    public static Shape reduce(String op, Shape in, long[] axes, boolean keepDim) {
        boolean[] reduced = reducedAxes(op, in.rank(), axes);
        List<Dim> out = new ArrayList<>();
        for (int i = 0; i < in.rank(); i++) {
            if (!reduced[i]) out.add(in.dims().get(i));
            else if (keepDim) out.add(Dim.of(1));
        }
        return new Shape(out);
    }

    /** Marks reduced axes; empty {@code axes} means all; duplicates and out-of-range axes are errors. */
    public static boolean[] reducedAxes(String op, int rank, long[] axes) {
        boolean[] reduced = new boolean[rank];
        if (axes.length == 0) Arrays.fill(reduced, true);
        for (long ax : axes) {
            int a = normalize(op, ax, rank);
            if (reduced[a]) throw new IrException(op + ": axis " + ax + " appears twice in " + Arrays.toString(axes));
            reduced[a] = true;
        }
        return reduced;
    }

    /** Normalises an axis into {@code [0, rank)}, naming the op when it is out of range. */
    public static int normalize(String op, long axis, int rank) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new IrException(op + ": axis " + axis + " is out of range for rank " + rank);
        return (int) a;
    }

    /**
     * The result of reshaping {@code in} to {@code target}, where one entry may be -1. With symbolic
     * input dims, a -1 resolves to the one remaining symbol when the static sizes divide exactly.
     */
    public static Shape reshape(String op, Shape in, long[] target) {
        int inferred = -1;
        long staticTarget = 1;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                if (inferred >= 0) throw new IrException(op + ": only one dim may be -1 in " + Arrays.toString(target));
                inferred = i;
            } else if (target[i] < 0) {
                throw new IrException(op + ": invalid target size " + target[i] + " in " + Arrays.toString(target));
            } else {
                staticTarget *= target[i];
            }
        }
        long staticIn = 1;
        List<Dim> symbols = new ArrayList<>();
        for (Dim d : in.dims()) {
            if (d.isStatic()) staticIn *= d.size();
            else symbols.add(d);
        }
        List<Dim> out = new ArrayList<>();
        for (long t : target) out.add(t == -1 ? Dim.UNKNOWN : Dim.of(t));
        if (symbols.isEmpty()) {
            if (inferred >= 0) {
                if (staticTarget == 0 || staticIn % staticTarget != 0) {
                    throw new IrException(op + ": cannot reshape " + in + " (" + staticIn + " elements) into " + Arrays.toString(target));
                }
                out.set(inferred, Dim.of(staticIn / staticTarget));
            } else if (staticIn != staticTarget) {
                throw new IrException(op + ": cannot reshape " + in + " (" + staticIn + " elements) into "
                        + Arrays.toString(target) + " (" + staticTarget + " elements)");
            }
        } else if (inferred >= 0 && symbols.size() == 1 && staticTarget != 0 && staticIn == staticTarget) {
            out.set(inferred, symbols.get(0));
        }
        return new Shape(out);
    }

    /** Collapses dims {@code start..end} (inclusive, negative allowed) into one. */
    public static Shape flatten(String op, Shape in, long start, long end) {
        if (in.rank() == 0) return Shape.of(1);
        int s = normalize(op, start, in.rank()), e = normalize(op, end, in.rank());
        if (s > e) throw new IrException(op + ": start_dim " + start + " comes after end_dim " + end + " for " + in);
        List<Dim> out = new ArrayList<>(in.dims().subList(0, s));
        out.add(product(in.dims().subList(s, e + 1)));
        out.addAll(in.dims().subList(e + 1, in.rank()));
        return new Shape(out);
    }

    /** The product of dims: static if all are static, the dim itself if it is the only one, else unknown. */
    public static Dim product(List<Dim> dims) {
        if (dims.size() == 1) return dims.get(0);
        long p = 1;
        for (Dim d : dims) {
            if (!d.isStatic()) return Dim.UNKNOWN;
            p *= d.size();
        }
        return Dim.of(p);
    }

    /** Reorders dims by {@code perm}, which must be a permutation of {@code 0..rank-1}. */
    public static Shape permute(String op, Shape in, long[] perm) {
        if (perm.length != in.rank()) {
            throw new IrException(op + ": permutation " + Arrays.toString(perm) + " has " + perm.length
                    + " entries for rank " + in.rank());
        }
        boolean[] seen = new boolean[perm.length];
        List<Dim> out = new ArrayList<>();
        for (long p : perm) {
            int a = normalize(op, p, in.rank());
            if (seen[a]) throw new IrException(op + ": " + Arrays.toString(perm) + " is not a permutation");
            seen[a] = true;
            out.add(in.dims().get(a));
        }
        return new Shape(out);
    }
}
