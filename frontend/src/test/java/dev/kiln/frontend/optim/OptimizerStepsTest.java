package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Parameter;
import dev.kiln.ir.DType;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The first two steps of every optimiser against references worked out from PyTorch's documented update rules
 * (in double). Every case starts from p0 = [1, -2, 0.5] with gradients g1 = [0.1, -0.2, 0.3] then
 * g2 = [0.4, 0, -0.1].
 */
class OptimizerStepsTest {

    static final double[] P0 = {1, -2, 0.5}, G1 = {0.1, -0.2, 0.3}, G2 = {0.4, 0, -0.1};
    static final double TOL = 1e-12;

    /** Runs two steps on an f64 parameter; returns p after each. */
    static double[][] twoSteps(Function<List<Parameter>, Optimizer> make) {
        return twoSteps(make, DType.F64);
    }

    static double[][] twoSteps(Function<List<Parameter>, Optimizer> make, DType dtype) {
        Parameter p = new Parameter(Tensor.of(P0).to(dtype));
        Optimizer opt = make.apply(List.of(p));
        double[][] out = new double[2][];
        double[][] grads = {G1, G2};
        for (int s = 0; s < 2; s++) {
            p.setGrad(Tensor.of(grads[s]).to(dtype));
            opt.step();
            out[s] = p.data().toDoubleArray();
        }
        return out;
    }

    static void check(double[][] got, double[] step1, double[] step2) {
        assertArrayEquals(step1, got[0], TOL, "after step 1");
        assertArrayEquals(step2, got[1], TOL, "after step 2");
    }

    // ---------------------------------------------------------------- SGD

    @Test
    void sgdPlain() {
        // p1 = p0 - 0.1*g1 = [1-0.01, -2+0.02, 0.5-0.03] = [0.99, -1.98, 0.47]
        // p2 = p1 - 0.1*g2 = [0.99-0.04, -1.98-0, 0.47+0.01] = [0.95, -1.98, 0.48]
        check(twoSteps(ps -> new SGD(ps, 0.1)), new double[] {0.99, -1.98, 0.47}, new double[] {0.95, -1.98, 0.48});
    }

    @Test
    void sgdMomentumDampeningWeightDecay() {
        // lr 0.1, momentum 0.9, dampening 0.5, weight decay 0.1
        // step 1: g = g1 + 0.1*p0 = [0.2, -0.4, 0.35]; buf = g (first step: no dampening)
        //         p1 = p0 - 0.1*buf = [0.98, -1.96, 0.465]
        // step 2: g = g2 + 0.1*p1 = [0.498, -0.196, -0.0535]
        //         buf = 0.9*buf + 0.5*g = [0.18+0.249, -0.36-0.098, 0.315-0.02675] = [0.429, -0.458, 0.28825]
        //         p2 = p1 - 0.1*buf = [0.9371, -1.9142, 0.436175]
        check(twoSteps(ps -> SGD.builder(ps, 0.1).momentum(0.9).dampening(0.5).weightDecay(0.1).build()),
                new double[] {0.98, -1.96, 0.465}, new double[] {0.9371, -1.9142, 0.436175});
    }

    @Test
    void sgdNesterov() {
        // lr 0.1, momentum 0.9, nesterov
        // step 1: buf = g1; g = g1 + 0.9*buf = 1.9*g1 = [0.19, -0.38, 0.57]; p1 = p0 - 0.1*g = [0.981, -1.962, 0.443]
        // step 2: buf = 0.9*g1 + g2 = [0.49, -0.18, 0.17]; g = g2 + 0.9*buf = [0.841, -0.162, 0.053]
        //         p2 = p1 - 0.1*g = [0.8969, -1.9458, 0.4377]
        check(twoSteps(ps -> SGD.builder(ps, 0.1).momentum(0.9).nesterov(true).build()),
                new double[] {0.981, -1.962, 0.443}, new double[] {0.8969, -1.9458, 0.4377});
    }

    // ---------------------------------------------------------------- Adam / AdamW

    @Test
    void adam() {
        // lr 0.1, betas (0.9, 0.999), eps 1e-8
        // step 1: m = 0.1*g1 = [0.01, -0.02, 0.03]; v = 0.001*g1^2 = [1e-5, 4e-5, 9e-5]
        //         bc1 = 0.1, bc2 = 0.001: denom = sqrt(v)/sqrt(0.001) + 1e-8 = |g1| + 1e-8
        //         p1 = p0 - (0.1/0.1) * m/denom, e.g. p1[0] = 1 - 0.01/0.10000001 = 0.90000001
        // step 2: m = 0.9*m + 0.1*g2 = [0.049, -0.018, 0.017]
        //         v = 0.999*v + 0.001*g2^2 = [1.6999e-4, 3.996e-5, 9.991e-5]
        //         bc1 = 1 - 0.81 = 0.19, bc2 = 1 - 0.998001 = 0.001999
        //         p2[0] = p1[0] - (0.1/0.19) * 0.049 / (sqrt(1.6999e-4)/sqrt(0.001999) + 1e-8)
        //               = 0.90000001 - 0.5263158 * 0.049 / 0.2916119 = 0.8115624
        check(twoSteps(ps -> new Adam(ps, 0.1)),
                new double[] {0.900000009999999, -1.9000000049999999, 0.4000000033333332},
                new double[] {0.811562363975117, -1.8329941843255586, 0.35997814792808075});
    }

