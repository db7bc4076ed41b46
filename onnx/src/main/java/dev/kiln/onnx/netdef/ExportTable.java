package dev.kiln.onnx.netdef;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Op;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.util.Map.entry;

/**
 * The one table from Kiln op names to Caffe2 operators; an op missing here has no Caffe2 form.
 * Elementwise, shape and reduction ops are written here, the neural-network ops in {@link NnExport}.
 * Each entry checks the dtypes the Caffe2 CPU operator computes, so an exported net never names an
 * operator Caffe2 would refuse at run time.
 */
final class ExportTable {

    private ExportTable() {}

    /** Writes the operators computing one Kiln op, naming results with {@link NetWriter#define}. */
    @FunctionalInterface
    interface OpExport {
        void write(Op op, NetWriter w);
    }

    static final Set<DType> F32 = Set.of(DType.F32);
    /** Caffe2's NumericTypes: the arithmetic ops' dtypes. */
    static final Set<DType> NUMERIC = Set.of(DType.I32, DType.I64, DType.F32, DType.F64);
    private static final Set<DType> COMPARABLE = Set.of(DType.BOOL, DType.I32, DType.I64, DType.F32, DType.F64);
    private static final Set<DType> BOOL = Set.of(DType.BOOL);
    private static final Set<DType> ANY = Set.of(DType.values());

    private static final Map<String, OpExport> TABLE = Map.ofEntries(
            entry("add", binary("Add", NUMERIC, true)),
            entry("sub", binary("Sub", NUMERIC, false)),
            entry("mul", binary("Mul", NUMERIC, true)),
            entry("div", binary("Div", NUMERIC, false)),
            entry("gt", binary("GT", COMPARABLE, false)),
            entry("lt", binary("LT", COMPARABLE, false)),
            entry("ge", binary("GE", COMPARABLE, false)),
            entry("le", binary("LE", COMPARABLE, false)),
            entry("eq", binary("EQ", COMPARABLE, true)),
            entry("ne", binary("NE", COMPARABLE, true)),
            entry("logical_and", binary("And", BOOL, true)),
            entry("logical_or", binary("Or", BOOL, true)),
            entry("logical_not", unary("Not", BOOL)),
            entry("neg", unary("Negative", NUMERIC)),
            entry("relu", unary("Relu", F32)),
            entry("sigmoid", unary("Sigmoid", F32)),
            entry("tanh", unary("Tanh", F32)),
            entry("exp", unary("Exp", F32)),
            entry("log", unary("Log", F32)),
            entry("sqrt", unary("Sqrt", F32)),
            entry("rsqrt", unary("Rsqrt", F32)),
            entry("reciprocal", unary("Reciprocal", F32)),
            entry("abs", unary("Abs", F32)),
            entry("sin", unary("Sin", F32)),
            entry("cos", unary("Cos", F32)),
            entry("erf", unary("Erf", F32)),
            entry("floor", unary("Floor", F32)),
            entry("ceil", unary("Ceil", F32)),
            entry("leaky_relu", withFloat("LeakyRelu", "negative_slope", "alpha")),
            entry("elu", withFloat("Elu", "alpha", "alpha")),
            entry("pow_scalar", withFloat("Pow", "exponent", "exponent")),
            entry("clone", unary("Copy", ANY)),
            entry("cast", ExportTable::cast),
            entry("constant", ExportTable::constant),
            entry("reshape", ExportTable::reshape),
            entry("flatten", ExportTable::flatten),
            entry("permute", ExportTable::permute),
            entry("cat", ExportTable::cat),
            entry("sum", ExportTable::sum),
            entry("mean", ExportTable::mean),
            entry("embedding", ExportTable::embedding),
            entry("matmul", NnExport::matmul),
            entry("linear", NnExport::linear),
            entry("linear_act", NnExport::linear),
            entry("conv2d", NnExport::conv2d),
            entry("conv2d_act", NnExport::conv2d),
            entry("batch_norm", NnExport::batchNorm),
            entry("softmax", NnExport::softmax),
            entry("max_pool2d", NnExport::maxPool2d),
            entry("avg_pool2d", NnExport::avgPool2d),
            entry("adaptive_avg_pool2d", NnExport::adaptiveAvgPool2d));

    static boolean has(String opName) { return TABLE.containsKey(opName); }

    static OpExport get(String opName) {
        OpExport e = TABLE.get(opName);
        if (e == null) throw new NetDefException("op '" + opName + "' has no Caffe2 form");
        return e;
    }

    static OpExport unary(String type, Set<DType> dtypes) {
        return (op, w) -> {
            NetWriter.requireDType(op, 0, type, dtypes);
            w.op(type, List.of(w.ref(op.operand(0))), List.of(w.define(op.result())));
        };
    }

    /** A unary f32 operator with one float argument taken from a Kiln float attribute. */
    private static OpExport withFloat(String type, String kilnAttr, String caffe2Arg) {
        return (op, w) -> {
            NetWriter.requireDType(op, 0, type, F32);
            w.op(type, List.of(w.ref(op.operand(0))), List.of(w.define(op.result())))
                    .addArg(Args.f(caffe2Arg, op.floatAttr(kilnAttr)));
        };
    }

