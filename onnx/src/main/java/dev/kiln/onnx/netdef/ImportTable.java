package dev.kiln.onnx.netdef;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.Argument;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.TensorProto.DataType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import static dev.kiln.ir.Builder.attrs;
import static java.util.Map.entry;

/**
 * The one table from Caffe2 operator types to Kiln ops, the reverse of {@link ExportTable}, with
 * elementwise, shape and reduction operators here and the neural-network ones in {@link NnImport}.
 * Fill operators are read by {@link Fills}. An operator type missing here cannot be imported.
 */
final class ImportTable {

    private ImportTable() {}

    /** Builds the Kiln ops computing the current operator of {@code r} and binds its outputs. */
    @FunctionalInterface
    interface OpImport {
        void read(NetReader r);
    }

    private static final Map<String, OpImport> TABLE = Map.ofEntries(
            entry("Add", binary("add")),
            entry("Sub", binary("sub")),
            entry("Mul", binary("mul")),
            entry("Div", binary("div")),
            entry("GT", binary("gt")),
            entry("LT", binary("lt")),
            entry("GE", binary("ge")),
            entry("LE", binary("le")),
            entry("EQ", binary("eq")),
            entry("NE", binary("ne")),
            entry("And", binary("logical_and")),
            entry("Or", binary("logical_or")),
            entry("Not", unary("logical_not")),
            entry("Negative", unary("neg")),
            entry("Relu", unary("relu")),
            entry("Sigmoid", unary("sigmoid")),
            entry("Tanh", unary("tanh")),
            entry("Exp", unary("exp")),
            entry("Log", unary("log")),
            entry("Sqrt", unary("sqrt")),
            entry("Rsqrt", unary("rsqrt")),
            entry("Reciprocal", unary("reciprocal")),
            entry("Abs", unary("abs")),
            entry("Sin", unary("sin")),
            entry("Cos", unary("cos")),
            entry("Erf", unary("erf")),
            entry("Floor", unary("floor")),
            entry("Ceil", unary("ceil")),
            entry("Copy", unary("clone")),
            entry("LeakyRelu", withFloat("leaky_relu", "alpha", "negative_slope", 0.01)),
            entry("Elu", withFloat("elu", "alpha", "alpha", 1.0)),
            entry("Pow", ImportTable::pow),
            entry("Cast", ImportTable::cast),
            entry("Reshape", ImportTable::reshape),
            entry("Flatten", ImportTable::flatten),
            entry("FlattenToVec", ImportTable::flattenToVec),
            entry("Transpose", ImportTable::transpose),
            entry("Concat", ImportTable::concat),
            entry("ReduceSum", r -> reduce(r, "sum")),
            entry("ReduceMean", r -> reduce(r, "mean")),
            entry("Sum", ImportTable::sum),
            entry("Dropout", ImportTable::dropout),
            entry("Gather", ImportTable::gather),
            entry("FC", NnImport::fc),
            entry("MatMul", NnImport::matmul),
            entry("BatchMatMul", NnImport::batchMatmul),
            entry("Conv", NnImport::conv),
            entry("SpatialBN", NnImport::spatialBn),
            entry("Softmax", NnImport::softmax),
            entry("MaxPool", r -> NnImport.pool(r, true)),
            entry("AveragePool", r -> NnImport.pool(r, false)));

    static boolean has(String type) { return TABLE.containsKey(type); }

    static OpImport get(String type) {
        OpImport i = TABLE.get(type);
        if (i == null) throw new NetDefException("Caffe2 operator '" + type + "' cannot be imported");
        return i;
    }

    private static OpImport unary(String kilnOp) {
        return r -> {
            r.arity(1, 1, 1, 1);
            r.out(0, r.emit(kilnOp, r.in(0)));
        };
    }

    private static OpImport withFloat(String kilnOp, String caffe2Arg, String kilnAttr, double fallback) {
        return r -> {
            r.arity(1, 1, 1, 1);
            r.out(0, r.emit(kilnOp, attrs(kilnAttr, r.args().f(caffe2Arg, fallback)), r.in(0)));
        };
    }