    @Test
    void adamL2WeightDecay() {
        // as adam, with g = grad + 0.1*p: step 1 g = [0.2, -0.4, 0.35], so m/denom ~ sign(g) and
        //   p1 = p0 - 0.1*g/(|g|+1e-8) = [0.900000005, -1.9000000025, 0.4000000029]
        // step 2: g = g2 + 0.1*p1 = [0.49, -0.19, -0.06]; m = 0.9*[0.02,-0.04,0.035] + 0.1*g = [0.067, -0.055, 0.0255]
        //         v = 0.999*0.001*[0.04,0.16,0.1225] + 0.001*g^2; p2 = p1 - (0.1/0.19)*m/(sqrt(v)/sqrt(0.001999)+1e-8)
        check(twoSteps(ps -> Adam.builder(ps).lr(0.1).weightDecay(0.1).build()),
                new double[] {0.9000000049999998, -1.9000000025, 0.40000000285714277},
                new double[] {0.8057889114417277, -1.8075399959294836, 0.34653784708382696});
    }

    @Test
    void adamAmsgrad() {
        // as adam; at step 2 element 1 has g2 = 0 so v = 0.999*4e-5 = 3.996e-5 < vmax = 4e-5: the denominator
        // uses 4e-5: p2[1] = p1[1] - (0.1/0.19)*(-0.018)/(sqrt(4e-5)/sqrt(0.001999) + 1e-8) = -1.8330277
        // (elements 0 and 2 have v growing, so they match plain Adam)
        check(twoSteps(ps -> Adam.builder(ps).lr(0.1).amsgrad(true).build()),
                new double[] {0.900000009999999, -1.9000000049999999, 0.4000000033333332},
                new double[] {0.811562363975117, -1.8330276956134448, 0.35997814792808075});
    }

    @Test
    void adamWDecoupledWeightDecay() {
        // lr 0.1, weight decay 0.1: p *= 1 - 0.01 first, then Adam on the plain gradient
        // step 1: p1 = 0.99*p0 - (adam's step 1 update) = [0.99-0.09999999, -1.98+0.099999995, 0.495-0.0999999967]
        //            = [0.89000001, -1.880000005, 0.3950000033]
        // step 2: p2 = 0.99*p1 - (adam's step 2 update, same moments as plain adam)
        //         e.g. p2[0] = 0.99*0.89000001 - 0.5263158*0.049/0.2916119 = 0.7926624
        check(twoSteps(ps -> AdamW.builder(ps).lr(0.1).weightDecay(0.1).build()),
                new double[] {0.890000009999999, -1.8800000049999999, 0.3950000033333332},
                new double[] {0.7926623638751169, -1.7941941842755587, 0.3510281478947474});
    }

    @Test
    void adamWAmsgrad() {
        // AdamW with amsgrad: element 1 again uses vmax = 4e-5 at step 2
        check(twoSteps(ps -> AdamW.builder(ps).lr(0.1).weightDecay(0.1).amsgrad(true).build()),
                new double[] {0.890000009999999, -1.8800000049999999, 0.3950000033333332},
                new double[] {0.7926623638751169, -1.7942276955634449, 0.3510281478947474});
    }

    @Test
    void adamOnF32MatchesTheReferenceToF32Precision() {
        double[][] got = twoSteps(ps -> new Adam(ps, 0.1), DType.F32);
        assertArrayEquals(new double[] {0.90000001, -1.900000005, 0.400000003}, got[0], 1e-6);
        assertArrayEquals(new double[] {0.811562363975117, -1.8329941843255586, 0.35997814792808075}, got[1], 1e-6);
    }

    // ---------------------------------------------------------------- RMSprop

