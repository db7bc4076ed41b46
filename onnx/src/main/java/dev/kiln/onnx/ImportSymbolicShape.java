package dev.kiln.onnx;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.ShapeRules;
import dev.kiln.ir.Value;
import dev.kiln.runtime.NDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;

/**
 * Import-time shape values. Exporters compute Reshape and Expand targets from the shapes of
 * dynamically sized tensors ({@code Shape → Gather → Unsqueeze → Concat → Reshape} in PyTorch's
 * exports, {@code Shape → Gather → Concat} in Kiln's). Kiln graphs hold no run-time shape tensors,
 * but their size lists may name symbols ({@link Attribute.Dims}, {@code shape = [N, -1]}), so the
 * importer follows such a value as a list of {@link Size}s (integers times products of symbols)
 * through the ops between Shape and its consumer, and Reshape, Expand and ConstantOfShape take it
 * as a size list. Whatever a size list cannot say ({@code N + 1}, a shape used as tensor data) is
 * an {@link ImportNeedsConstantException} naming the node and the sizes it computes.
 */
final class ImportSymbolicShape {

    private ImportSymbolicShape() {}

    /**
     * One entry of a shape value: {@code coeff} times the product of {@code symbols} (sorted, with
     * repeats), or the plain integer {@code coeff} when there are no symbols (which may be -1 or 0,
     * as Reshape targets use them).
     */
    record Size(long coeff, List<String> symbols) {
        Size {
            if (coeff == 0) symbols = List.of();
            symbols = symbols.stream().sorted().toList();
        }

        static Size of(long value) { return new Size(value, List.of()); }

        /** The size of a dim; null for an unknown dim. */
        static Size of(Dim d) {
            return switch (d) {
                case Dim.Static s -> of(s.size());
                case Dim.Symbolic s -> new Size(1, List.of(s.name()));
                case Dim.Unknown u -> null;
            };
        }

        boolean isStatic() { return symbols.isEmpty(); }

        /** The dim this size is, or null when a Kiln dim cannot name it (a multiple or product of symbols, a negative). */
        Dim toDim() {
            if (isStatic()) return coeff >= 0 ? Dim.of(coeff) : null;
            return coeff == 1 && symbols.size() == 1 ? Dim.sym(symbols.get(0)) : null;
        }

        Size times(Size o) {
            List<String> s = new ArrayList<>(symbols);
            s.addAll(o.symbols);
            return new Size(Math.multiplyExact(coeff, o.coeff), s);
        }

        /** {@code this + sign * o}, or null when the result is not a multiple of one product of symbols ({@code N + 1}). */
        Size plus(Size o, int sign) {
            if (o.coeff == 0) return this;
            if (coeff == 0 && sign > 0) return o;
            if (!symbols.equals(o.symbols)) return null;
            return new Size(Math.addExact(coeff, Math.multiplyExact(sign, o.coeff)), symbols);
        }

        /** ONNX integer division, or null when it is not exact on symbols ({@code N / 2}). */
        Size dividedBy(Size o) {
            if (o.coeff == 0) throw new ArithmeticException("division by zero in size arithmetic (" + this + " / 0)");
            if (isStatic() && o.isStatic()) return of(coeff / o.coeff);
            List<String> rest = new ArrayList<>(symbols);
            for (String s : o.symbols) if (!rest.remove(s)) return null;
            if (coeff % o.coeff != 0) return null;
            return new Size(coeff / o.coeff, rest);
        }

        @Override public String toString() {
            if (isStatic()) return Long.toString(coeff);
            String p = String.join("*", symbols);
            return coeff == 1 ? p : coeff + "*" + p;
        }
    }

    /**
     * A shape value: its sizes, whether it is 0-d (one size) rather than 1-D, and the graph inputs
     * whose dims it reads (binding those as constants makes it static).
     */
    record ShapeValue(List<Size> sizes, boolean scalar, Set<String> graphInputs) {
        ShapeValue {
            sizes = List.copyOf(sizes);
            graphInputs = Set.copyOf(graphInputs);
        }

