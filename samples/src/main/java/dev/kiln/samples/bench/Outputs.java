package dev.kiln.samples.bench;

import dev.kiln.runtime.NDArray;

import java.util.Arrays;
import java.util.List;

/** Comparing two engines' outputs. */
public final class Outputs {

    private Outputs() {}

    /**
     * The largest {@code |a - b|} over all elements of all outputs. NaN in both at the same place counts as
     * equal, NaN in only one as an infinite difference; different output counts or shapes are an error
     * naming the two engines.
     */
    public static double maxAbsDiff(String nameA, List<NDArray> a, String nameB, List<NDArray> b) {
        if (a.size() != b.size()) throw new IllegalStateException(nameA + " gives " + a.size() + " outputs, " + nameB + " " + b.size());
        double max = 0;
        for (int i = 0; i < a.size(); i++) {
            NDArray x = a.get(i).contiguous(), y = b.get(i).contiguous();
            if (!Arrays.equals(x.shape(), y.shape())) {
                throw new IllegalStateException("output " + i + ": " + nameA + " shape " + Arrays.toString(x.shape()) + ", "
                        + nameB + " " + Arrays.toString(y.shape()));
            }
            for (long k = 0; k < x.numel(); k++) {
                double u = x.getFlat(k), v = y.getFlat(k);
                if (Double.isNaN(u) || Double.isNaN(v)) {
                    if (Double.isNaN(u) != Double.isNaN(v)) return Double.POSITIVE_INFINITY;
                } else if (u != v) {
                    max = Math.max(max, Math.abs(u - v));
                }
            }
        }
        return max;
    }
}