    @Test
    void rmspropPlain() {
        // lr 0.01, alpha 0.99, eps 1e-8
        // step 1: sq = 0.01*g1^2 = [1e-4, 4e-4, 9e-4]; sqrt(sq) = 0.1*|g1|
        //         p1 = p0 - 0.01*g1/(0.1*|g1| + 1e-8) = p0 - 0.1*sign(g1) (minus ~1e-7 relative) = [0.9000001, -1.90000005, 0.40000003]
        // step 2: sq = 0.99*sq + 0.01*g2^2 = [0.000099+0.0016, 0.000396, 0.000891+0.0001] = [1.699e-3, 3.96e-4, 9.91e-4]
        //         p2 = p1 - 0.01*g2/(sqrt(sq)+1e-8): p2[0] = 0.9000001 - 0.004/0.0412189 = 0.8029573; element 1 unchanged
        check(twoSteps(ps -> new RMSprop(ps, 0.01)),
                new double[] {0.9000000999999, -1.900000049999975, 0.40000003333332224},
                new double[] {0.8029573273311483, -1.900000049999975, 0.43176607014199786});
    }

    @Test
    void rmspropCentered() {
        // centered: ga = 0.01*g1 at step 1, avg = sqrt(sq - ga^2) + eps = sqrt(0.01*g^2 - 1e-4*g^2) = sqrt(0.0099)*|g1|
        //   p1[0] = 1 - 0.01*0.1/(0.0994987*0.1 + 1e-8) = 0.8994963
        // step 2: ga = 0.99*ga + 0.01*g2, sq as in rmspropPlain, p2 = p1 - 0.01*g2/(sqrt(sq - ga^2) + 1e-8)
        check(twoSteps(ps -> RMSprop.builder(ps).lr(0.01).centered(true).build()),
                new double[] {0.8994963194840784, -1.899496268979104, 0.3994962521441012},
                new double[] {0.8017345170731733, -1.899496268979104, 0.4313246724279548});
    }

    @Test
    void rmspropCenteredMomentumWeightDecay() {
        // lr 0.01, alpha 0.99, weight decay 0.1, momentum 0.9, centered
        // step 1: g = g1 + 0.1*p0 = [0.2, -0.4, 0.35]; sq = 0.01*g^2; ga = 0.01*g; avg = sqrt(0.0099)*|g| + 1e-8
        //         buf = g/avg ~ sign(g)/0.0994987 = [10.0504, -10.0504, 10.0504]; p1 = p0 - 0.01*buf = [0.8994963, -1.8994962, 0.3994962]
        // step 2: g = g2 + 0.1*p1; sq, ga updated with alpha 0.99; buf = 0.9*buf + g/avg; p2 = p1 - 0.01*buf
        check(twoSteps(ps -> RMSprop.builder(ps).lr(0.01).weightDecay(0.1).momentum(0.9).centered(true).build()),
                new double[] {0.899496268979104, -1.8994962437265976, 0.3994962473340994},
                new double[] {0.7155992495772577, -1.7655850696362894, 0.3260918661708613});
    }

    // ---------------------------------------------------------------- Adagrad

    @Test
    void adagradPlain() {
        // lr 0.1, eps 1e-10
        // step 1: sum = g1^2 = [0.01, 0.04, 0.09]; p1 = p0 - 0.1*g1/(|g1| + 1e-10) = [0.9, -1.9, 0.4] (up to 1e-10)
        // step 2: sum = [0.17, 0.04, 0.1]; p2 = p1 - 0.1*g2/(sqrt(sum) + 1e-10)
        //         = [0.9 - 0.04/0.4123106, -1.9, 0.4 + 0.01/0.3162278] = [0.8029858, -1.9, 0.4316228]
        check(twoSteps(ps -> new Adagrad(ps, 0.1)),
                new double[] {0.9000000000999999, -1.90000000005, 0.40000000003333336},
                new double[] {0.8029857501089961, -1.90000000005, 0.43162277662501713});
    }

    @Test
    void adagradLrDecayWeightDecayInitialAccumulator() {
        // lr 0.1, lr_decay 0.5, weight decay 0.1, initial accumulator 0.1
        // step 1: clr = 0.1/(1 + 0*0.5) = 0.1; g = [0.2, -0.4, 0.35]; sum = 0.1 + g^2 = [0.14, 0.26, 0.2225]
        //         p1 = p0 - 0.1*g/sqrt(sum) = [1 - 0.02/0.3741657, -2 + 0.04/0.5099020, 0.5 - 0.035/0.4716991]
        //            = [0.9465478, -1.9215535, 0.4258001]
        // step 2: clr = 0.1/(1 + 1*0.5) = 0.0666667; g = g2 + 0.1*p1 = [0.4946548, -0.1921554, -0.0574200]
        //         sum += g^2; p2 = p1 - clr*g/(sqrt(sum) + 1e-10)
        check(twoSteps(ps -> Adagrad.builder(ps).lr(0.1).lrDecay(0.5).weightDecay(0.1).initialAccumulatorValue(0.1).build()),
                new double[] {0.9465477516318008, -1.921553545960111, 0.42580014841528513},
                new double[] {0.8933786583686385, -1.8980442937900506, 0.433856022703179});
    }
}