        @Override public String toString() { return text(sizes, scalar); }
    }

    static String text(List<Size> sizes, boolean scalar) {
        if (scalar) return sizes.get(0).toString();
        StringJoiner j = new StringJoiner(", ", "[", "]");
        sizes.forEach(s -> j.add(s.toString()));
        return j.toString();
    }

    /** The ops that compute on shape values when one arrives as their data (see {@link #handles}). */
    private static final Set<String> PROPAGATES = Set.of("Gather", "Slice", "Concat", "Unsqueeze", "Squeeze", "Cast",
            "Mul", "Div", "Add", "Sub");

    /** Whether {@link #convert} builds node {@code n}: an op above whose data input is a shape value. */
    static boolean handles(ImportNode n) {
        if (!PROPAGATES.contains(n.op())) return false;
        int data = switch (n.op()) {
            case "Concat" -> n.inputCount();
            case "Mul", "Div", "Add", "Sub" -> Math.min(2, n.inputCount());
            default -> Math.min(1, n.inputCount());
        };
        for (int i = 0; i < data; i++) if (n.has(i) && n.session.shapeValue(n.in(i)) != null) return true;
        return false;
    }

    /** Converts a node that {@link #handles} accepts. */
    static List<Value> convert(ImportNode n) {
        return List.of(switch (n.op()) {
            case "Gather" -> gather(n);
            case "Slice" -> slice(n);
            case "Concat" -> concat(n);
            case "Unsqueeze" -> unsqueeze(n);
            case "Squeeze" -> squeeze(n);
            case "Cast" -> cast(n);
            case "Mul", "Div", "Add", "Sub" -> arithmetic(n);
            default -> throw new IllegalStateException("not a shape-value op: " + n.op());
        });
    }

    // ---- producers

    /** ONNX Shape (with opset 15's start and end): a constant for static dims, else a shape value. */
    static Value shape(ImportNode n) {
        Value x = n.in(0);
        List<Dim> dims = n.type(x).shape().dims();
        int rank = dims.size();
        int start = clampAxis(n.attrInt("start", 0), rank), end = Math.max(start, clampAxis(n.attrInt("end", rank), rank));
        List<Size> sizes = new ArrayList<>();
        for (int i = start; i < end; i++) {
            Size s = Size.of(dims.get(i));
            if (s == null) {
                throw n.unsupported("Shape of " + n.type(x) + " (dim " + i + " has no size or name the importer can follow)");
            }
            sizes.add(s);
        }
        return value(n, sizes, false, DType.I64, n.session.dependsOn(x));
    }

    /** ONNX Size: the element count, static or as a product of symbols. */
    static Value size(ImportNode n) {
        Value x = n.in(0);
        Size total = Size.of(1);
        for (Dim d : n.type(x).shape().dims()) {
            Size s = Size.of(d);
            if (s == null) throw n.unsupported("Size of " + n.type(x) + " (an unknown dim)");
            total = total.times(s);
        }
        return value(n, List.of(total), true, DType.I64, n.session.dependsOn(x));
    }

    private static int clampAxis(long a, int rank) {
        if (a < 0) a += rank;
        return (int) Math.max(0, Math.min(rank, a));
    }

    /**
     * The value of a node that computes {@code sizes}: a constant when they are all integers, else
     * a shape value (which only this class's ops and the size-list consumers may read).
     */
    private static Value value(ImportNode n, List<Size> sizes, boolean scalar, DType dtype, Set<String> inputs) {
        long[] shape = scalar ? new long[0] : new long[] {sizes.size()};
        if (sizes.stream().allMatch(Size::isStatic)) {
            long[] v = sizes.stream().mapToLong(Size::coeff).toArray();
            return n.cast(n.constant(scalar ? NDArray.full(DType.I64, v[0]) : NDArray.of(v, shape)), dtype);
        }
        return n.session.shapeValue(new ShapeValue(sizes, scalar, inputs), dtype, shape);
    }

