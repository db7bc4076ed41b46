package dev.kiln.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.ir.Verifier;
import dev.kiln.onnx.proto.OnnxProtos.AttributeProto;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import dev.kiln.onnx.proto.OnnxProtos.OperatorSetIdProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorShapeProto;
import dev.kiln.onnx.proto.OnnxProtos.TypeProto;
import dev.kiln.onnx.proto.OnnxProtos.ValueInfoProto;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.OpKernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Imports an ONNX {@code ModelProto} (IR version 3 and up, default-domain opset 6 and up) as a Kiln
 * {@link Graph}. Each node becomes Kiln registry ops through the converter table
 * ({@link ImportConverters}); initializers become weights; values a node needs at import time
 * (shapes, axes, pads) are folded from constants with the reference kernels. Every op the table
 * lacks is reported at once, before anything is converted.
 */
public final class OnnxImporter {

    /** The default-domain opsets this importer was written against. */
    public static final int MIN_OPSET = 6;

    /**
     * How deep If/Loop subgraphs may nest. Deeper models are refused before conversion starts, so the
     * recursive conversion of nested subgraphs cannot overflow the stack (ONNX files parsed with protobuf's
     * default nesting limit cannot get near it).
     */
    public static final int MAX_SUBGRAPH_DEPTH = 128;

    private OnnxImporter() {}

    /** Reads and imports an ONNX file; external data resolves against the file's directory. */
    public static ImportedModel load(Path modelFile) { return load(modelFile, ImportOptions.defaults()); }

    public static ImportedModel load(Path modelFile, ImportOptions options) {
        ModelProto model = OnnxFiles.load(modelFile);
        return fromProto(model, modelFile.toAbsolutePath().getParent(), options);
    }

    public static ImportedModel fromProto(ModelProto model, Path baseDir) { return fromProto(model, baseDir, ImportOptions.defaults()); }

    /** Imports {@code model}; {@code baseDir} resolves external tensor data. */
    public static ImportedModel fromProto(ModelProto model, Path baseDir, ImportOptions options) {
        if (!model.hasGraph()) throw new OnnxImportException("the model has no graph (ModelProto.graph is missing)");
        if (!model.hasIrVersion()) throw new OnnxImportException("the model has no ir_version");
        if (model.getIrVersion() < 3) {
            throw new ImportUnsupportedException("ir_version " + model.getIrVersion() + " is not supported (Kiln imports 3 and up)");
        }
        Map<String, Long> opsets = new LinkedHashMap<>();
        for (OperatorSetIdProto o : model.getOpsetImportList()) opsets.put(o.getDomain().equals("ai.onnx") ? "" : o.getDomain(), o.getVersion());
        checkSupported(model.getGraph(), opsets);
        Long opset = opsets.get("");
        if (opset == null) throw new OnnxImportException("the model imports no opset of the default ONNX domain");
        if (opset < MIN_OPSET) throw new ImportUnsupportedException("opset " + opset + " is not supported (Kiln imports " + MIN_OPSET + " and up)");
        return new Session(model, baseDir, options, opset.intValue(), opsets).run();
    }

    /** Throws one exception listing every node whose op the converter table lacks, subgraphs included. */
    private static void checkSupported(GraphProto g, Map<String, Long> opsets) {
        Map<String, String> missing = new LinkedHashMap<>();
        collectUnsupported(g, opsets, missing, "", 0);
        if (!missing.isEmpty()) {
            StringBuilder msg = new StringBuilder("the model uses " + missing.size() + " unsupported op"
                    + (missing.size() == 1 ? "" : "s") + ":");
            missing.forEach((op, where) -> msg.append("\n  ").append(op).append(" (first at ").append(where).append(')'));
            throw new ImportUnsupportedException(msg.toString());
        }
    }

