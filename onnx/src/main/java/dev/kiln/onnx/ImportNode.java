package dev.kiln.onnx;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.proto.OnnxProtos.AttributeProto;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.runtime.NDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One ONNX node being converted: its inputs as Kiln values, its attributes, the opset, a builder at
 * the insertion point, and helpers the converters share (import-time constants, casts, reshapes).
 */
final class ImportNode {

    final OnnxImporter.Session session;
    final NodeProto node;
    final int index;
    final int opset;
    final Builder b;
    private final List<Value> inputs;

    ImportNode(OnnxImporter.Session session, NodeProto node, int index, int opset, Builder b, List<Value> inputs) {
        this.session = session;
        this.node = node;
        this.index = index;
        this.opset = opset;
        this.b = b;
        this.inputs = inputs;
    }

    String op() { return node.getOpType(); }

    /** "node 3 'conv1' (Conv)", for messages. */
    String describe() {
        return "node " + index + (node.getName().isEmpty() ? "" : " '" + node.getName() + "'") + " (" + node.getOpType() + ")";
    }

    OnnxImportException error(String what) { return new OnnxImportException(describe() + ": " + what); }

    /** An error naming this node, keeping the exception that revealed it. */
    OnnxImportException error(String what, Throwable cause) { return new OnnxImportException(describe() + ": " + what, cause); }

    ImportUnsupportedException unsupported(String what) {
        return new ImportUnsupportedException(describe() + ": " + what + " is not supported");
    }

    // ---- inputs and outputs

    int inputCount() { return inputs.size(); }

    /** Whether input {@code i} is present (not past the end, not the empty name). */
    boolean has(int i) { return i < inputs.size() && inputs.get(i) != null; }

    /** Required input {@code i}. */
    Value in(int i) {
        if (!has(i)) throw error("input " + i + " is required but missing");
        return inputs.get(i);
    }

    /** Optional input {@code i}, or null. */
    Value opt(int i) { return has(i) ? inputs.get(i) : null; }

    int outputCount() { return node.getOutputCount(); }

    /** Whether output {@code i} is requested (present with a non-empty name). */
    boolean wantsOutput(int i) { return i < node.getOutputCount() && !node.getOutput(i).isEmpty(); }

    TensorType type(Value v) {
        if (!(v.type() instanceof TensorType t)) throw error("expected a tensor, got " + v.type());
        return t;
    }

    TensorType type(int i) { return type(in(i)); }

    /**
     * Input {@code i}'s type, which must have at least {@code minRank} dims ({@code layout} describes them
     * for the message, e.g. "[N, C, spatial...]"): converters that index dims check the rank here first.
     */
    TensorType type(int i, int minRank, String layout) {
        TensorType t = type(i);
        if (t.rank() < minRank) throw error("input " + i + " must be " + layout + " (rank " + minRank + " or more), got " + t);
        return t;
    }

    /** The static size of dim {@code d} of input {@code i}; a dynamic dim is unsupported for {@code why}. */
    long staticDim(int i, int d, String why) {
        Dim dim = type(i).shape().dims().get(d);
        if (!dim.isStatic()) throw unsupported(why + " with dynamic dim " + d + " (" + dim + ") of input " + i);
        return dim.size();
    }

    // ---- attributes

