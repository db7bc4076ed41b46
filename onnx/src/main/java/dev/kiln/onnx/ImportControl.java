package dev.kiln.onnx;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.Type;
import dev.kiln.ir.Value;
import dev.kiln.onnx.ImportConverters.Converter;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * ONNX If and Loop as Kiln's structured {@code if} and {@code loop}. Subgraphs see the enclosing
 * graphs' values; Loop's scan outputs are not supported.
 */
final class ImportControl {

    private ImportControl() {}

    static void register(Map<String, Converter> t) {
        t.put("If", ImportControl::ifNode);
        t.put("Loop", ImportControl::loop);
    }

    private static Value scalar(ImportNode n, Value tensor, String what) {
        if (n.type(tensor).shape().isStatic() && n.type(tensor).shape().numel() != 1) {
            throw n.error(what + " must hold one element, got " + n.type(tensor));
        }
        return n.op("item", tensor);
    }

    /**
     * Each branch is converted once, into a scratch block, so that the if op can be created with the branches'
     * result types; the ops then move into its regions. (Converting a branch to learn its types and again into
     * the region made nested Ifs take time exponential in their depth.)
     */
    private static List<Value> ifNode(ImportNode n, ImportScope scope) {
        if (n.type(0).dtype() != DType.BOOL) throw n.error("cond must be bool, got " + n.type(0));
        Value cond = scalar(n, n.in(0), "cond");
        GraphProto thenG = n.attrGraph("then_branch"), elseG = n.attrGraph("else_branch");
        Branch then = branch(n, thenG, scope), other = branch(n, elseG, scope);
        List<Type> thenTypes = then.types(), elseTypes = other.types();
        if (!thenTypes.equals(elseTypes)) {
            throw n.unsupported("branches yielding different types (then " + thenTypes + ", else " + elseTypes + ")");
        }
        Op op = n.b.ifOp(cond, thenTypes);
        List<Branch> branches = List.of(then, other);
        for (int r = 0; r < 2; r++) {
            Branch br = branches.get(r);
            br.ops().moveOpsTo(op.region(r));
            Builder.atEnd(op.region(r)).yield(br.outputs().toArray(Value[]::new));
        }
        return op.results();
    }

    /** A subgraph converted into a detached block, and the values of its outputs. */
    private record Branch(Block ops, List<Value> outputs) {
        List<Type> types() { return outputs.stream().map(Value::type).toList(); }
    }

    private static Branch branch(ImportNode n, GraphProto g, ImportScope scope) {
        Block body = new Graph("if_branch").body();
        List<Value> outs = n.session.convertNodes(g, new ImportScope(scope), Builder.atEnd(body));
        return new Branch(body, outs);
    }

    private static List<Value> loop(ImportNode n, ImportScope scope) {
        GraphProto body = n.attrGraph("body");
        if (n.inputCount() < 2) throw n.error("Loop takes inputs M and cond (either may be empty) before the carried values, got " + n.inputCount() + " inputs");
        int carried = n.inputCount() - 2;
        if (body.getInputCount() != carried + 2) {
            throw n.error("body takes " + body.getInputCount() + " inputs but the loop carries " + carried + " values");
        }
        if (body.getOutputCount() != carried + 1) throw n.unsupported("Loop scan outputs");
        Value trip = n.has(0) ? scalar(n, n.cast(n.in(0), DType.I64), "M") : n.b.constant(new Attribute.Int(Long.MAX_VALUE));
        Value cond = n.has(1) ? scalar(n, n.in(1), "cond") : n.b.constant(new Attribute.Bool(true));
        List<Value> initial = new ArrayList<>();
        for (int i = 2; i < n.inputCount(); i++) initial.add(n.in(i));
        Op op = n.b.loop(trip, cond, initial);
        var region = op.region(0);
        Builder bb = Builder.atEnd(region);
        ImportScope inner = new ImportScope(scope);
        inner.put(body.getInput(0).getName(), bb.op("tensor_from_scalar", region.argument(0)));
        inner.put(body.getInput(1).getName(), bb.constant(Attribute.Tensor.fromDoubles(DType.BOOL, new long[0], new double[] {1})));
        for (int i = 0; i < carried; i++) inner.put(body.getInput(i + 2).getName(), region.argument(i + 1));
        List<Value> outs = n.session.convertNodes(body, inner, bb);
        List<Value> yielded = new ArrayList<>();
        yielded.add(bb.op("item", outs.get(0)));
        yielded.addAll(outs.subList(1, outs.size()));
        bb.yield(yielded.toArray(Value[]::new));
        return op.results();
    }
}