    private static void collectUnsupported(GraphProto g, Map<String, Long> opsets, Map<String, String> missing, String path, int depth) {
        if (depth > MAX_SUBGRAPH_DEPTH) {
            throw new ImportUnsupportedException("subgraphs nested more than " + MAX_SUBGRAPH_DEPTH + " levels deep (at "
                    + path.substring(0, Math.min(path.length(), 300)) + "...)");
        }
        for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto n = g.getNode(i);
            String domain = n.getDomain().equals("ai.onnx") ? "" : n.getDomain();
            if (!domain.isEmpty() || !ImportConverters.supports(n.getOpType())) {
                String key = (domain.isEmpty() ? "" : domain + ":") + n.getOpType() + " [domain '" + domain + "', opset "
                        + opsets.getOrDefault(domain, -1L) + "]";
                missing.putIfAbsent(key, path + "node " + i + (n.getName().isEmpty() ? "" : " '" + n.getName() + "'"));
            }
            for (AttributeProto a : n.getAttributeList()) {
                String sub = path + "node " + i + (n.getName().isEmpty() ? "" : " '" + n.getName() + "'") + " " + n.getOpType()
                        + "." + a.getName() + " > ";
                if (a.hasG()) collectUnsupported(a.getG(), opsets, missing, sub, depth + 1);
                for (GraphProto sg : a.getGraphsList()) collectUnsupported(sg, opsets, missing, sub, depth + 1);
            }
        }
    }

    /** The state of one import: the graph being built, weight data and import-time constant folding. */
    static final class Session {
        private final ModelProto model;
        private final Path baseDir;
        private final ImportOptions options;
        final int opset;
        private final Map<String, Long> opsets;
        private final Graph graph;
        private final Map<String, NDArray> weightData = new LinkedHashMap<>();
        private final Map<Value, NDArray> folded = new IdentityHashMap<>();
        /** Values known to depend on graph inputs (or to have no kernel), so {@link #evaluate} never walks them twice. */
        private final Set<Value> notFoldable = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        /** Values that stand for run-time sizes (see {@link ImportSymbolicShape}), each a constant in a detached scratch graph. */
        private final Map<Value, ImportSymbolicShape.ShapeValue> shapeValues = new IdentityHashMap<>();
        private final Builder shapeValueScratch = Builder.atEnd(new Graph("import_shape_values").body());
        private int nodeCounter;

        Session(ModelProto model, Path baseDir, ImportOptions options, int opset, Map<String, Long> opsets) {
            this.model = model;
            this.baseDir = baseDir;
            this.options = options;
            this.opset = opset;
            this.opsets = opsets;
            String name = model.getGraph().getName().replaceAll("[^A-Za-z0-9_.]", "_");
            if (name.isEmpty() || !Character.isLetter(name.charAt(0)) && name.charAt(0) != '_') name = "g_" + name;
            this.graph = new Graph(name);
        }

        Path baseDir() { return baseDir; }

        /** The largest tensor this import reads, builds or folds. */
        long maxTensorBytes() { return options.maxTensorBytes(); }

        /** A TensorProto's data (an initializer or an attribute), within this import's size limit. */
        NDArray tensor(TensorProto t) { return OnnxTensors.toArray(t, baseDir, options.maxTensorBytes()); }

        ImportedModel run() {
            GraphProto g = model.getGraph();
            ImportScope scope = new ImportScope(null);
            Builder b = Builder.atEnd(graph.body());
            Set<String> initNames = new LinkedHashSet<>();
            for (TensorProto t : g.getInitializerList()) {
                if (t.getName().isEmpty()) throw new OnnxImportException("an initializer has no name");
                if (!initNames.add(t.getName())) throw new OnnxImportException("initializer '" + t.getName() + "' is declared twice");
                NDArray data = tensor(t);
                weightData.put(t.getName(), data);
                scope.put(t.getName(), graph.addWeight(t.getName(), TensorType.of(data.dtype(), data.shape())));
            }
            if (g.getSparseInitializerCount() > 0) throw new ImportUnsupportedException("sparse initializers are not supported");
            List<String> inputNames = new ArrayList<>();
            for (ValueInfoProto in : g.getInputList()) {
                if (initNames.contains(in.getName())) continue; // IR < 4: an initializer listed as an input is a default; Kiln keeps it fixed
                TensorType t = tensorType(in, "graph input '" + in.getName() + "'");
                NDArray fixed = options.constantInputs().get(in.getName());
                if (fixed != null) {
                    scope.put(in.getName(), b.constant(new Attribute.Tensor(TensorType.of(fixed.dtype(), fixed.shape()),
                            fixed.contiguous().toLittleEndianBytes())));
                } else {
                    scope.put(in.getName(), graph.addInput(in.getName(), t));
                    inputNames.add(in.getName());
                }
            }
            List<Value> outs = convertNodes(g, scope, b);
            b.ret(outs.toArray(Value[]::new));
            try {
                Verifier.verify(graph);
            } catch (RuntimeException e) {
                throw new OnnxImportException("the imported graph does not verify: " + e.getMessage(), e);
            }
            List<String> outputNames = g.getOutputList().stream().map(ValueInfoProto::getName).toList();
            return new ImportedModel(graph, weightData, new ImportedModel.Info(model.getIrVersion(), opsets,
                    model.getProducerName(), model.getProducerVersion(), model.getDocString(), g.getName(), inputNames, outputNames));
        }

        /** Converts {@code g}'s nodes into {@code b}'s block and returns the values of its outputs. */
        List<Value> convertNodes(GraphProto g, ImportScope scope, Builder b) {
            for (NodeProto n : g.getNodeList()) {
                int index = nodeCounter++;
                List<Value> inputs = new ArrayList<>();
                for (String name : n.getInputList()) {
                    if (name.isEmpty()) {
                        inputs.add(null);
                        continue;
                    }
                    Value v = scope.get(name);
                    if (v == null) {
                        throw new OnnxImportException("node " + index + " '" + n.getName() + "' (" + n.getOpType() + "): input '"
                                + name + "' is not defined by any earlier node, input or initializer");
                    }
                    inputs.add(v);
                }
                ImportNode node = new ImportNode(this, n, index, opset, b, inputs);
                int opsBefore = b.block().ops().size();
                List<Value> results;
                try {
                    results = ImportSymbolicShape.handles(node) ? ImportSymbolicShape.convert(node)
                            : ImportConverters.get(n.getOpType()).convert(node, scope);
                    checkSizes(node, b.block().ops(), opsBefore);
                } catch (OnnxImportException e) {
                    throw e;
                } catch (IllegalArgumentException | IllegalStateException | ArithmeticException
                         | UnsupportedOperationException e) {
                    throw node.error(e.getMessage() == null ? e.toString() : e.getMessage(), e);
                } catch (RuntimeException e) {
                    // a converter that did not foresee this input: still an error naming the node, never a raw JDK exception
                    throw node.error("the node cannot be converted (" + e + ")", e);
                }
                checkShapeValuesUnused(node, inputs);
                for (int i = 0; i < n.getOutputCount(); i++) {
                    String name = n.getOutput(i);
                    if (name.isEmpty()) continue;
                    if (i >= results.size() || results.get(i) == null) throw node.unsupported("output " + i + " ('" + name + "')");
                    scope.put(name, results.get(i));
                }
            }
            List<Value> outs = new ArrayList<>();
            for (ValueInfoProto o : g.getOutputList()) {
                Value v = scope.get(o.getName());
                if (v == null) throw new OnnxImportException("graph output '" + o.getName() + "' is not produced by any node");
                ImportSymbolicShape.ShapeValue sv = shapeValues.get(v);
                if (sv != null) {
                    throw new ImportNeedsConstantException("graph output '" + o.getName() + "' is the run-time size list " + sv
                            + ", which a Kiln graph cannot compute as a tensor; binding graph inputs " + sv.graphInputs()
                            + " with ImportOptions.withConstantInputs makes it static", sv.graphInputs());
                }
                if (o.hasType() && o.getType().hasTensorType() && o.getType().getTensorType().hasElemType()
                        && v.type() instanceof TensorType tt) {
                    var declared = OnnxTensors.dtype(o.getType().getTensorType().getElemType(), "graph output '" + o.getName() + "'");
                    if (declared != tt.dtype()) {
                        throw new OnnxImportException("graph output '" + o.getName() + "' is declared " + declared
                                + " but its node computes " + tt.dtype());
                    }
                }
                outs.add(v);
            }
            return outs;
        }

        /**
         * Every static tensor result of the ops a node appended to {@code ops} (from {@code from} on) within the
         * size limit: a model whose sizes (a Pad's pads, an Expand's or ConstantOfShape's shape, a Tile's
         * repeats, a Range's bounds, a Resize's scales) ask for a huge tensor is refused at import, naming the
         * node, rather than failing for memory at run time.
         */
        private void checkSizes(ImportNode node, List<Op> ops, int from) {
            for (int i = from; i < ops.size(); i++) {
                for (Value r : ops.get(i).results()) {
                    if (r.type() instanceof TensorType t && t.shape().isStatic()) checkSize(node, t.dtype(), t.shape().toArray(), "result");
                }
            }
        }

        /** A tensor of {@code dtype[shape]} that {@code node} builds must fit the size limit. */
        void checkSize(ImportNode node, dev.kiln.ir.DType dtype, long[] shape, String what) {
            dev.kiln.runtime.TensorLimits.checkedBytes(dtype, shape, options.maxTensorBytes(), "ImportOptions.withMaxTensorBytes raises it",
                    problem -> node.error(what + " " + problem));
        }

        /**
         * The value's data when it can be computed at import time (constants, weights and ops of them,
         * run with the reference kernels); null when it depends on graph inputs. Iterative (a chain of 10^5
         * foldable ops needs no deep stack), memoised both ways, and each folded result is checked against
         * the size limit before its kernel allocates it.
         */
        NDArray evaluate(Value root) {
            java.util.ArrayDeque<Value> stack = new java.util.ArrayDeque<>();
            stack.push(root);
            while (!stack.isEmpty()) {
                Value v = stack.peek();
                if (folded.containsKey(v) || notFoldable.contains(v)) {
                    stack.pop();
                    continue;
                }
                NDArray out = null;
                boolean pending = false;
                if (shapeValues.containsKey(v)) {
                    out = null; // a run-time size list: never data
                } else if (v.kind() == Value.Kind.WEIGHT) {
                    out = weightData.get(v.name());
                } else if (v.kind() == Value.Kind.OP_RESULT) {
                    Op def = v.definingOp();
                    if (def.name().equals("constant") && def.attr("value") instanceof Attribute.Tensor t) {
                        out = Interpreter.fromBytes(t.type(), t.data());
                    } else if (def.results().size() == 1 && OpKernels.has(def.name()) && def.regions().isEmpty()) {
                        boolean blocked = def.operands().stream().anyMatch(notFoldable::contains);
                        if (!blocked) {
                            for (Value operand : def.operands()) {
                                if (!folded.containsKey(operand)) {
                                    stack.push(operand);
                                    pending = true;
                                }
                            }
                            if (pending) continue; // v stays below its operands and is looked at again once they are done
                            List<NDArray> args = def.operands().stream().map(folded::get).toList();
                            if (v.type() instanceof TensorType t && t.shape().isStatic()) {
                                dev.kiln.runtime.TensorLimits.checkedBytes(t.dtype(), t.shape().toArray(), options.maxTensorBytes(),
                                        "ImportOptions.withMaxTensorBytes raises it",
                                        problem -> new OnnxImportException("folding " + def.name() + " at import time: " + problem));
                            }
                            out = OpKernels.run(def.name(), def.attributes(), args);
                        }
                    }
                }
                stack.pop();
                if (out != null) folded.put(v, out);
                else notFoldable.add(v);
            }
            return folded.get(root);
        }

        /** The run-time sizes {@code v} stands for, or null when it is an ordinary value. */
        ImportSymbolicShape.ShapeValue shapeValue(Value v) { return shapeValues.get(v); }

        /**
         * A value of type {@code dtype[shape]} standing for the run-time sizes {@code sv}. It is a
         * placeholder in a scratch graph: only shape-value ops and size-list consumers read it, and
         * {@link #checkShapeValuesUnused} rejects any node that builds an op on it.
         */
        Value shapeValue(ImportSymbolicShape.ShapeValue sv, dev.kiln.ir.DType dtype, long[] shape) {
            Value v = shapeValueScratch.constant(Attribute.Tensor.fromDoubles(dtype, shape, new double[(int) Shape.of(shape).numel()]));
            shapeValues.put(v, sv);
            return v;
        }

        /** A node whose converter used a run-time size list as tensor data, which the graph cannot compute. */
        private void checkShapeValuesUnused(ImportNode node, List<Value> inputs) {
            for (int i = 0; i < inputs.size(); i++) {
                Value v = inputs.get(i);
                ImportSymbolicShape.ShapeValue sv = v == null ? null : shapeValues.get(v);
                if (sv == null || !v.hasUses()) continue;
                throw new ImportNeedsConstantException(node.describe() + ": input " + i + " ('" + node.node.getInput(i)
                        + "') holds the run-time sizes " + sv + " (read with Shape from graph inputs " + sv.graphInputs()
                        + "); Kiln takes such sizes only as Reshape, Expand or ConstantOfShape targets and through "
                        + "Gather, Slice, Concat, Unsqueeze, Squeeze, Cast and size arithmetic, not as tensor data of "
                        + node.op() + "; binding those inputs with ImportOptions.withConstantInputs makes them static", sv.graphInputs());
            }
        }

        /** The graph inputs {@code v} is computed from (a worklist walk, so long chains need no deep stack). */
        Set<String> dependsOn(Value root) {
            Set<String> out = new LinkedHashSet<>();
            Set<Value> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
            java.util.ArrayDeque<Value> work = new java.util.ArrayDeque<>();
            work.push(root);
            while (!work.isEmpty()) {
                Value v = work.pop();
                if (!seen.add(v)) continue;
                ImportSymbolicShape.ShapeValue sv = shapeValues.get(v);
                if (sv != null) {
                    out.addAll(sv.graphInputs());
                } else if (v.kind() == Value.Kind.BLOCK_ARGUMENT) {
                    if (v.ownerBlock() == graph.body()) out.add(v.name());
                } else if (v.kind() == Value.Kind.OP_RESULT) {
                    List<Value> operands = v.definingOp().operands();
                    for (int i = operands.size() - 1; i >= 0; i--) work.push(operands.get(i));
                }
            }
            return out;
        }
    }

    /** The Kiln tensor type of a graph input; free dims become symbolic (dim_param) or unknown. */
    static TensorType tensorType(ValueInfoProto info, String what) {
        if (!info.hasType()) throw new OnnxImportException(what + " has no type");
        TypeProto tp = info.getType();
        if (!tp.hasTensorType()) {
            throw new ImportUnsupportedException(what + " is a " + tp.getValueCase() + " value; Kiln imports tensors only");
        }
        TypeProto.Tensor tt = tp.getTensorType();
        var dtype = OnnxTensors.dtype(tt.getElemType(), what);
        if (!tt.hasShape()) throw new ImportUnsupportedException(what + " has no shape (unknown rank)");
        List<Dim> dims = new ArrayList<>();
        for (TensorShapeProto.Dimension d : tt.getShape().getDimList()) {
            switch (d.getValueCase()) {
                case DIM_VALUE -> {
                    if (d.getDimValue() < 0) throw new OnnxImportException(what + " has a negative dim " + d.getDimValue());
                    dims.add(Dim.of(d.getDimValue()));
                }
                case DIM_PARAM -> dims.add(symbol(d.getDimParam()));
                default -> dims.add(Dim.UNKNOWN);
            }
        }
        return new TensorType(dtype, new Shape(dims));
    }

    /** A dim_param as a Kiln symbol: characters outside identifiers become '_'. */
    static Dim symbol(String param) {
        String s = param.replaceAll("[^A-Za-z0-9_]", "_");
        if (s.isEmpty() || Character.isDigit(s.charAt(0))) s = "d_" + s;
        return Dim.sym(s);
    }

}