    /** Pow with its {@code exponent} argument (the two-input form, an exponent tensor, is not supported). */
    private static void pow(NetReader r) {
        r.arity(1, 2, 1, 1);
        if (r.inputCount() == 2 || !r.args().has("exponent")) {
            throw r.error("only Pow with an 'exponent' argument can be imported, not an exponent tensor input");
        }
        r.out(0, r.emit("pow_scalar", attrs("exponent", r.args().f("exponent", 0)), r.in(0)));
    }

    /**
     * A binary operator. Without {@code broadcast} Caffe2 broadcasts like NumPy, as Kiln does. With
     * {@code broadcast = 1} (legacy broadcasting) B's dims, leading and trailing 1s aside, must equal
     * A's from {@code axis} on (default: B aligned with A's last dims); B then gets trailing 1s so
     * that NumPy broadcasting lines it up the same way.
     */
    private static OpImport binary(String kilnOp) {
        return r -> {
            r.arity(2, 2, 1, 1);
            Value a = r.in(0), b = r.in(1);
            if (r.args().i("broadcast", 0) != 0) {
                b = legacyBroadcast(r, a.tensorType(), b);
            } else if (r.args().has("axis") || r.args().has("axis_str")) {
                throw r.error("'axis' is given without broadcast = 1, which Caffe2 refuses");
            }
            r.out(0, r.emit(kilnOp, a, b));
        };
    }

    private static Value legacyBroadcast(NetReader r, TensorType a, Value bValue) {
        TensorType b = bValue.tensorType();
        if (b.rank() > a.rank()) throw r.error("legacy broadcasting needs B " + b + " to have at most the rank of A " + a);
        if (b.shape().dims().stream().allMatch(d -> d.equals(Dim.of(1)))) return bValue;
        long axis = r.args().i("axis", -1);
        String axisStr = r.args().s("axis_str", "");
        if (!axisStr.isEmpty()) {
            if (axis != -1) throw r.error("'axis' and 'axis_str' cannot both be given");
            axis = r.args().s("order", "NCHW").indexOf(axisStr);
            if (axisStr.length() != 1 || axis < 0) throw r.error("axis_str '" + axisStr + "' is not a letter of the order");
        }
        if (axis == -1) axis = a.rank() - b.rank();
        if (axis < 0 || axis > a.rank() - b.rank()) {
            throw r.error("broadcast axis " + axis + " must be in [0, " + (a.rank() - b.rank()) + "] for A " + a + " and B " + b);
        }
        int start = 0, end = b.rank() - 1;
        while (start < b.rank() && b.shape().dim(start).equals(Dim.of(1))) start++;
        while (end >= start && b.shape().dim(end).equals(Dim.of(1))) end--;
        for (int i = start; i <= end; i++) {
            Dim da = a.shape().dim((int) axis + i), db = b.shape().dim(i);
            if (!da.equals(db) && !(da instanceof Dim.Unknown) && !(db instanceof Dim.Unknown)) {
                throw r.error("legacy broadcasting of B " + b + " into A " + a + " at axis " + axis + " needs dim " + i
                        + " of B (" + db + ") to equal dim " + (axis + i) + " of A (" + da + ")");
            }
        }
        int trailing = (int) (a.rank() - axis - b.rank());
        if (trailing == 0) return bValue;
        List<Dim> dims = new ArrayList<>(b.shape().dims());
        for (int i = 0; i < trailing; i++) dims.add(Dim.of(1));
        return r.emit("reshape", Map.of("shape", r.sizes(dims, "aligning B for legacy broadcasting")), bValue);
    }

