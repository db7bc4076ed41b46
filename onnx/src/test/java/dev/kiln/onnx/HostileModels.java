package dev.kiln.onnx;

import dev.kiln.onnx.proto.OnnxProtos.AttributeProto;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import dev.kiln.onnx.proto.OnnxProtos.OperatorSetIdProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorShapeProto;
import dev.kiln.onnx.proto.OnnxProtos.TypeProto;
import dev.kiln.onnx.proto.OnnxProtos.ValueInfoProto;

import java.util.List;

/** Builders for hand-made (often hostile) ONNX models in tests: protobuf messages, no binary blobs. */
final class HostileModels {

    static final int FLOAT = TensorProto.DataType.FLOAT.getNumber();
    static final int DOUBLE = TensorProto.DataType.DOUBLE.getNumber();
    static final int INT64 = TensorProto.DataType.INT64.getNumber();
    static final int BOOL = TensorProto.DataType.BOOL.getNumber();

    private HostileModels() {}

    /** A tensor value info; dims are numbers or dim_param strings. */
    static ValueInfoProto info(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            if (d instanceof String s) shape.addDimBuilder().setDimParam(s);
            else shape.addDimBuilder().setDimValue(((Number) d).longValue());
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
    }

    static NodeProto node(String op, String name, List<String> in, List<String> out, AttributeProto... attrs) {
        return NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(in).addAllOutput(out).addAllAttribute(List.of(attrs)).build();
    }

    static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }

    static AttributeProto integer(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    static AttributeProto graph(String name, GraphProto g) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.GRAPH).setG(g).build();
    }

    static AttributeProto tensor(String name, TensorProto t) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR).setT(t).build();
    }

    /** An i64 tensor holding {@code values} (1-D). */
    static TensorProto longs(String name, long... values) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(INT64).addDims(values.length);
        for (long v : values) t.addInt64Data(v);
        return t.build();
    }

    /** A tensor that declares {@code dims} of {@code elemType} and carries no data at all. */
    static TensorProto declaredOnly(String name, int elemType, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(elemType);
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    static ModelProto model(int opset, GraphProto g) {
        return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(opset)).setGraph(g).build();
    }

    /** A one-node model: {@code inputs} are graph inputs, the node's single output "y" the graph output. */
    static ModelProto oneNode(int opset, NodeProto node, List<ValueInfoProto> inputs, TensorProto... initializers) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("g").addAllInput(inputs).addNode(node)
                .addAllInitializer(List.of(initializers));
        for (String out : node.getOutputList()) g.addOutput(ValueInfoProto.newBuilder().setName(out));
        return model(opset, g.build());
    }

    /**
     * {@code depth} Ifs nested in their then-branches: level k's then-branch is the If of level k+1, its
     * else-branch a Neg; the innermost then-branch a Relu. Every branch reads the outer "x".
     */
    static ModelProto nestedIfs(int depth) {
        GraphProto inner = GraphProto.newBuilder().setName("leaf").addNode(node("Relu", "leaf_relu", List.of("x"), List.of("y" + depth)))
                .addOutput(ValueInfoProto.newBuilder().setName("y" + depth)).build();
        for (int k = depth - 1; k >= 0; k--) {
            GraphProto otherwise = GraphProto.newBuilder().setName("else" + k)
                    .addNode(node("Neg", "neg" + k, List.of("x"), List.of("n" + k)))
                    .addOutput(ValueInfoProto.newBuilder().setName("n" + k)).build();
            NodeProto ifNode = node("If", "if" + k, List.of("cond"), List.of("y" + k), graph("then_branch", inner), graph("else_branch", otherwise));
            inner = GraphProto.newBuilder().setName(k == 0 ? "g" : "then" + k).addNode(ifNode)
                    .addOutput(ValueInfoProto.newBuilder().setName("y" + k)).build();
        }
        GraphProto g = inner.toBuilder().addInput(info("cond", BOOL)).addInput(info("x", FLOAT, 4)).setOutput(0, info("y0", FLOAT, 4)).build();
        return model(17, g);
    }

    /**
     * A chain of {@code length} nodes: {@code op} applied to "x" (f32[4]) over and over.
     */
    static ModelProto chain(int length, String op) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("chain").addInput(info("x", FLOAT, 4));
        String prev = "x";
        for (int i = 0; i < length; i++) {
            String out = "v" + i;
            g.addNode(NodeProto.newBuilder().setOpType(op).addInput(prev).addOutput(out));
            prev = out;
        }
        g.addOutput(info(prev, FLOAT, 4));
        return model(17, g.build());
    }
}
