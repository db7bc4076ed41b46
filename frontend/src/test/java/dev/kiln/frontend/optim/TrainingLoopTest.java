package dev.kiln.frontend.optim;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.data.Batch;
import dev.kiln.frontend.data.Collate;
import dev.kiln.frontend.data.DataLoader;
import dev.kiln.frontend.data.TensorDataset;
import dev.kiln.frontend.nn.Linear;
import org.junit.jupiter.api.Test;

import java.util.function.Function;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Optimisers driven by real autograd gradients, with a DataLoader and a scheduler: fitting y = 2x - 1. */
class TrainingLoopTest {

    static double fit(Function<List<Tensor>, Optimizer> make) {
        Generator.manualSeed(3);
        Linear model = new Linear(1, 1);
        float[] xs = new float[32], ys = new float[32];
        for (int i = 0; i < 32; i++) {
            xs[i] = (i - 16) / 8f;
            ys[i] = 2 * xs[i] - 1;
        }
        DataLoader<Tensor[], Batch> loader = DataLoader.builder(
                new TensorDataset(Tensor.of(xs, 32, 1), Tensor.of(ys, 32, 1)), Collate.pairs())
                .batchSize(8).shuffle(1).build();
        Optimizer opt = make.apply(List.copyOf(model.parameters()));
        StepLR schedule = new StepLR(opt, 20, 0.5);
        double loss = Double.NaN;
        for (int epoch = 0; epoch < 60; epoch++) {
            for (Batch b : loader) {
                opt.zeroGrad();
                Tensor err = model.forward(b.inputs()).sub(b.targets());
                Tensor l = err.mul(err).mean();
                l.backward();
                GradClip.clipGradNorm(model.parameters(), 10);
                opt.step();
                loss = l.item();
            }
            schedule.step();
        }
        String which = opt.name() + " after 60 epochs";
        assertEquals(2, model.weight().data().getFlat(0), 0.05, which + ": weight");
        assertEquals(-1, model.bias().data().getFlat(0), 0.05, which + ": bias");
        return loss;
    }

    @Test
    void sgd() { assertTrue(fit(ps -> SGD.builder(ps, 0.1).momentum(0.9).build()) < 1e-3); }

    @Test
    void adam() { assertTrue(fit(ps -> new Adam(ps, 0.1)) < 1e-3); }

    @Test
    void adamW() { assertTrue(fit(ps -> AdamW.builder(ps).lr(0.1).weightDecay(1e-4).build()) < 1e-3); }

    @Test
    void rmsprop() { assertTrue(fit(ps -> new RMSprop(ps, 0.05)) < 1e-3); }

    @Test
    void adagrad() { assertTrue(fit(ps -> new Adagrad(ps, 0.5)) < 1e-3); }
}