    // ---- propagation

    /** Input {@code i} as a shape value: the tracked value, or the data of an integer constant of rank 0 or 1. */
    private static ShapeValue operand(ImportNode n, int i) {
        ShapeValue sv = n.session.shapeValue(n.in(i));
        if (sv != null) return sv;
        if (n.session.evaluate(n.in(i)) == null) {
            Set<String> inputs = new LinkedHashSet<>();
            for (int k = 0; k < n.inputCount(); k++) if (n.has(k)) inputs.addAll(n.session.dependsOn(n.in(k)));
            throw needsConstant(n, "combines run-time sizes with input " + i + " ('" + n.node.getInput(i) + "'), tensor data computed"
                    + " at run time; Kiln keeps sizes in size lists, not in tensors", inputs);
        }
        NDArray a = n.constant(i);
        if (!a.dtype().isInteger()) throw n.error("input " + i + " must be an integer tensor to combine with run-time sizes, got " + a.dtype());
        if (a.rank() > 1) throw n.unsupported("combining run-time sizes with a rank-" + a.rank() + " tensor");
        return new ShapeValue(Arrays.stream(a.contiguous().toLongArray()).mapToObj(Size::of).toList(), a.rank() == 0, Set.of());
    }

    /** Input 0, which {@link #handles} found to be a shape value. */
    private static ShapeValue data(ImportNode n) { return n.session.shapeValue(n.in(0)); }

    private static DType dtype(ImportNode n) { return n.type(0).dtype(); }

    private static Value gather(ImportNode n) {
        ShapeValue sv = data(n);
        if (sv.scalar()) throw n.error("Gather needs data of rank at least 1, got a 0-d size " + sv);
        n.axis(n.attrInt("axis", 0), 1);
        NDArray idx = n.constant(1);
        if (!idx.dtype().isInteger()) throw n.error("indices must be integers, got " + idx.dtype());
        if (idx.rank() > 1) throw n.unsupported("Gather of run-time sizes with rank-" + idx.rank() + " indices");
        int len = sv.sizes().size();
        List<Size> out = new ArrayList<>();
        for (long i : idx.contiguous().toLongArray()) {
            long k = i < 0 ? i + len : i;
            if (k < 0 || k >= len) throw n.error("index " + i + " is out of range for the " + len + " sizes " + sv);
            out.add(sv.sizes().get((int) k));
        }
        return value(n, out, idx.rank() == 0, dtype(n), sv.graphInputs());
    }

    private static Value slice(ImportNode n) {
        ShapeValue sv = data(n);
        if (sv.scalar()) throw n.error("Slice needs data of rank at least 1, got a 0-d size " + sv);
        ImportShape.SliceArgs args = ImportShape.SliceArgs.read(n, axes -> n.constLongs(2));
        long[] starts = args.starts(), ends = args.ends(), axes = args.axes(), steps = args.steps();
        if (starts == null || ends == null || starts.length != 1 || ends.length != 1) {
            throw n.error("slicing a 1-D size list needs one start and one end, got " + Arrays.toString(starts) + " and " + Arrays.toString(ends));
        }
        if (axes != null) for (long a : axes) n.axis(a, 1);
        long step = steps == null ? 1 : steps[0];
        if (step == 0) throw n.error("slice step must not be 0");
        int len = sv.sizes().size();
        long start = starts[0] < 0 ? starts[0] + len : starts[0], end = ends[0] < 0 ? ends[0] + len : ends[0];
        List<Size> out = new ArrayList<>();
        if (step > 0) {
            start = Math.max(0, Math.min(len, start));
            end = Math.max(0, Math.min(len, end));
            for (long k = start; k < end; k += step) out.add(sv.sizes().get((int) k));
        } else {
            start = Math.max(-1, Math.min(len - 1, start));
            end = Math.max(-1, Math.min(len - 1, end));
            for (long k = start; k > end; k += step) out.add(sv.sizes().get((int) k));
        }
        return value(n, out, false, dtype(n), sv.graphInputs());
    }

