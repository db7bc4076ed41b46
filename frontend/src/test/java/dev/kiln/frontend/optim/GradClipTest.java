package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Parameter;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GradClipTest {

    /** Parameters with gradients [3, 4] (f32) and [12] (f64), and one without a gradient: total L2 norm 13. */
    static List<Parameter> params() {
        Parameter a = new Parameter(Tensor.of(new float[] {0, 0})), b = new Parameter(Tensor.of(new double[] {0})),
                c = new Parameter(Tensor.of(new double[] {0}));
        a.setGrad(Tensor.of(new float[] {3, -4}));
        b.setGrad(Tensor.of(new double[] {12}));
        return List.of(a, b, c);
    }

    @Test
    void clipsTheGlobalNorm() {
        List<Parameter> ps = params();
        long version = ps.get(1).grad().version();
        double total = GradClip.clipGradNorm(ps, 6.5);
        assertEquals(13, total, 1e-12, "sqrt(9 + 16 + 144)");
        double coef = 6.5 / (13 + 1e-6);
        assertArrayEquals(new float[] {(float) (3 * coef), (float) (-4 * coef)}, ps.get(0).grad().data().toFloatArray());
        assertArrayEquals(new double[] {12 * coef}, ps.get(1).grad().data().toDoubleArray(), 1e-15);
        assertTrue(ps.get(1).grad().version() > version, "in-place change bumps the grad's version");
        assertEquals(null, ps.get(2).grad());
    }

    @Test
    void leavesSmallGradientsAlone() {
        List<Parameter> ps = params();
        assertEquals(13, GradClip.clipGradNorm(ps, 13.5), 1e-12);
        assertArrayEquals(new float[] {3, -4}, ps.get(0).grad().data().toFloatArray());
        assertArrayEquals(new double[] {12}, ps.get(1).grad().data().toDoubleArray());
    }

    @Test
    void otherNorms() {
        List<Parameter> ps = params();
        assertEquals(12, GradClip.clipGradNorm(ps, 100, Double.POSITIVE_INFINITY, false));
        assertEquals(19, GradClip.clipGradNorm(ps, 100, 1, false), 1e-12, "|3| + |-4| + |12|");
        assertEquals(0, GradClip.clipGradNorm(List.of(new Parameter(Tensor.of(new double[] {1}))), 1.0),
                "no gradients: norm 0");
        List<Parameter> q = params();
        GradClip.clipGradNorm(q, 6, Double.POSITIVE_INFINITY, false);
        assertArrayEquals(new double[] {12 * 6 / (12 + 1e-6)}, q.get(1).grad().data().toDoubleArray(), 1e-15);
    }

    @Test
    void nonFiniteNorms() {
        List<Parameter> ps = params();
        ps.get(1).grad().data().setFlat(0, Double.NaN);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> GradClip.clipGradNorm(ps, 1, 2, true));
        assertTrue(e.getMessage().contains("is NaN"), e.getMessage());
        assertArrayEquals(new float[] {3, -4}, ps.get(0).grad().data().toFloatArray(), "unchanged after the error");
        assertTrue(Double.isNaN(GradClip.clipGradNorm(ps, 1)));
        assertTrue(Float.isNaN(ps.get(0).grad().data().toFloatArray()[0]), "PyTorch's default: grads become NaN");
    }

    @Test
    void clipsValues() {
        List<Parameter> ps = params();
        GradClip.clipGradValue(ps, 3.5);
        assertArrayEquals(new float[] {3, -3.5f}, ps.get(0).grad().data().toFloatArray());
        assertArrayEquals(new double[] {3.5}, ps.get(1).grad().data().toDoubleArray());
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class, () -> GradClip.clipGradNorm(params(), -1));
        assertThrows(IllegalArgumentException.class, () -> GradClip.clipGradNorm(params(), Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> GradClip.clipGradNorm(params(), 1, 0, false));
        assertThrows(IllegalArgumentException.class, () -> GradClip.clipGradValue(params(), -0.5));
    }
}
