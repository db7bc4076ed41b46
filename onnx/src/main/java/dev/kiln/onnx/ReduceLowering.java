package dev.kiln.onnx;

import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;

import java.util.Arrays;
import java.util.List;

/**
 * The reductions (sum, mean, prod, amax, amin, logsumexp) and argmax/argmin. Axes are an input or an
 * attribute as the opset requires ({@link Emitter#reduce}); empty axes reduce everything, as in Kiln.
 * Integer sum and prod give i64 in Kiln, so their input is cast to int64 first (which ReduceSum and
 * ReduceProd also need for 8- and 16-bit integers); ReduceMax/ReduceMin have no int16, which goes through int32.
 */
final class ReduceLowering {

    private ReduceLowering() {}

    static Lowering reduce(String onnxOp) {
        return (op, e) -> {
            TensorType x = op.operand(0).tensorType();
            long[] axes = Arrays.stream(op.intsAttr("axes")).map(a -> a < 0 ? a + x.rank() : a).toArray();
            boolean keep = op.boolAttr("keepdim");
            String in = e.ref(op.operand(0));
            DType resultType = op.result().tensorType().dtype();
            DType via = x.dtype().isFloatingPoint() ? x.dtype()
                    : resultType == DType.I64 ? DType.I64
                    : x.dtype() == DType.I16 ? DType.I32 : x.dtype();
            if (via != x.dtype()) {
                String cast = e.temp(in + "_" + via.name().toLowerCase());
                e.cast(in, via, cast);
                in = cast;
            }
            if (via == resultType) {
                e.reduce(onnxOp, in, axes, keep, e.define(op.result()));
            } else {
                e.cast(e.reduce(onnxOp, "reduced", in, axes, keep), resultType, e.define(op.result()));
            }
        };
    }

    /** ArgMax/ArgMin keep the first extremum (select_last_index=0), as Kiln; a 0-d input is reshaped to [1] first. */
    static Lowering arg(String onnxOp) {
        return (op, e) -> {
            TensorType x = op.operand(0).tensorType();
            String in = e.ref(op.operand(0));
            long axis = op.intAttr("axis");
            boolean keep = op.boolAttr("keepdim");
            if (x.rank() == 0) {
                in = e.helper("Reshape", in + "_1d", in, e.int64s("shape", 1));
                axis = 0;
                keep = false;
            } else if (axis < 0) {
                axis += x.rank();
            }
            e.node(onnxOp, List.of(in), List.of(e.define(op.result())))
                    .addAttribute(Attrs.i("axis", axis))
                    .addAttribute(Attrs.i("keepdims", keep ? 1 : 0))
                    .addAttribute(Attrs.i("select_last_index", 0));
        };
    }
}