    /** Cast with {@code to} given as a data type number or name. */
    private static void cast(NetReader r) {
        r.arity(1, 1, 1, 1);
        Argument to = r.args().raw("to");
        if (to == null) throw r.error("the 'to' argument is missing");
        long code;
        if (to.hasS()) {
            DataType t;
            try {
                t = DataType.valueOf(r.args().s("to", "").toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw r.error("'to' names an unknown data type '" + r.args().s("to", "") + "'");
            }
            code = t.getNumber();
        } else {
            code = r.args().i("to", 0);
        }
        DType dtype = Fills.dtype(code);
        if (dtype == null) throw r.error("'to' is data type " + code + " (" + DataType.forNumber((int) code) + "), which Kiln has no dtype for");
        r.out(0, r.emit("cast", attrs("dtype", dtype), r.in(0)));
    }

    /**
     * Reshape with its {@code shape} argument: 0 copies the input's dim at that position (its size,
     * or its symbol), -1 is inferred. The old_shape output is a constant when the input is static.
     */
    private static void reshape(NetReader r) {
        r.arity(1, 2, 1, 2);
        if (r.inputCount() == 2) throw r.error("a new_shape input is not supported; give the target as the 'shape' argument");
        long[] shape = r.args().ints("shape");
        if (shape == null) throw r.error("the 'shape' argument is missing");
        Value x = r.in(0);
        List<Dim> in = x.tensorType().shape().dims();
        Object[] target = new Object[shape.length];
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < -1) throw r.error("shape " + Arrays.toString(shape) + " has entry " + shape[i] + " (only -1, 0 and sizes are allowed)");
            if (shape[i] != 0) {
                target[i] = shape[i];
                continue;
            }
            if (i >= in.size()) {
                throw r.error("shape " + Arrays.toString(shape) + " copies dim " + i + " (0), but the input " + x.type() + " has rank " + in.size());
            }
            target[i] = switch (in.get(i)) {
                case Dim.Static s -> s.size();
                case Dim.Symbolic s -> s.name();
                case Dim.Unknown u -> throw r.error("shape " + Arrays.toString(shape) + " copies dim " + i + " of " + x.type()
                        + ", which is unknown");
            };
        }
        r.out(0, r.emit("reshape", Map.of("shape", Attribute.dims(target)), x));
        r.lazyOut(1, () -> shapeConstant(r, x.tensorType(), "old_shape"));
    }

    private static Value shapeConstant(NetReader r, TensorType x, String what) {
        if (!x.shape().isStatic()) throw r.error("its " + what + " output is read, but the input " + x + " is not static, so Kiln"
                + " cannot make it a constant; give the input static dims or do not read " + what);
        long[] dims = x.shape().toArray();
        return r.constant(Attribute.Tensor.fromDoubles(DType.I64, new long[] {dims.length}, Arrays.stream(dims).asDoubleStream().toArray()));
    }

    /** Flatten: the dims before {@code axis} (default 1) into one, the rest into another: a 2-D result. */
    private static void flatten(NetReader r) {
        r.arity(1, 1, 1, 1);
        r.out(0, flatten2d(r, r.in(0), r.args().i("axis", 1)));
    }

    private static void flattenToVec(NetReader r) {
        r.arity(1, 1, 1, 1);
        Value x = r.in(0);
        r.out(0, x.tensorType().rank() == 0
                ? r.emit("reshape", attrs("shape", new long[] {1}), x)
                : r.emit("flatten", attrs("start_dim", 0L, "end_dim", -1L), x));
    }

    /** Caffe2's flatten of {@code x} to [prod(dims < axis), prod(dims >= axis)] with Kiln flatten/reshape ops. */
    static Value flatten2d(NetReader r, Value x, long axis) {
        int rank = x.tensorType().rank();
        if (axis < 0 || axis > rank) throw r.error("axis " + axis + " must be in [0, " + rank + "] for " + x.type());
        if (axis == 0 || axis == rank) {
            Value flat = rank == 0 ? x : r.emit("flatten", attrs("start_dim", 0L, "end_dim", -1L), x);
            return r.emit("reshape", attrs("shape", axis == 0 ? new long[] {1, -1} : new long[] {-1, 1}), flat);
        }
        Value y = x;
        if (axis < rank - 1) y = r.emit("flatten", attrs("start_dim", axis, "end_dim", -1L), y);
        if (axis > 1) y = r.emit("flatten", attrs("start_dim", 0L, "end_dim", axis - 1), y);
        return y;
    }

    /** Transpose with {@code axes} (default: reverse the dims). */
    private static void transpose(NetReader r) {
        r.arity(1, 1, 1, 1);
        Value x = r.in(0);
        long[] axes = r.args().ints("axes");
        int rank = x.tensorType().rank();
        if (axes == null) axes = LongStream.range(0, rank).map(i -> rank - 1 - i).toArray();
        r.out(0, r.emit("permute", attrs("perm", axes), x));
    }

    /** Concat along {@code axis} (or the channel axis of {@code order}); split_info is a constant if read. */
    private static void concat(NetReader r) {
        r.arity(1, Integer.MAX_VALUE, 1, 2);
        if (r.args().i("add_axis", 0) != 0) throw r.error("add_axis = 1 is not supported");
        List<Value> xs = new ArrayList<>();
        for (int i = 0; i < r.inputCount(); i++) xs.add(r.in(i));
        int rank = xs.get(0).tensorType().rank();
        long axis = r.args().has("axis") ? r.args().i("axis", -1) : r.args().s("order", "NCHW").equals("NHWC") ? rank - 1 : 1;
        long a = axis < 0 ? axis + rank : axis;
        r.out(0, r.emit("cat", attrs("axis", a), xs.toArray(Value[]::new)));
        r.lazyOut(1, () -> {
            double[] sizes = new double[xs.size()];
            for (int i = 0; i < sizes.length; i++) {
                Dim d = xs.get(i).tensorType().shape().dim((int) a);
                if (!d.isStatic()) {
                    throw r.error("its split_info output is read, but input " + i + " " + xs.get(i).type() + " has a non-static concat dim");
                }
                sizes[i] = d.size();
            }
            return r.constant(Attribute.Tensor.fromDoubles(DType.I32, new long[] {sizes.length}, sizes));
        });
    }

    /**
     * ReduceSum/ReduceMean over {@code axes} (all when absent) with {@code keepdims} (default 1).
     * Kiln sums integers into i64 where Caffe2 keeps the input dtype, so the sum is cast back.
     */
    private static void reduce(NetReader r, String kilnOp) {
        r.arity(1, 1, 1, 1);
        Value x = r.in(0);
        int rank = x.tensorType().rank();
        long[] axes = r.args().ints("axes");
        if (axes == null || axes.length == 0) axes = LongStream.range(0, rank).toArray();
        axes = Arrays.stream(axes).map(a -> a < 0 ? a + rank : a).toArray();
        Value y = r.emit(kilnOp, attrs("axes", axes, "keepdim", r.args().i("keepdims", 1) != 0), x);
        DType d = x.tensorType().dtype();
        if (y.tensorType().dtype() != d) y = r.emit("cast", attrs("dtype", d), y);
        r.out(0, y);
    }

    /** Sum: the elementwise sum of inputs that all have one shape. */
    private static void sum(NetReader r) {
        r.arity(1, Integer.MAX_VALUE, 1, 1);
        Value acc = r.in(0);
        Shape shape = acc.tensorType().shape();
        for (int i = 1; i < r.inputCount(); i++) {
            Value x = r.in(i);
            if (!x.tensorType().shape().equals(shape)) {
                throw r.error("inputs must share one shape, but input 0 is " + acc.type() + " and input " + i + " is " + x.type());
            }
        }
        if (r.inputCount() == 1) acc = r.emit("clone", acc);
        for (int i = 1; i < r.inputCount(); i++) acc = r.emit("add", acc, r.in(i));
        r.out(0, acc);
    }

    /** Dropout in test mode is the identity; its mask output is not written then, so reading it is an error. */
    private static void dropout(NetReader r) {
        r.arity(1, 1, 1, 2);
        if (r.args().i("is_test", 0) == 0) {
            throw r.error("Dropout in training mode (is_test = 0) draws random masks; only is_test = 1 (identity) can be imported");
        }
        r.out(0, r.in(0));
        r.lazyOut(1, () -> {
            throw r.error("its mask output is read, but a test-mode Dropout does not write one");
        });
    }

    /** Gather of rows of a 2-D DATA along axis 0: Kiln embedding. */
    private static void gather(NetReader r) {
        r.arity(2, 2, 1, 1);
        Value data = r.in(0), indices = r.in(1);
        if (r.args().i("axis", 0) != 0 || data.tensorType().rank() != 2) {
            throw r.error("only Gather along axis 0 of a 2-D DATA (an embedding lookup) can be imported; DATA is " + data.type()
                    + ", axis " + r.args().i("axis", 0));
        }
        r.out(0, r.emit("embedding", data, indices));
    }
}
