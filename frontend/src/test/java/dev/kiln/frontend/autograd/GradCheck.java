package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks autograd against central finite differences in f64: for {@code f(inputs)} the analytic
 * gradient of {@code sum(f(inputs) * R)}, with a fixed random R, must match
 * {@code (L(x + eps) - L(x - eps)) / 2 eps} for every element of every input that requires grad.
 */
public final class GradCheck {

    public static final double EPS = 1e-6;
    public static final double ATOL = 1e-5;
    public static final double RTOL = 1e-4;

    private GradCheck() {}

    /** Random f64 leaf of {@code shape} that requires grad, values in [-1, 1) (or [low, high)). */
    public static Tensor leafIn(Generator g, double low, double high, long... shape) {
        NDArray a = NDArray.zeros(DType.F64, shape);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, low + (high - low) * g.nextUniform());
        return Tensor.wrap(a).setRequiresGrad(true);
    }

    public static Tensor leaf(Generator g, long... shape) { return leafIn(g, -1, 1, shape); }

    /** Asserts analytic and numeric gradients agree for every input that requires grad. */
    public static void check(String what, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        Tensor out = f.apply(List.of(inputs));
        if (out.dtype() != DType.F64) fail(what + ": gradient checks run in f64, but the output is " + out.dtype());
        Tensor weights = projection(out.shape());
        out.mul(weights).sum().backward();
        for (int i = 0; i < inputs.length; i++) {
            Tensor x = inputs[i];
            if (!x.requiresGrad()) continue;
            assertNotNull(x.grad(), what + ": input " + i + " got no gradient");
            double[] analytic = x.grad().toDoubleArray();
            double[] numeric = numericGradient(f, inputs, i, weights);
            for (int j = 0; j < numeric.length; j++) {
                double tol = ATOL + RTOL * Math.abs(numeric[j]);
                if (Math.abs(analytic[j] - numeric[j]) > tol) {
                    fail(what + ": d/d input " + i + Arrays.toString(x.shape()) + " element " + j + ": autograd " + analytic[j]
                            + " vs finite difference " + numeric[j]);
                }
            }
            assertEquals(x.dtype(), x.grad().dtype());
        }
    }

    private static double[] numericGradient(Function<List<Tensor>, Tensor> f, Tensor[] inputs, int which, Tensor weights) {
        NDArray data = inputs[which].data();
        double[] grad = new double[(int) data.numel()];
        try (Autograd.GradMode _ = Autograd.noGrad()) {
            for (int j = 0; j < grad.length; j++) {
                double original = data.getFlat(j);
                data.setFlat(j, original + EPS);
                double plus = loss(f, inputs, weights);
                data.setFlat(j, original - EPS);
                double minus = loss(f, inputs, weights);
                data.setFlat(j, original);
                grad[j] = (plus - minus) / (2 * EPS);
            }
        }
        return grad;
    }

    private static double loss(Function<List<Tensor>, Tensor> f, Tensor[] inputs, Tensor weights) {
        List<Tensor> detached = new ArrayList<>();
        for (Tensor t : inputs) detached.add(t.detach());
        return f.apply(detached).mul(weights).sum().item();
    }

    private static Tensor projection(long[] shape) {
        Generator g = new Generator(Arrays.hashCode(shape));
        NDArray r = NDArray.zeros(DType.F64, shape);
        for (long i = 0; i < r.numel(); i++) r.setFlat(i, 0.5 + g.nextUniform());
        return Tensor.wrap(r);
    }
}
