package dev.kiln.runtime;

import dev.kiln.runtime.kernels.Elementwise;
import dev.kiln.runtime.kernels.Gemm;
import dev.kiln.runtime.kernels.Reductions;
import dev.kiln.runtime.kernels.Softmax;

import java.util.Map;

import static dev.kiln.runtime.OpKernels.optional;

/** Kernels of the elementwise, reduction, matmul and softmax ops. */
final class MathKernels {

    private MathKernels() {}

    static Map<String, OpKernels.Kernel> entries() {
        return Map.ofEntries(
                Map.entry("add", (in, a) -> Elementwise.add(in.get(0), in.get(1))),
                Map.entry("sub", (in, a) -> Elementwise.sub(in.get(0), in.get(1))),
                Map.entry("mul", (in, a) -> Elementwise.mul(in.get(0), in.get(1))),
                Map.entry("div", (in, a) -> Elementwise.div(in.get(0), in.get(1))),
                Map.entry("neg", (in, a) -> Elementwise.neg(in.get(0))),
                Map.entry("relu", (in, a) -> Elementwise.relu(in.get(0))),
                Map.entry("sigmoid", (in, a) -> Elementwise.sigmoid(in.get(0))),
                Map.entry("tanh", (in, a) -> Elementwise.tanh(in.get(0))),
                Map.entry("gt", (in, a) -> Elementwise.gt(in.get(0), in.get(1))),
                Map.entry("lt", (in, a) -> Elementwise.lt(in.get(0), in.get(1))),
                Map.entry("eq", (in, a) -> Elementwise.eq(in.get(0), in.get(1))),
                Map.entry("cast", (in, a) -> in.get(0).to(a.dtype("dtype"))),
                Map.entry("clone", (in, a) -> in.get(0).copy()),
                Map.entry("matmul", (in, a) -> Gemm.matmul(in.get(0), in.get(1))),
                Map.entry("linear", (in, a) -> Gemm.linear(in.get(0), in.get(1), optional(in, 2))),
                Map.entry("softmax", (in, a) -> Softmax.softmax(in.get(0), a.intValue("axis"))),
                Map.entry("log_softmax", (in, a) -> Softmax.logSoftmax(in.get(0), a.intValue("axis"))),
                Map.entry("sum", (in, a) -> Reductions.sum(in.get(0), a.ints("axes"), a.bool("keepdim"))),
                Map.entry("mean", (in, a) -> Reductions.mean(in.get(0), a.ints("axes"), a.bool("keepdim"))));
    }
}