    /**
     * A binary operator. Equal shapes need no arguments. When b broadcasts into a's shape in the
     * way Caffe2's legacy broadcasting allows (b's dims, without leading and trailing 1s, equal a's
     * dims from {@code axis} on), the operator gets {@code broadcast = 1} and {@code axis}; a
     * commutative op may swap its operands for that. Any other broadcast is written without
     * {@code broadcast}, which Caffe2 reads as NumPy broadcasting, Kiln's own rule.
     */
    static OpExport binary(String type, Set<DType> dtypes, boolean commutative) {
        return (op, w) -> {
            NetWriter.requireDType(op, 0, type, dtypes);
            Value a = op.operand(0), b = op.operand(1);
            Shape sa = a.tensorType().shape(), sb = b.tensorType().shape(), out = op.result().tensorType().shape();
            boolean legacy = false;
            if (!sa.equals(sb)) {
                if (sa.equals(out) && legacyFits(sa, sb)) {
                    legacy = true;
                } else if (commutative && sb.equals(out) && legacyFits(sb, sa)) {
                    legacy = true;
                    Value t = a;
                    a = b;
                    b = t;
                }
            }
            var c2 = w.op(type, List.of(w.ref(a), w.ref(b)), List.of(w.define(op.result())));
            if (legacy) c2.addArg(Args.i("broadcast", 1)).addArg(Args.i("axis", a.tensorType().rank() - b.tensorType().rank()));
        };
    }

    /** Whether Caffe2's legacy broadcasting of b into a (axis = rank(a) - rank(b)) is NumPy's result. */
    private static boolean legacyFits(Shape a, Shape b) {
        if (b.rank() > a.rank()) return false;
        if (b.dims().stream().allMatch(d -> d.equals(Dim.of(1)))) return true;
        int axis = a.rank() - b.rank(), start = 0, end = b.rank() - 1;
        while (start < b.rank() && b.dim(start).equals(Dim.of(1))) start++;
        while (end >= start && b.dim(end).equals(Dim.of(1))) end--;
        for (int i = start; i <= end; i++) {
            Dim d = b.dim(i);
            if (d instanceof Dim.Unknown || !d.equals(a.dim(i + axis))) return false;
        }
        return true;
    }

    /** Cast with {@code to} the Caffe2 data type. */
    private static void cast(Op op, NetWriter w) {
        DType from = op.operand(0).tensorType().dtype(), to = op.result().tensorType().dtype();
        if (from == DType.BF16 || to == DType.BF16) throw NetWriter.error(op, "Caffe2 has no bfloat16 type; cast through f32 instead");
        w.op("Cast", List.of(w.ref(op.operand(0))), List.of(w.define(op.result())))
                .addArg(Args.i("to", Fills.dataType(to).getNumber()));
    }

    /** A tensor constant as a fill op in the predict net (host-scalar constants have no Caffe2 form). */
    private static void constant(Op op, NetWriter w) {
        if (!(op.attr("value") instanceof Attribute.Tensor t)) {
            throw NetWriter.error(op, "host scalar constant " + op.attr("value") + " has no Caffe2 form (only tensors do)");
        }
        String out = w.define(op.result());
        try {
            w.append(Fills.fill(out, t.type(), ByteBuffer.wrap(t.data()), "constant " + t.type()));
        } catch (NetDefException e) {
            throw NetWriter.error(op, e.getMessage());
        }
    }

    /**
     * Reshape with its {@code shape} argument (and the old_shape second output). Caffe2 reads 0 as
     * "copy the input's dim" and -1 as "infer one dim", so a size symbol becomes 0 where the input
     * has the same symbol at that position, else the one -1; a literal 0 size cannot be written.
     */
    private static void reshape(Op op, NetWriter w) {
        TensorType x = op.operand(0).tensorType();
        Attribute a = op.attr("shape");
        long[] values = Attribute.valuesOf(a);
        String[] symbols = Attribute.symbolsOf(a);
        long[] target = new long[values.length];
        int inferred = 0;
        for (int i = 0; i < values.length; i++) {
            Dim in = i < x.rank() ? x.shape().dim(i) : null;
            if (symbols[i] != null) {
                boolean copies = Dim.sym(symbols[i]).equals(in);
                target[i] = copies ? 0 : -1;
                if (!copies) inferred++;
            } else if (values[i] == 0 && !Dim.of(0).equals(in)) {
                throw NetWriter.error(op, "target shape " + a + " has a literal 0 size, which Caffe2 Reshape reads as"
                        + " 'copy the input dim'; there is no Caffe2 form for it");
            } else {
                target[i] = values[i];
                if (values[i] == -1) inferred++;
            }
        }
        if (inferred > 1) {
            throw NetWriter.error(op, "target shape " + a + " of input " + x + " needs " + inferred + " inferred sizes, but"
                    + " Caffe2 Reshape infers only one (-1); its 0 copies only an input dim at the same position");
        }
        writeReshape(w, w.ref(op.operand(0)), target, w.define(op.result()));
    }

