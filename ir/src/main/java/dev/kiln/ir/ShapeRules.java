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
        return reshape(op, in, target, new String[target.length]);
    }

    /**
     * Reshape with symbolic target entries: entry {@code i} is the symbol {@code symbols[i]} when that
     * is non-null. Symbols that appear in both the input and the target cancel, so {@code [N, 16, 5, 5]}
     * reshaped to {@code [N, -1]} gives {@code [N, 400]}.
     */
    public static Shape reshape(String op, Shape in, long[] target, String[] symbols) {
        String shown = sizesText(target, symbols);
        int inferred = -1;
        long staticTarget = 1;
        List<String> targetSymbols = new ArrayList<>();
        for (int i = 0; i < target.length; i++) {
            if (symbols[i] != null) {
                targetSymbols.add(symbols[i]);
            } else if (target[i] == -1) {
                if (inferred >= 0) throw new IrException(op + ": only one dim may be -1 in " + shown);
                inferred = i;
            } else if (target[i] < 0) {
                throw new IrException(op + ": invalid target size " + target[i] + " in " + shown);
            } else {
                staticTarget *= target[i];
            }
        }
        long staticIn = 1;
        List<Dim> remaining = new ArrayList<>();
        for (Dim d : in.dims()) {
            if (d.isStatic()) {
                staticIn *= d.size();
            } else if (d instanceof Dim.Symbolic(String name) && targetSymbols.remove(name)) {
                // the same symbol on both sides cancels
            } else {
                remaining.add(d);
            }
        }
        List<Dim> out = new ArrayList<>();
        for (int i = 0; i < target.length; i++) {
            out.add(symbols[i] != null ? Dim.sym(symbols[i]) : target[i] == -1 ? Dim.UNKNOWN : Dim.of(target[i]));
        }
        if (remaining.isEmpty() && targetSymbols.isEmpty()) {
            if (inferred >= 0) {
                if (staticTarget == 0 || staticIn % staticTarget != 0) {
                    throw new IrException(op + ": cannot reshape " + in + " (" + staticIn + " elements) into " + shown);
                }
                out.set(inferred, Dim.of(staticIn / staticTarget));
            } else if (staticIn != staticTarget) {
                throw new IrException(op + ": cannot reshape " + in + " (" + staticIn + " elements) into "
                        + shown + " (" + staticTarget + " elements)");
            }
        } else if (inferred >= 0 && remaining.size() == 1 && targetSymbols.isEmpty() && staticTarget != 0 && staticIn == staticTarget) {
            out.set(inferred, remaining.get(0));
        }
        return new Shape(out);
    }

    /** A size list as text, symbols by name: {@code [N, -1]}. */
    static String sizesText(long[] values, String[] symbols) {
        java.util.StringJoiner j = new java.util.StringJoiner(", ", "[", "]");
        for (int i = 0; i < values.length; i++) j.add(symbols[i] != null ? symbols[i] : Long.toString(values[i]));
        return j.toString();
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

    // ---------------------------------------------------------------- views, layout and indexing ops

    /** Like {@link #normalize}, but a rank-0 tensor accepts axis 0 or -1, as PyTorch wraps scalar dims. */
    public static int normalizeScalarOk(String op, long axis, int rank) {
        return normalize(op, axis, Math.max(rank, 1));
    }

    /**
     * {@code torch.Tensor.expand}: {@code target} has at least the input's rank; -1 keeps an existing
     * dim; only size-1 dims (or new leading dims) change size.
     */
    public static Shape expand(String op, Shape in, long[] target) {
        return expand(op, in, target, new String[target.length]);
    }

    /**
     * Expand with symbolic target entries ({@code symbols[i]} non-null): such an entry keeps an equal
     * symbolic or static input dim, and otherwise becomes the symbol (the run checks the sizes).
     */
    public static Shape expand(String op, Shape in, long[] target, String[] symbols) {
        String shown = sizesText(target, symbols);
        if (target.length < in.rank()) {
            throw new IrException(op + ": the number of sizes " + shown + " (" + target.length
                    + ") must be at least the tensor's rank " + in.rank() + " (shape " + in + ")");
        }
        int lead = target.length - in.rank();
        List<Dim> out = new ArrayList<>(target.length);
        for (int i = 0; i < target.length; i++) {
            if (symbols[i] != null) {
                Dim have = i < lead ? null : in.dims().get(i - lead);
                // a static input dim other than 1 can only stay: the symbol must equal it at run time
                out.add(have != null && have.isStatic() && have.size() != 1 ? have : Dim.sym(symbols[i]));
                continue;
            }
            long t = target[i];
            if (t < -1) throw new IrException(op + ": invalid size " + t + " in " + shown);
            if (i < lead) {
                if (t == -1) {
                    throw new IrException(op + ": size -1 is not allowed in the new leading dim " + i + " of " + shown);
                }
                out.add(Dim.of(t));
                continue;
            }
            Dim have = in.dims().get(i - lead);
            if (t == -1 || (have.isStatic() && have.size() == t)) {
                out.add(have);
            } else if (have.isStatic() && have.size() != 1) {
                throw new IrException(op + ": cannot expand " + in + " to " + shown + ": dim "
                        + (i - lead) + " has size " + have + ", which is not 1 and differs from " + t);
            } else {
                out.add(Dim.of(t));
            }
        }
        return new Shape(out);
    }

    /**
     * Python slicing of a dim of {@code size}: negative {@code start}/{@code end} count from the end and
     * both clamp to {@code [0, size]}. Returns {@code {first, count}}; {@code step} must be at least 1.
     */
    public static long[] sliceRange(String op, long size, long start, long end, long step) {
        if (step < 1) throw new IrException(op + ": step must be at least 1, got " + step);
        long s = clampIndex(start, size), e = clampIndex(end, size);
        long count = e > s ? (e - s - 1) / step + 1 : 0;
        return new long[] {s, count};
    }

    private static long clampIndex(long i, long size) {
        if (i < 0) i = Math.max(0, i + size);
        return Math.min(i, size);
    }

    /** The shape of slicing {@code axis} of {@code in}; a symbolic dim stays only for a full slice. */
    public static Shape slice(String op, Shape in, long axis, long start, long end, long step) {
        int a = normalize(op, axis, in.rank());
        Dim d = in.dims().get(a);
        if (!d.isStatic()) {
            sliceRange(op, 0, start, end, step);
            return in.withDim(a, start == 0 && end == Long.MAX_VALUE && step == 1 ? d : Dim.UNKNOWN);
        }
        return in.withDim(a, Dim.of(sliceRange(op, d.size(), start, end, step)[1]));
    }

    /** Two dims that must be equal; static sizes that differ are an error describing {@code what}. */
    public static Dim sameDim(String op, String what, Dim a, Dim b) {
        if (a.equals(b)) return a;
        if (a.isStatic() && b.isStatic()) throw new IrException(op + ": " + what + ": sizes " + a + " and " + b + " differ");
        if (a.isStatic()) return a;
        if (b.isStatic()) return b;
        return Dim.UNKNOWN;
    }

    /** {@code torch.cat}: equal ranks (at least 1) and equal dims except along {@code axis}, where they add. */
    public static Shape concat(String op, List<Shape> shapes, long axis) {
        if (shapes.isEmpty()) throw new IrException(op + ": needs at least one tensor");
        Shape first = shapes.get(0);
        if (first.rank() == 0) throw new IrException(op + ": zero-dimensional tensor (at position 0) cannot be concatenated");
        int a = normalize(op, axis, first.rank());
        List<Dim> out = new ArrayList<>(first.dims());
        for (int k = 1; k < shapes.size(); k++) {
            Shape s = shapes.get(k);
            if (s.rank() != first.rank()) {
                throw new IrException(op + ": tensors must have the same rank: " + first + " (position 0) and " + s
                        + " (position " + k + ")");
            }
            for (int i = 0; i < s.rank(); i++) {
                Dim d = s.dims().get(i);
                if (i == a) {
                    Dim o = out.get(i);
                    out.set(i, o.isStatic() && d.isStatic() ? Dim.of(o.size() + d.size()) : Dim.UNKNOWN);
                } else {
                    out.set(i, sameDim(op, "tensor " + s + " (position " + k + ") does not match " + first
                            + " in dim " + i, out.get(i), d));
                }
            }
        }
        return new Shape(out);
    }

    /**
     * {@code torch.gather}: {@code index} has the input's rank and no dim larger than the input's,
     * except along {@code axis}. The result has the index's shape.
     */
    public static Shape gather(String op, Shape in, Shape index, long axis) {
        int a = normalizeScalarOk(op, axis, in.rank());
        sameRank(op, "index", index, in);
        indexFits(op, "index", index, "input", in, a);
        return index;
    }

    /**
     * {@code torch.scatter}/{@code scatter_add}: input, index and src share a rank; the index is no
     * larger than src in any dim and no larger than the input except along {@code axis}.
     */
    public static Shape scatter(String op, Shape in, Shape index, Shape src, long axis) {
        int a = normalizeScalarOk(op, axis, in.rank());
        sameRank(op, "index", index, in);
        sameRank(op, "src", src, in);
        indexFits(op, "index", index, "input", in, a);
        indexFits(op, "index", index, "src", src, -1);
        return in;
    }

    private static void sameRank(String op, String what, Shape s, Shape in) {
        if (s.rank() != in.rank()) {
            throw new IrException(op + ": " + what + " " + s + " must have the same rank as the input " + in);
        }
    }

    private static void indexFits(String op, String what, Shape index, String otherName, Shape other, int skipAxis) {
        for (int i = 0; i < index.rank(); i++) {
            Dim d = index.dims().get(i), o = other.dims().get(i);
            if (i != skipAxis && d.isStatic() && o.isStatic() && d.size() > o.size()) {
                throw new IrException(op + ": " + what + " " + index + " is larger than the " + otherName + " " + other
                        + " in dim " + i + (skipAxis >= 0 ? " (only axis " + skipAxis + " may be larger)" : ""));
            }
        }
    }

    /** {@code index_select}: the input's shape with {@code axis} resized to the (0-d or 1-D) index's length. */
    public static Shape indexSelect(String op, Shape in, Shape index, long axis) {
        if (in.rank() == 0) throw new IrException(op + ": needs a tensor of rank >= 1, got a scalar");
        int a = normalize(op, axis, in.rank());
        if (index.rank() > 1) throw new IrException(op + ": index must be 0-D or 1-D, got shape " + index);
        return in.withDim(a, index.rank() == 0 ? Dim.of(1) : index.dims().get(0));
    }

    /** {@code index_add}: src has the input's shape except along {@code axis}, where it has the index's length. */
    public static Shape indexAdd(String op, Shape in, Shape index, Shape src, long axis) {
        Shape expected = indexSelect(op, in, index, axis);
        if (src.rank() != in.rank()) {
            throw new IrException(op + ": src " + src + " must have the same rank as the input " + in);
        }
        for (int i = 0; i < src.rank(); i++) {
            sameDim(op, "src " + src + " does not match the expected " + expected + " in dim " + i,
                    expected.dims().get(i), src.dims().get(i));
        }
        return in;
    }

    /** {@code torch.slice_scatter}: src must have exactly the shape of the slice. */
    public static Shape sliceScatter(String op, Shape in, Shape src, long axis, long start, long end, long step) {
        Shape slice = slice(op, in, axis, start, end, step);
        if (src.rank() != in.rank()) {
            throw new IrException(op + ": src " + src + " must have the slice's shape " + slice);
        }
        for (int i = 0; i < src.rank(); i++) {
            sameDim(op, "src " + src + " does not match the slice's shape " + slice + " in dim " + i,
                    slice.dims().get(i), src.dims().get(i));
        }
        return in;
    }

    /**
     * Constant padding in {@code F.pad} order: (before, after) pairs from the last dim backwards; negative
     * pads crop, but no dim may be cropped below zero.
     */
    public static Shape pad(String op, Shape in, long[] pads) {
        if (pads.length % 2 != 0) throw new IrException(op + ": pads " + Arrays.toString(pads) + " must have an even length");
        if (pads.length / 2 > in.rank()) {
            throw new IrException(op + ": pads " + Arrays.toString(pads) + " cover " + pads.length / 2
                    + " dims but the input " + in + " has rank " + in.rank());
        }
        List<Dim> out = new ArrayList<>(in.dims());
        for (int p = 0; p < pads.length / 2; p++) {
            int axis = in.rank() - 1 - p;
            long before = pads[2 * p], after = pads[2 * p + 1];
            Dim d = in.dims().get(axis);
            if (!d.isStatic()) {
                if (before != 0 || after != 0) out.set(axis, Dim.UNKNOWN);
                continue;
            }
            if (d.size() + Math.min(before, 0) + Math.min(after, 0) < 0) {
                throw new IrException(op + ": the input size " + d + " of dim " + axis + ", plus negative padding "
                        + before + " and " + after + ", would be cropped below zero");
            }
            out.set(axis, Dim.of(d.size() + before + after));
        }
        return new Shape(out);
    }

    /** Marks the axes to flip; duplicates and out-of-range axes are errors (an empty list flips nothing). */
    public static boolean[] flipAxes(String op, int rank, long[] axes) {
        boolean[] flipped = new boolean[Math.max(rank, 1)];
        for (long ax : axes) {
            int a = normalizeScalarOk(op, ax, rank);
            if (flipped[a]) throw new IrException(op + ": axes " + Arrays.toString(axes) + " name dim " + a + " twice");
            flipped[a] = true;
        }
        return rank == 0 ? new boolean[0] : flipped;
    }

    /** {@code torch.Tensor.repeat}: at least one count per dim (extra counts add leading dims), none negative. */
    public static Shape repeat(String op, Shape in, long[] repeats) {
        if (repeats.length < in.rank()) {
            throw new IrException(op + ": repeats " + Arrays.toString(repeats) + " has fewer entries than the rank "
                    + in.rank() + " of " + in);
        }
        int lead = repeats.length - in.rank();
        List<Dim> out = new ArrayList<>(repeats.length);
        for (int i = 0; i < repeats.length; i++) {
            long r = repeats[i];
            if (r < 0) throw new IrException(op + ": repeats " + Arrays.toString(repeats) + " has a negative count");
            Dim d = i < lead ? Dim.of(1) : in.dims().get(i - lead);
            out.add(r == 1 ? d : d.isStatic() ? Dim.of(Math.multiplyExact(d.size(), r)) : r == 0 ? Dim.of(0) : Dim.UNKNOWN);
        }
        return new Shape(out);
    }

    /** {@code tril}/{@code triu} act on the last two dims, so the input needs rank >= 2. */
    public static Shape triangular(String op, Shape in) {
        if (in.rank() < 2) throw new IrException(op + ": input must have at least 2 dims, got shape " + in);
        return in;
    }
}
