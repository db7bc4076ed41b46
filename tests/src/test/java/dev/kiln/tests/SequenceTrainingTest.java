package dev.kiln.tests;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Embedding;
import dev.kiln.frontend.nn.LSTM;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.TransformerEncoderLayer;
import dev.kiln.frontend.optim.Adam;
import dev.kiln.frontend.optim.Optimizer;
import dev.kiln.runtime.MemoryScope;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Small sequence models learn synthetic tasks that need information from elsewhere in the sequence:
 * the Transformer copies the first token to every position (attention plus learned positions), the
 * LSTM recalls the first value after the whole sequence (memory).
 */
class SequenceTrainingTest {

    private static final int LENGTH = 6, VOCAB = 5;

    static final class CopyFirstToken extends Module {
        final Embedding tokens = new Embedding(VOCAB, 16);
        final Embedding positions = new Embedding(LENGTH, 16);
        final TransformerEncoderLayer encoder = new TransformerEncoderLayer(16, 2, 32, 0.0, false, 1e-5, true, false);
        final Linear head = new Linear(16, VOCAB);

        @Override
        public Tensor forward(Tensor ids) {
            Tensor x = tokens.forward(ids).add(positions.forward(Tensor.arange(LENGTH)));
            return head.forward(encoder.forward(x));
        }
    }

    @Test
    void transformerLearnsToCopyTheFirstToken() {
        Generator.manualSeed(11);
        CopyFirstToken model = new CopyFirstToken();
        Generator data = new Generator(12);
        double loss = train(model, new Adam(model.parameters(), 1e-2), 200, step -> {
            Tensor ids = Tensor.randint(data, 0, VOCAB, 32, LENGTH);
            Tensor target = ids.narrow(1, 0, 1).expand(32, LENGTH).contiguous();
            return F.crossEntropy(model.forward(ids).reshape(-1, VOCAB), target.reshape(-1));
        });
        assertTrue(loss < 0.1, "cross entropy after training: " + loss);
    }

    static final class RecallFirst extends Module {
        final LSTM lstm = new LSTM(1, 16, 1, true, true, 0);
        final Linear head = new Linear(16, 1);

        @Override
        public Tensor forward(Tensor x) {
            Tensor out = lstm.forward(x);                       // [N, T, H]
            return head.forward(out.select(1, out.dim(1) - 1)); // last step
        }
    }

    @Test
    void lstmRemembersTheFirstValue() {
        Generator.manualSeed(21);
        RecallFirst model = new RecallFirst();
        Generator data = new Generator(22);
        double loss = train(model, new Adam(model.parameters(), 1e-2), 300, step -> {
            Tensor x = Tensor.uniform(data, -1, 1, 32, 8, 1);
            Tensor target = x.narrow(1, 0, 1).reshape(32, 1).contiguous();
            return F.mseLoss(model.forward(x), target, F.Reduction.MEAN);
        });
        assertTrue(loss < 0.01, "mean squared error after training: " + loss);
    }

    /** Runs {@code steps} optimisation steps; returns the mean loss of the last 20. */
    private static double train(Module model, Optimizer optimizer, int steps, Function<Integer, Tensor> lossAt) {
        double tail = 0;
        for (int step = 0; step < steps; step++) {
            try (MemoryScope _ = MemoryScope.open()) {
                Tensor loss = lossAt.apply(step);
                loss.backward();
                optimizer.step();
                optimizer.zeroGrad();
                if (step >= steps - 20) tail += loss.item() / 20;
            }
        }
        return tail;
    }

}