    private static Value concat(ImportNode n) {
        n.axis(n.attrInt("axis", 0), 1);
        List<Size> out = new ArrayList<>();
        Set<String> inputs = new LinkedHashSet<>();
        for (int i = 0; i < n.inputCount(); i++) {
            ShapeValue sv = operand(n, i);
            if (sv.scalar()) throw n.error("Concat input " + i + " is 0-d (" + sv + "); Concat needs rank-1 size lists");
            out.addAll(sv.sizes());
            inputs.addAll(sv.graphInputs());
        }
        return value(n, out, false, dtype(n), inputs);
    }

    private static Value unsqueeze(ImportNode n) {
        ShapeValue sv = data(n);
        long[] axes = n.opset < 13 ? n.attrInts("axes") : n.constLongs(1);
        if (!sv.scalar() || axes == null || axes.length != 1 || (axes[0] != 0 && axes[0] != -1)) {
            throw n.unsupported("Unsqueeze of run-time sizes " + sv + " with axes " + Arrays.toString(axes)
                    + " (only a 0-d size to a 1-D list, axes [0])");
        }
        return value(n, sv.sizes(), false, dtype(n), sv.graphInputs());
    }

    private static Value squeeze(ImportNode n) {
        ShapeValue sv = data(n);
        long[] axes = n.opset < 13 ? n.attrInts("axes") : (n.has(1) ? n.constLongs(1) : null);
        boolean ok = !sv.scalar() && sv.sizes().size() == 1 && (axes == null || axes.length == 1 && (axes[0] == 0 || axes[0] == -1));
        if (!ok) {
            throw n.unsupported("Squeeze of run-time sizes " + sv + " with axes " + Arrays.toString(axes)
                    + " (only a one-entry list to a 0-d size)");
        }
        return value(n, sv.sizes(), true, dtype(n), sv.graphInputs());
    }

    private static Value cast(ImportNode n) {
        ShapeValue sv = data(n);
        DType to = OnnxTensors.dtype((int) n.attrInt("to", 0), n.describe() + " attribute 'to'");
        if (to != DType.I64 && to != DType.I32) {
            throw needsConstant(n, "casts the run-time sizes " + sv + " to " + to + ", which makes them tensor data", sv.graphInputs());
        }
        return value(n, sv.sizes(), sv.scalar(), to, sv.graphInputs());
    }

    /** Mul, Div, Add and Sub of sizes with NumPy broadcasting over 0-d and 1-D operands. */
    private static Value arithmetic(ImportNode n) {
        ShapeValue a = operand(n, 0), b = operand(n, 1);
        if (n.type(0).dtype() != n.type(1).dtype()) {
            throw n.error("operands have different dtypes " + n.type(0).dtype() + " and " + n.type(1).dtype());
        }
        int la = a.sizes().size(), lb = b.sizes().size();
        boolean scalar = a.scalar() && b.scalar();
        int len = Math.max(la, lb);
        if (la != lb && la != 1 && lb != 1) throw n.error("cannot broadcast sizes " + a + " and " + b);
        if (la == 0 || lb == 0) len = 0;
        Set<String> inputs = new LinkedHashSet<>(a.graphInputs());
        inputs.addAll(b.graphInputs());
        List<Size> out = new ArrayList<>();
        for (int i = 0; i < len; i++) {
            Size x = a.sizes().get(la == 1 ? 0 : i), y = b.sizes().get(lb == 1 ? 0 : i);
            Size r = switch (n.op()) {
                case "Mul" -> x.times(y);
                case "Div" -> x.dividedBy(y);
                case "Add" -> x.plus(y, 1);
                default -> x.plus(y, -1);
            };
            if (r == null) {
                String sign = switch (n.op()) { case "Mul" -> " * "; case "Div" -> " / "; case "Add" -> " + "; default -> " - "; };
                throw needsConstant(n, "computes the run-time size " + x + sign + y + ", which Kiln size lists cannot express "
                        + "(their entries are integers or single symbols; products only where Reshape can infer them)", inputs);
            }
            out.add(r);
        }
        return value(n, out, scalar, dtype(n), inputs);
    }