    private static void writeReshape(NetWriter w, String in, long[] shape, String out) {
        w.op("Reshape", List.of(in), List.of(out, w.temp(out + "_old_shape"))).addArg(Args.ints("shape", shape));
    }

    /**
     * flatten(start, end): Caffe2 Flatten for (1, last) and FlattenToVec for (0, last); otherwise
     * a Reshape copying the leading dims (0), with the collapsed and trailing sizes literal where
     * static and one of them inferred (-1).
     */
    private static void flatten(Op op, NetWriter w) {
        TensorType x = op.operand(0).tensorType();
        int rank = x.rank();
        String in = w.ref(op.operand(0));
        if (rank == 0) {
            writeReshape(w, in, new long[] {1}, w.define(op.result()));
            return;
        }
        int s = (int) norm(op.intAttr("start_dim"), rank), e = (int) norm(op.intAttr("end_dim"), rank);
        if (s == e) {
            w.op("Copy", List.of(in), List.of(w.define(op.result())));
        } else if (s == 0 && e == rank - 1) {
            w.op("FlattenToVec", List.of(in), List.of(w.define(op.result())));
        } else if (s == 1 && e == rank - 1) {
            w.op("Flatten", List.of(in), List.of(w.define(op.result()))).addArg(Args.i("axis", 1));
        } else {
            List<Dim> dims = x.shape().dims();
            long[] target = new long[rank - (e - s)];
            int inferred = 0;
            long collapsed = 1;
            for (Dim d : dims.subList(s, e + 1)) collapsed = d.isStatic() && collapsed >= 0 ? collapsed * d.size() : -1;
            target[s] = collapsed;
            if (collapsed < 0) inferred++;
            for (int i = e + 1; i < rank; i++) {
                Dim d = dims.get(i);
                target[s + 1 + i - e - 1] = d.isStatic() ? d.size() : -1;
                if (!d.isStatic()) inferred++;
            }
            if (inferred > 1) {
                throw NetWriter.error(op, "flattening dims " + s + ".." + e + " of " + x + " leaves " + inferred
                        + " sizes unknown, but Caffe2 Reshape infers only one");
            }
            writeReshape(w, in, target, w.define(op.result()));
        }
    }

    private static void permute(Op op, NetWriter w) {
        int rank = op.operand(0).tensorType().rank();
        long[] axes = Arrays.stream(op.intsAttr("perm")).map(p -> norm(p, rank)).toArray();
        w.op("Transpose", List.of(w.ref(op.operand(0))), List.of(w.define(op.result()))).addArg(Args.ints("axes", axes));
    }

    /** Concat along one axis; its second output (split_info) gets a fresh blob. */
    private static void cat(Op op, NetWriter w) {
        List<String> in = new ArrayList<>();
        for (Value v : op.operands()) in.add(w.ref(v));
        String out = w.define(op.result());
        w.op("Concat", in, List.of(out, w.temp(out + "_split_info")))
                .addArg(Args.i("axis", norm(op.intAttr("axis"), op.result().tensorType().rank())));
    }

    /**
     * ReduceSum; integers are widened to i64 first, as Kiln sums them into i64 while Caffe2 keeps
     * the input dtype. Empty axes (reduce all) are written as every axis.
     */
    private static void sum(Op op, NetWriter w) {
        DType d = op.operand(0).tensorType().dtype();
        String in = w.ref(op.operand(0));
        if (d.isInteger() && d != DType.I64) {
            String wide = w.temp(in + "_i64");
            w.op("Cast", List.of(in), List.of(wide)).addArg(Args.i("to", Fills.dataType(DType.I64).getNumber()));
            in = wide;
        } else {
            NetWriter.requireDType(op, 0, "ReduceSum", NUMERIC);
        }
        reduce("ReduceSum", op, w, in);
    }

    private static void mean(Op op, NetWriter w) {
        NetWriter.requireDType(op, 0, "ReduceMean", F32);
        reduce("ReduceMean", op, w, w.ref(op.operand(0)));
    }

    private static void reduce(String type, Op op, NetWriter w, String in) {
        int rank = op.operand(0).tensorType().rank();
        long[] axes = Arrays.stream(op.intsAttr("axes")).map(a -> norm(a, rank)).sorted().toArray();
        if (axes.length == 0) axes = java.util.stream.LongStream.range(0, rank).toArray();
        w.op(type, List.of(in), List.of(w.define(op.result())))
                .addArg(Args.ints("axes", axes)).addArg(Args.i("keepdims", op.boolAttr("keepdim") ? 1 : 0));
    }

    /** embedding(weight, indices) is Gather(DATA = weight, INDICES = indices) along axis 0. */
    private static void embedding(Op op, NetWriter w) {
        NetWriter.requireDType(op, 1, "Gather", Set.of(DType.I32, DType.I64));
        w.op("Gather", List.of(w.ref(op.operand(0)), w.ref(op.operand(1))), List.of(w.define(op.result())));
    }

    static long norm(long axis, int rank) { return axis < 0 ? axis + rank : axis; }
}