    AttributeProto attr(String name) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                if (!a.getRefAttrName().isEmpty()) throw unsupported("attribute '" + name + "' referring to a function attribute");
                return a;
            }
        }
        return null;
    }

    boolean hasAttr(String name) { return attr(name) != null; }

    long attrInt(String name, long dflt) {
        AttributeProto a = attr(name);
        if (a == null) return dflt;
        requireType(a, AttributeProto.AttributeType.INT);
        return a.getI();
    }

    double attrFloat(String name, double dflt) {
        AttributeProto a = attr(name);
        if (a == null) return dflt;
        requireType(a, AttributeProto.AttributeType.FLOAT);
        return a.getF();
    }

    String attrString(String name, String dflt) {
        AttributeProto a = attr(name);
        if (a == null) return dflt;
        requireType(a, AttributeProto.AttributeType.STRING);
        return a.getS().toStringUtf8();
    }

    /** The INTS attribute, which the node must have. */
    long[] requiredInts(String name) {
        long[] v = attrInts(name);
        if (v == null) throw error("attribute '" + name + "' is required but missing");
        return v;
    }

    /** The INTS attribute, or null when absent. */
    long[] attrInts(String name) {
        AttributeProto a = attr(name);
        if (a == null) return null;
        requireType(a, AttributeProto.AttributeType.INTS);
        return a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    double[] attrFloats(String name) {
        AttributeProto a = attr(name);
        if (a == null) return null;
        requireType(a, AttributeProto.AttributeType.FLOATS);
        return a.getFloatsList().stream().mapToDouble(Float::doubleValue).toArray();
    }

    TensorProto attrTensor(String name) {
        AttributeProto a = attr(name);
        if (a == null) return null;
        requireType(a, AttributeProto.AttributeType.TENSOR);
        return a.getT();
    }

    GraphProto attrGraph(String name) {
        AttributeProto a = attr(name);
        if (a == null) throw error("attribute '" + name + "' is required but missing");
        requireType(a, AttributeProto.AttributeType.GRAPH);
        return a.getG();
    }

    private void requireType(AttributeProto a, AttributeProto.AttributeType t) {
        if (a.hasType() && a.getType() != t) {
            throw error("attribute '" + a.getName() + "' must be " + t + ", got " + a.getType());
        }
    }

    // ---- import-time constants

    /** Input {@code i}'s data, which must be computable at import time. */
    NDArray constant(int i) {
        Value v = in(i);
        NDArray a = session.evaluate(v);
        ImportSymbolicShape.ShapeValue sizes = session.shapeValue(v);
        if (sizes != null) {
            throw new ImportNeedsConstantException(describe() + ": input " + i + " ('" + node.getInput(i)
                    + "') must be known at import time, but it holds the run-time sizes " + sizes + " read with Shape from graph inputs "
                    + sizes.graphInputs() + ", which " + op() + " cannot take here; binding those inputs with "
                    + "ImportOptions.withConstantInputs makes them static", sizes.graphInputs());
        }
        if (a == null) {
            throw new ImportNeedsConstantException(describe() + ": input " + i + " ('" + node.getInput(i)
                    + "') must be known at import time (a constant, an initializer or computed from them), but it depends on "
                    + "graph inputs " + session.dependsOn(v), session.dependsOn(v));
        }
        return a;
    }

    /** Input {@code i} as integers, read at import time. */
    long[] constLongs(int i) {
        NDArray a = constant(i);
        if (!a.dtype().isInteger()) throw error("input " + i + " must be an integer tensor, got " + a.dtype());
        return a.contiguous().toLongArray();
    }

    /** One-element input {@code i} as a double, read at import time. */
    double constScalar(int i) {
        NDArray a = constant(i);
        if (a.numel() != 1) throw error("input " + i + " must hold one element, got shape " + java.util.Arrays.toString(a.shape()));
        return a.getFlat(0);
    }

    // ---- building

    Value op(String name, Map<String, Attribute> attrs, Value... operands) { return b.op(name, attrs, operands); }

    Value op(String name, Value... operands) { return b.op(name, operands); }

    Value constant(NDArray a) {
        return b.constant(new Attribute.Tensor(TensorType.of(a.dtype(), a.shape()), a.contiguous().toLittleEndianBytes()));
    }

    /** A 0-d constant of {@code dtype}. */
    Value scalar(DType dtype, double value) {
        return b.constant(Attribute.Tensor.fromDoubles(dtype, new long[0], new double[] {value}));
    }

    Value longs(long[] values) {
        return b.constant(Attribute.Tensor.fromDoubles(DType.I64, new long[] {values.length},
                java.util.Arrays.stream(values).asDoubleStream().toArray()));
    }

    Value cast(Value v, DType to) {
        return type(v).dtype() == to ? v : op("cast", Builder.attrs("dtype", to), v);
    }

    /**
     * Reshapes {@code v} to {@code dims}: static entries as sizes, symbolic ones by name, and at most
     * one unknown entry (as -1).
     */
    Value reshape(Value v, List<Dim> dims) {
        if (type(v).shape().dims().equals(dims)) return v;
        long[] values = new long[dims.size()];
        String[] symbols = new String[dims.size()];
        boolean anySymbol = false;
        int unknown = 0;
        for (int i = 0; i < values.length; i++) {
            switch (dims.get(i)) {
                case Dim.Static s -> values[i] = s.size();
                case Dim.Symbolic s -> { symbols[i] = s.name(); anySymbol = true; }
                case Dim.Unknown u -> { values[i] = -1; unknown++; }
            }
        }
        if (unknown > 1) throw unsupported("reshaping " + type(v) + " to " + dims + " (more than one unknown dim)");
        Attribute shape = anySymbol ? new Attribute.Dims(values, symbols) : new Attribute.Ints(values);
        return op("reshape", Map.of("shape", shape), v);
    }

    /** {@code v} with size-1 dims inserted at the (output-rank) {@code axes}. */
    Value unsqueeze(Value v, long... axes) {
        List<Dim> in = type(v).shape().dims();
        int rank = in.size() + axes.length;
        boolean[] isNew = new boolean[rank];
        for (long a : axes) {
            int ax = (int) (a < 0 ? a + rank : a);
            if (ax < 0 || ax >= rank || isNew[ax]) throw error("axes " + java.util.Arrays.toString(axes) + " are invalid for output rank " + rank);
            isNew[ax] = true;
        }
        List<Dim> out = new ArrayList<>();
        int k = 0;
        for (int i = 0; i < rank; i++) out.add(isNew[i] ? Dim.of(1) : in.get(k++));
        return reshape(v, out);
    }

    /** Normalises an ONNX axis against {@code rank}: it must name one of the dims (a 0-d tensor has none). */
    int axis(long axis, int rank) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw error("axis " + axis + " is out of range for rank " + rank);
        return (int) a;
    }

    /**
     * The most ops a converter builds from one size read from the model (a 3-D Conv's kernel depth, a MaxPool
     * Indices window): sizes come from strangers' files, so work proportional to them is bounded too.
     */
    static final int MAX_UNROLLED_OPS = 4096;

    /** {@code count} ops to build for {@code what} must not exceed {@link #MAX_UNROLLED_OPS}. */
    void checkUnroll(long count, String what) {
        if (count > MAX_UNROLLED_OPS) {
            throw unsupported(what + " of " + count + " (Kiln builds one op per element here, at most " + MAX_UNROLLED_OPS + ")");
        }
    }

    /** A tensor of {@code dtype[shape]} this node is about to allocate must fit the import's size limit. */
    void checkSize(DType dtype, long[] shape, String what) { session.checkSize(this, dtype, shape, what); }

    /** Static dims of {@code v}; a dynamic dim is reported as unsupported for {@code why}. */
    long[] staticShape(Value v, String why) {
        Shape s = type(v).shape();
        if (!s.isStatic()) throw unsupported(why + " on an input of dynamic shape " + s);
        return s.toArray();
    }
}