    static ImportNeedsConstantException needsConstant(ImportNode n, String what, Set<String> inputs) {
        return new ImportNeedsConstantException(n.describe() + ": " + what + "; binding graph inputs " + inputs
                + " with ImportOptions.withConstantInputs makes these sizes static", inputs);
    }

    // ---- consumers

    /**
     * Input {@code i} as a size list: a shape value's sizes, or an integer constant's entries. Other
     * inputs are import-time constants as usual ({@link ImportNode#constant}).
     */
    static List<Size> sizes(ImportNode n, int i) {
        ShapeValue sv = n.session.shapeValue(n.in(i));
        if (sv != null) return sv.sizes();
        return Arrays.stream(n.constLongs(i)).mapToObj(Size::of).toList();
    }

    /** The size-list attribute for entries that are integers or symbols (an Ints when no entry is a symbol). */
    static Attribute sizeList(long[] values, String[] symbols) {
        for (String s : symbols) if (s != null) return new Attribute.Dims(values, symbols);
        return new Attribute.Ints(values);
    }

    /**
     * ONNX Reshape to sizes that may name symbols. A 0 copies the input dim (unless {@code allowzero});
     * -1 is inferred; one multiple or product of symbols ({@code 4*N}) is allowed where no -1 is,
     * checked here against the input's element count and then written as -1.
     */
    static Value reshape(ImportNode n, Value x, List<Size> target, boolean allowZero) {
        List<Dim> in = n.type(x).shape().dims();
        List<Dim> out = new ArrayList<>();
        List<Size> asSizes = new ArrayList<>();
        int infer = -1, product = -1;
        for (int i = 0; i < target.size(); i++) {
            Size e = target.get(i);
            if (e.isStatic() && e.coeff() == 0 && !allowZero) {
                if (i >= in.size()) throw n.error("shape entry " + i + " is 0 (copy) but the input has rank " + in.size());
                out.add(in.get(i));
                asSizes.add(Size.of(in.get(i)));
            } else if (e.isStatic() && e.coeff() == -1) {
                if (infer >= 0) throw n.error("shape " + text(target, false) + " has more than one -1");
                infer = i;
                out.add(Dim.UNKNOWN);
                asSizes.add(null);
            } else if (e.toDim() != null) {
                out.add(e.toDim());
                asSizes.add(e);
            } else if (e.isStatic() || e.coeff() < 0) {
                throw n.error("shape entry " + e + " is invalid");
            } else {
                if (product >= 0) {
                    throw needsConstant(n, "reshapes to " + text(target, false) + ", whose sizes " + target.get(product) + " and " + e
                            + " Kiln size lists cannot name (at most one such entry, written as -1)", n.session.dependsOn(n.in(1)));
                }
                product = i;
                out.add(Dim.UNKNOWN);
                asSizes.add(e);
            }
        }
        if (product >= 0) {
            if (infer >= 0) {
                throw needsConstant(n, "reshapes to " + text(target, false) + ", which has both a -1 and the size " + target.get(product)
                        + " that Kiln size lists cannot name", n.session.dependsOn(n.in(1)));
            }
            Size have = Size.of(1), want = Size.of(1);
            for (Dim d : in) {
                Size s = Size.of(d);
                if (s == null) throw n.unsupported("reshaping " + n.type(x) + " (an unknown dim) to the run-time sizes " + text(target, false));
                have = have.times(s);
            }
            for (Size s : asSizes) {
                if (s == null) throw n.unsupported("reshaping " + n.type(x) + " (an unknown dim) to the run-time sizes " + text(target, false));
                want = want.times(s);
            }
            if (!have.equals(want)) {
                throw n.error("cannot reshape " + n.type(x) + " (" + have + " elements) to " + text(target, false) + " (" + want + " elements)");
            }
            infer = product; // the one size Kiln cannot name follows from the element count
        }
        if (infer >= 0) {
            List<Dim> rest = new ArrayList<>(out);
            rest.remove(infer);
            Dim total = ShapeRules.product(in), known = ShapeRules.product(rest);
            if (total.isStatic() && known.isStatic()) {
                if (known.size() == 0 || total.size() % known.size() != 0) {
                    throw n.error("cannot reshape " + n.type(x) + " to " + text(target, false));
                }
                out.set(infer, Dim.of(total.size() / known.size()));
            }
        }
        return n.reshape(x, out);
    }

