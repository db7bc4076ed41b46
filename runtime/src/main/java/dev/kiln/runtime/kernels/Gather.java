package dev.kiln.runtime.kernels;

import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeRules;
import dev.kiln.runtime.Elements;
import dev.kiln.runtime.NDArray;

import java.lang.foreign.MemorySegment;

/** Reads by index: {@code torch.gather} and {@code torch.index_select}. Negative indices are errors, as in PyTorch. */
public final class Gather {
    private Gather() {}

    /** {@code out[i][j][k] = x[index[i][j][k]][j][k]} for axis 0, and so on; out has the index's shape. */
    public static NDArray gather(NDArray x, int axis, NDArray index) {
        IndexChecks.dtype("gather", index, false);
        ShapeRules.gather("gather", Shape.of(x.shape()), Shape.of(index.shape()), axis);
        if (x.rank() == 0) {
            x = x.reshape(1);
            index = index.reshape(1);
        }
        int a = ShapeRules.normalize("gather", axis, x.rank());
        IndexChecks.inRange("gather", index, a, x.dim(a));
        return gatherLoop(x, a, index.segment(), index.dtype(), index.offset(), index.strides(), index.shape());
    }

    /** The entries {@code index} (0-D or 1-D, i64 or i32) of {@code x} along {@code axis}. */
    public static NDArray indexSelect(NDArray x, int axis, NDArray index) {
        IndexChecks.dtype("index_select", index, true);
        long[] shape = ShapeRules.indexSelect("index_select", Shape.of(x.shape()), Shape.of(index.shape()), axis).toArray();
        int a = ShapeRules.normalize("index_select", axis, x.rank());
        IndexChecks.inRange("index_select", index, a, x.dim(a));
        long[] indexStrides = new long[shape.length];
        indexStrides[a] = index.rank() == 0 ? 0 : index.strides()[0];
        return gatherLoop(x, a, index.segment(), index.dtype(), index.offset(), indexStrides, shape);
    }

    /** out[p] = x[p with coordinate {@code axis} replaced by the index at p]; indices already checked. */
    private static NDArray gatherLoop(NDArray x, int axis, MemorySegment idx, dev.kiln.ir.DType idxType, long idxOffset,
                                      long[] idxStrides, long[] outShape) {
        NDArray out = NDArray.zeros(x.dtype(), outShape);
        if (out.numel() == 0) return out;
        MemorySegment xs = x.segment(), os = out.segment();
        long axisStride = x.strides()[axis];
        int size = x.dtype().byteSize();
        Loops.Plan plan = Loops.plan(outShape, new long[] {idxOffset, x.offset(), 0},
                idxStrides, IndexChecks.withoutAxis(x.strides(), axis), out.strides());
        long is = plan.innerStride(0), xsStride = plan.innerStride(1), ost = plan.innerStride(2);
        plan.run((start, n) -> {
            long ip = start[0], xp = start[1], op = start[2];
            for (long i = 0; i < n; i++, ip += is, xp += xsStride, op += ost) {
                Elements.copyElement(xs, xp + Elements.getLong(idx, idxType, ip) * axisStride, os, op, size);
            }
        });
        return out;
    }
}
