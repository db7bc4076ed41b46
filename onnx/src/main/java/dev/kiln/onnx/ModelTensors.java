package dev.kiln.onnx;

import dev.kiln.onnx.proto.OnnxProtos.AttributeProto;
import dev.kiln.onnx.proto.OnnxProtos.FunctionProto;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import dev.kiln.onnx.proto.OnnxProtos.SparseTensorProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.onnx.proto.OnnxProtos.TrainingInfoProto;

import java.util.function.UnaryOperator;

/**
 * Rewrites every tensor a model holds, in a fixed order: per graph its initializers, sparse
 * initializers and then each node's tensor attributes, recursing into subgraphs where they appear;
 * then training-info graphs and functions. Tensor data is shared, never copied.
 */
final class ModelTensors {

    private ModelTensors() {}

    static ModelProto map(ModelProto m, UnaryOperator<TensorProto> f) {
        ModelProto.Builder b = m.toBuilder();
        if (m.hasGraph()) b.setGraph(graph(m.getGraph(), f));
        for (int i = 0; i < m.getTrainingInfoCount(); i++) {
            TrainingInfoProto t = m.getTrainingInfo(i);
            TrainingInfoProto.Builder tb = t.toBuilder();
            if (t.hasInitialization()) tb.setInitialization(graph(t.getInitialization(), f));
            if (t.hasAlgorithm()) tb.setAlgorithm(graph(t.getAlgorithm(), f));
            b.setTrainingInfo(i, tb);
        }
        for (int i = 0; i < m.getFunctionsCount(); i++) {
            FunctionProto fn = m.getFunctions(i);
            FunctionProto.Builder fb = fn.toBuilder();
            for (int j = 0; j < fn.getAttributeProtoCount(); j++) fb.setAttributeProto(j, attribute(fn.getAttributeProto(j), f));
            for (int j = 0; j < fn.getNodeCount(); j++) fb.setNode(j, node(fn.getNode(j), f));
            b.setFunctions(i, fb);
        }
        return b.build();
    }

    private static GraphProto graph(GraphProto g, UnaryOperator<TensorProto> f) {
        GraphProto.Builder b = g.toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) b.setInitializer(i, f.apply(g.getInitializer(i)));
        for (int i = 0; i < g.getSparseInitializerCount(); i++) b.setSparseInitializer(i, sparse(g.getSparseInitializer(i), f));
        for (int i = 0; i < g.getNodeCount(); i++) b.setNode(i, node(g.getNode(i), f));
        return b.build();
    }

    private static NodeProto node(NodeProto n, UnaryOperator<TensorProto> f) {
        NodeProto.Builder b = n.toBuilder();
        for (int i = 0; i < n.getAttributeCount(); i++) b.setAttribute(i, attribute(n.getAttribute(i), f));
        return b.build();
    }

    private static AttributeProto attribute(AttributeProto a, UnaryOperator<TensorProto> f) {
        AttributeProto.Builder b = a.toBuilder();
        if (a.hasT()) b.setT(f.apply(a.getT()));
        for (int i = 0; i < a.getTensorsCount(); i++) b.setTensors(i, f.apply(a.getTensors(i)));
        if (a.hasSparseTensor()) b.setSparseTensor(sparse(a.getSparseTensor(), f));
        for (int i = 0; i < a.getSparseTensorsCount(); i++) b.setSparseTensors(i, sparse(a.getSparseTensors(i), f));
        if (a.hasG()) b.setG(graph(a.getG(), f));
        for (int i = 0; i < a.getGraphsCount(); i++) b.setGraphs(i, graph(a.getGraphs(i), f));
        return b.build();
    }

    private static SparseTensorProto sparse(SparseTensorProto s, UnaryOperator<TensorProto> f) {
        SparseTensorProto.Builder b = s.toBuilder();
        if (s.hasValues()) b.setValues(f.apply(s.getValues()));
        if (s.hasIndices()) b.setIndices(f.apply(s.getIndices()));
        return b.build();
    }
}
