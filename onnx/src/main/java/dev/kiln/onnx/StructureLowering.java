package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.ScalarType;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.onnx.proto.OnnxProtos.ValueInfoProto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * constant, item, if, loop and the terminators. Host scalars are 0-d tensors (int64, double, bool);
 * if and loop regions become If/Loop subgraphs, which may read outer values by name.
 */
final class StructureLowering {

    private StructureLowering() {}

    /** A Constant node; host int/float/bool constants become 0-d int64/double/bool tensors. */
    static void constant(Op op, Emitter e) {
        TensorProto t = switch (op.attr("value")) {
            case Attribute.Tensor c -> OnnxTypes.tensor(null, c.type(), ByteString.copyFrom(c.data()));
            case Attribute.Int i -> scalar(DType.I64, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(i.value()));
            case Attribute.Float f -> scalar(DType.F64, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(f.value()));
            case Attribute.Bool b -> scalar(DType.BOOL, ByteBuffer.allocate(1).put((byte) (b.value() ? 1 : 0)));
            default -> throw Emitter.error(op, "value " + op.attr("value") + " has no ONNX constant form");
        };
        e.node("Constant", List.of(), List.of(e.define(op.result()))).addAttribute(Attrs.tensor("value", t));
    }

    private static TensorProto scalar(DType dtype, ByteBuffer bytes) {
        return OnnxTypes.tensor(null, new TensorType(dtype, Shape.SCALAR), ByteString.copyFrom(bytes.array()));
    }

    /** A one-element tensor read as a host scalar: Reshape to 0-d, then Cast to int64/double when needed. */
    static void item(Op op, Emitter e) {
        TensorType x = op.operand(0).tensorType();
        DType want = ((ScalarType) op.result().type()).elementType();
        String in = e.ref(op.operand(0));
        boolean cast = x.dtype() != want;
        if (x.rank() == 0 && !cast) {
            e.node("Identity", List.of(in), List.of(e.define(op.result())));
            return;
        }
        String scalar = in;
        if (x.rank() != 0) {
            scalar = cast ? e.temp(in + "_scalar") : e.define(op.result());
            e.node("Reshape", List.of(in, e.int64s("scalar_shape")), List.of(scalar));
        }
        if (cast) e.cast(scalar, want, e.define(op.result()));
    }

    /**
     * If with then/else subgraphs whose outputs are each branch's yielded values. ONNX If needs at
     * least one output, so an if without results gets an unused bool output from both branches.
     */
    static void ifOp(Op op, Emitter e) {
        String cond = e.ref(op.operand(0));
        GraphProto thenBranch = e.subgraph("then_branch", op.region(0), List.of());
        GraphProto elseBranch = e.subgraph("else_branch", op.region(1), List.of());
        List<String> outputs = defineAll(op, e);
        if (outputs.isEmpty()) {
            thenBranch = withUnusedOutput(e, thenBranch);
            elseBranch = withUnusedOutput(e, elseBranch);
            outputs = List.of(e.temp("if_unused"));
        }
        e.node("If", List.of(cond), outputs)
                .addAttribute(Attrs.graph("then_branch", thenBranch))
                .addAttribute(Attrs.graph("else_branch", elseBranch));
    }

    /** {@code g} with one more output: a bool constant computed inside it. */
    private static GraphProto withUnusedOutput(Emitter e, GraphProto g) {
        String name = e.temp("unused");
        GraphProto.Builder b = g.toBuilder();
        b.addNodeBuilder().setOpType("Constant").setName(name + "_node").addOutput(name)
                .addAttribute(Attrs.tensor("value", OnnxTypes.tensor(null, new TensorType(DType.BOOL, Shape.SCALAR),
                        ByteString.copyFrom(new byte[1]))));
        b.addOutput(OnnxTypes.valueInfo(name, ScalarType.BOOL));
        return b.build();
    }

    /**
     * Loop(M, cond, carried...). Kiln's body arguments are (i, carried...) and its yield gives
     * (next_cond, next...); ONNX's body takes (iteration_num, cond_in, carried...), so cond_in is an
     * extra input the body does not read, and the yield maps onto (cond_out, carried...) directly.
     */
    static void loop(Op op, Emitter e) {
        Block body = op.region(0);
        List<String> inputs = new ArrayList<>();
        for (Value v : op.operands()) inputs.add(e.ref(v));
        List<ValueInfoProto> bodyInputs = new ArrayList<>();
        bodyInputs.add(OnnxTypes.valueInfo(e.bindFresh(body.argument(0), "iteration_num"), ScalarType.INT));
        bodyInputs.add(OnnxTypes.valueInfo(e.temp("cond_in"), ScalarType.BOOL));
        for (int i = 1; i < body.arguments().size(); i++) {
            Value arg = body.argument(i);
            bodyInputs.add(OnnxTypes.valueInfo(e.bindFresh(arg, "carried"), arg.type()));
        }
        GraphProto g = e.subgraph("loop_body", body, bodyInputs);
        List<String> outputs = defineAll(op, e);
        if (outputs.isEmpty()) {
            // ONNX Loop needs at least one output: carry an unused bool through the body unchanged.
            String carried = e.temp("unused_carried"), next = e.temp("unused_next");
            GraphProto.Builder gb = g.toBuilder();
            gb.addInput(OnnxTypes.valueInfo(carried, ScalarType.BOOL));
            gb.addNodeBuilder().setOpType("Identity").setName(next + "_node").addInput(carried).addOutput(next);
            gb.addOutput(OnnxTypes.valueInfo(next, ScalarType.BOOL));
            g = gb.build();
            inputs.add(e.constant(OnnxTypes.tensor(null, new TensorType(DType.BOOL, Shape.SCALAR), ByteString.copyFrom(new byte[1])),
                    "unused_initial"));
            outputs = List.of(e.temp("loop_unused"));
        }
        e.node("Loop", inputs, outputs).addAttribute(Attrs.graph("body", g));
    }

    /** return and yield: their operands become the outputs of the graph or subgraph being written. */
    static void terminator(Op op, Emitter e) { e.emitOutputs(op.operands()); }

    private static List<String> defineAll(Op op, Emitter e) {
        List<String> out = new ArrayList<>();
        for (Value r : op.results()) out.add(e.define(r));
        return out;
    }
}
