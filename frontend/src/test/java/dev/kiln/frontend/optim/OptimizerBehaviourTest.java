package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Parameter;
import dev.kiln.ir.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OptimizerBehaviourTest {

    static Parameter param(double... v) { return new Parameter(Tensor.of(v)); }

    @Test
    void parametersWithoutGradAreSkippedAndKeepTheirStepCount() {
        Parameter a = param(1, 2), b = param(3, 4);
        Adam opt = new Adam(List.of(a, b), 0.1);
        a.setGrad(Tensor.of(new double[] {1, 1}));
        long before = b.version(), aBefore = a.version();
        opt.step();
        assertArrayEquals(new double[] {3, 4}, b.data().toDoubleArray());
        assertEquals(before, b.version(), "untouched parameter keeps its version");
        assertTrue(a.version() > aBefore, "updated parameter's version is bumped");
        assertTrue(a.data().toDoubleArray()[0] < 1);
        OptimizerState s = opt.state();
        assertEquals(1, s.params().get(0).step());
        assertEquals(0, s.params().get(1).step());
        assertTrue(s.params().get(1).buffers().isEmpty());
        assertEquals(List.of("exp_avg", "exp_avg_sq"), List.copyOf(s.params().get(0).buffers().keySet()));
    }

    @Test
    void zeroGradClearsGradients() {
        Parameter a = param(1), b = param(2);
        SGD opt = new SGD(List.of(a, b), 0.1);
        a.setGrad(Tensor.of(new double[] {1}));
        b.setGrad(Tensor.of(new double[] {1}));
        opt.zeroGrad();
        assertNull(a.grad());
        assertNull(b.grad());
        opt.step(); // nothing to do
        assertArrayEquals(new double[] {1}, a.data().toDoubleArray());
    }

    @Test
    void stepIsNotRecordedByAutograd() {
        Parameter a = param(1, 2);
        SGD opt = new SGD(List.of(a), 0.5);
        a.setGrad(Tensor.of(new double[] {2, 2}));
        opt.step();
        assertArrayEquals(new double[] {0, 1}, a.data().toDoubleArray());
        assertNull(a.gradFn(), "the parameter is still a leaf");
        assertTrue(a.isLeaf());
    }

    @Test
    void worksOnAnyFloatingLeafTensorAndAcrossDtypes() {
        Tensor x = Tensor.of(new float[] {1, 2}).setRequiresGrad(true);
        Parameter y = param(3);
        SGD opt = SGD.builder(List.of(x, y), 0.5).momentum(0.5).build();
        x.setGrad(Tensor.of(new float[] {1, -1}));
        y.setGrad(Tensor.of(new double[] {2}));
        opt.step();
        assertArrayEquals(new float[] {0.5f, 2.5f}, x.data().toFloatArray());
        assertArrayEquals(new double[] {2}, y.data().toDoubleArray());
        assertEquals(DType.F32, opt.state().params().get(0).buffers().get("momentum_buffer").dtype());
        assertEquals(DType.F64, opt.state().params().get(1).buffers().get("momentum_buffer").dtype());
    }

    @Test
    void lrCanBeChangedBetweenSteps() {
        Parameter a = param(1);
        SGD opt = new SGD(List.of(a), 0.1);
        opt.setLr(0.5);
        assertEquals(0.5, opt.lr());
        a.setGrad(Tensor.of(new double[] {1}));
        opt.step();
        assertArrayEquals(new double[] {0.5}, a.data().toDoubleArray());
        assertEquals(Map.of("lr", 0.5, "momentum", 0.0, "dampening", 0.0, "nesterov", 0.0, "weight_decay", 0.0),
                opt.hyperParameters());
        assertThrows(IllegalArgumentException.class, () -> opt.setLr(-1));
    }

    @Test
    void pytorchDefaults() {
        List<Parameter> ps = List.of(param(1));
        Adam adam = new Adam(ps);
        assertEquals(1e-3, adam.lr());
        assertEquals(0.9, adam.beta1());
        assertEquals(0.999, adam.beta2());
        assertEquals(1e-8, adam.eps());
        assertEquals(0, adam.weightDecay());
        AdamW adamW = new AdamW(ps);
        assertEquals(1e-2, adamW.weightDecay());
        assertEquals(1e-3, adamW.lr());
        RMSprop rms = new RMSprop(ps);
        assertEquals(1e-2, rms.lr());
        assertEquals(0.99, rms.alpha());
        assertEquals(1e-8, rms.eps());
        Adagrad ada = new Adagrad(ps);
        assertEquals(1e-2, ada.lr());
        assertEquals(1e-10, ada.eps());
        assertEquals(0, ada.initialAccumulatorValue());
    }

    @Test
    void badHyperParametersNameTheParameter() {
        List<Parameter> ps = List.of(param(1));
        expect(() -> new SGD(ps, -0.1), "SGD: lr must be a finite number >= 0, got -0.1");
        expect(() -> new SGD(ps, Double.NaN), "SGD: lr must be");
        expect(() -> SGD.builder(ps, 0.1).momentum(-1).build(), "SGD: momentum must be");
        expect(() -> SGD.builder(ps, 0.1).nesterov(true).build(),
                "SGD: nesterov momentum requires momentum > 0 and dampening == 0, got momentum 0.0");
        expect(() -> SGD.builder(ps, 0.1).momentum(0.9).dampening(0.1).nesterov(true).build(), "dampening 0.1");
        expect(() -> SGD.builder(ps, 0.1).weightDecay(-1e-4).build(), "SGD: weight_decay must be");
        expect(() -> Adam.builder(ps).betas(1.0, 0.999).build(), "Adam: beta1 must be in [0, 1), got 1.0");
        expect(() -> Adam.builder(ps).betas(0.9, -0.1).build(), "Adam: beta2 must be in [0, 1), got -0.1");
        expect(() -> Adam.builder(ps).eps(-1).build(), "Adam: eps must be");
        expect(() -> AdamW.builder(ps).weightDecay(-1).build(), "AdamW: weight_decay must be");
        expect(() -> RMSprop.builder(ps).alpha(-0.5).build(), "RMSprop: alpha must be");
        expect(() -> RMSprop.builder(ps).momentum(-0.5).build(), "RMSprop: momentum must be");
        expect(() -> Adagrad.builder(ps).lrDecay(-1).build(), "Adagrad: lr_decay must be");
        expect(() -> Adagrad.builder(ps).initialAccumulatorValue(-1).build(), "Adagrad: initial_accumulator_value must be");
        expect(() -> new Adam(List.of()), "Adam: got an empty parameter list");
        Parameter p = param(1);
        expect(() -> new Adam(List.of(p, p)), "Adam: parameter 1 is the same tensor as parameter 0");
        expect(() -> new Adam(List.of(Tensor.of(new long[] {1}))), "Adam: parameter 0 is i64; only floating-point");
    }

    static void expect(Executable e, String message) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(message), "message: " + ex.getMessage() + "\nexpected: " + message);
    }
}
