package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Parameter;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SchedulerTest {

    static SGD sgd(double lr) { return new SGD(List.of(new Parameter(Tensor.of(new double[] {1}))), lr); }

    /** The optimizer's rate at epochs 0..n-1, stepping the scheduler in between. */
    static double[] rates(SGD opt, LRScheduler s, int n) {
        double[] out = new double[n];
        for (int e = 0; e < n; e++) {
            out[e] = opt.lr();
            assertEquals(opt.lr(), s.lastLr(), 1e-15, "lastLr at epoch " + e);
            s.step();
        }
        return out;
    }

    @Test
    void stepLR() {
        SGD opt = sgd(1.0);
        // base * 0.5^floor(epoch / 2)
        assertArrayEquals(new double[] {1, 1, 0.5, 0.5, 0.25, 0.25, 0.125}, rates(opt, new StepLR(opt, 2, 0.5), 7), 1e-15);
        SGD opt2 = sgd(0.3);
        assertArrayEquals(new double[] {0.3, 0.3, 0.3, 0.03, 0.03}, rates(opt2, new StepLR(opt2, 3), 5), 1e-15);
    }

    @Test
    void cosineAnnealing() {
        SGD opt = sgd(1.0);
        // 0.1 + 0.9 * (1 + cos(pi * e / 4)) / 2: e=1 -> 0.1 + 0.45 * 1.70710678 = 0.86819805; e=2 -> 0.55;
        // e=3 -> 0.1 + 0.45 * 0.29289322 = 0.23180195; e=4 -> 0.1; then the cosine rises again
        assertArrayEquals(new double[] {1.0, 0.8681980515339464, 0.55, 0.23180194846605362, 0.1, 0.23180194846605356},
                rates(opt, new CosineAnnealingLR(opt, 4, 0.1), 6), 1e-12);
    }

    @Test
    void linearLRAndWarmup() {
        SGD opt = sgd(0.4);
        // factor 0.25 -> 1 over 3 epochs: 0.25, 0.5, 0.75, 1, 1 times 0.4
        LinearLR s = new LinearLR(opt, 0.25, 1.0, 3);
        assertEquals(0.1, opt.lr(), 1e-15, "making the scheduler applies the epoch-0 rate");
        assertArrayEquals(new double[] {0.1, 0.2, 0.3, 0.4, 0.4}, rates(opt, s, 5), 1e-15);
        SGD opt2 = sgd(1.0);
        // PyTorch defaults: 1/3 -> 1 over 5 epochs
        assertArrayEquals(new double[] {1.0 / 3, 1.0 / 3 + 2.0 / 15, 1.0 / 3 + 4.0 / 15, 1.0 / 3 + 6.0 / 15,
                        1.0 / 3 + 8.0 / 15, 1, 1},
                rates(opt2, new LinearLR(opt2), 7), 1e-12);
        SGD opt3 = sgd(0.2);
        assertArrayEquals(new double[] {0.02, 0.11, 0.2, 0.2}, rates(opt3, LinearLR.warmup(opt3, 2, 0.1), 4), 1e-15);
    }

    @Test
    void resumingWithSetEpoch() {
        SGD opt = sgd(1.0);
        StepLR s = new StepLR(opt, 2, 0.5);
        s.setEpoch(5);
        assertEquals(5, s.epoch());
        assertEquals(0.25, opt.lr());
        s.step();
        assertEquals(0.125, opt.lr());
        assertEquals(1.0, s.baseLr());
        assertThrows(IllegalArgumentException.class, () -> s.setEpoch(-1));
    }

    @Test
    void badArgumentsAreRejectedWithoutTouchingTheOptimizer() {
        SGD opt = sgd(0.5);
        assertThrows(IllegalArgumentException.class, () -> new StepLR(opt, 0, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new StepLR(opt, 1, -0.1));
        assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLR(opt, 0));
        assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLR(opt, 5, -1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LinearLR(opt, 0, 1, 5));
        assertEquals("LinearLR: startFactor must be in (0, 1], got 0.0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LinearLR(opt, 0.5, 1.5, 5));
        assertThrows(IllegalArgumentException.class, () -> new LinearLR(opt, 0.5, 1, 0));
        assertEquals(0.5, opt.lr());
    }
}