    /**
     * ONNX Expand (two-way broadcasting) to sizes that may name symbols. Each result dim is the
     * broadcast of the input dim and the size; in Kiln's expand that is -1 (keep), an integer, or a symbol.
     */
    static Value expand(ImportNode n, Value x, List<Size> target) {
        int rank = Math.max(n.type(x).rank(), target.size());
        if (n.type(x).rank() < rank) {
            List<Dim> dims = new ArrayList<>();
            for (int i = n.type(x).rank(); i < rank; i++) dims.add(Dim.of(1));
            dims.addAll(n.type(x).shape().dims());
            x = n.reshape(x, dims);
        }
        List<Dim> in = n.type(x).shape().dims();
        long[] values = new long[rank];
        String[] symbols = new String[rank];
        for (int i = 0; i < rank; i++) {
            int t = i - (rank - target.size());
            Size e = t < 0 ? Size.of(1) : target.get(t);
            Dim d = in.get(i);
            values[i] = -1;
            if (e.isStatic()) {
                long s = e.coeff();
                if (s < 0) throw n.error("shape entry " + s + " is invalid");
                if (s == 1 || d.equals(Dim.of(s))) continue;
                if (d.isStatic() && d.size() != 1) {
                    throw n.error("cannot expand " + n.type(x) + " to " + text(target, false) + ": dim " + i + " has size " + d + ", which is not 1 and differs from " + s);
                }
                values[i] = s; // a dynamic input dim must be 1 or s at run time, as the kernel checks
            } else if (d.isStatic() && d.size() != 1) {
                // ONNX needs the run-time size to be 1 or d here, and then the result keeps d
            } else if (e.toDim() instanceof Dim.Symbolic s && (d.equals(Dim.of(1)) || d.equals(s))) {
                if (!d.equals(s)) symbols[i] = s.name();
            } else {
                throw needsConstant(n, "expands " + n.type(x) + " to the run-time sizes " + text(target, false) + ": dim " + i + " ("
                        + d + ") broadcast against " + e + " has no size Kiln can name", n.session.dependsOn(n.in(1)));
            }
        }
        return n.op("expand", Map.of("shape", sizeList(values, symbols)), x);
    }

    /** ONNX ConstantOfShape for run-time sizes: the one-element value expanded to them (a broadcast view). */
    static Value constantOfShape(ImportNode n, NDArray value, List<Size> target) {
        long[] values = new long[target.size()], ones = new long[target.size()];
        String[] symbols = new String[target.size()];
        for (int i = 0; i < values.length; i++) {
            Dim d = target.get(i).toDim();
            if (d == null) {
                throw needsConstant(n, "fills a tensor of the run-time sizes " + text(target, false) + ", whose entry " + target.get(i)
                        + " Kiln size lists cannot name", n.session.dependsOn(n.in(0)));
            }
            if (d instanceof Dim.Symbolic s) symbols[i] = s.name();
            else values[i] = d.size();
            ones[i] = 1;
        }
        Value one = n.constant(NDArray.full(value.dtype(), value.getFlat(0), ones));
        return n.op("expand", Map.of("shape", sizeList(values, symbols)), one);
    }
}
