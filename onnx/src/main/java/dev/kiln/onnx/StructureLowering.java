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

    /** If with then/else subgraphs whose outputs are each branch's yielded values. */
    static void ifOp(Op op, Emitter e) {
        String cond = e.ref(op.operand(0));
        GraphProto thenBranch = e.subgraph("then_branch", op.region(0), List.of());
        GraphProto elseBranch = e.subgraph("else_branch", op.region(1), List.of());
        e.node("If", List.of(cond), defineAll(op, e))
                .addAttribute(Attrs.graph("then_branch", thenBranch))
                .addAttribute(Attrs.graph("else_branch", elseBranch));
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
        e.node("Loop", inputs, defineAll(op, e)).addAttribute(Attrs.graph("body", g));
    }

    /** return and yield: their operands become the outputs of the graph or subgraph being written. */
    static void terminator(Op op, Emitter e) { e.emitOutputs(op.operands()); }

    private static List<String> defineAll(Op op, Emitter e) {
        List<String> out = new ArrayList<>();
        for (Value r : op.results()) out.add(e.define(r));
        return out;
    }
}
