package dev.kiln.frontend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Losses and einsum against values worked out by hand from PyTorch's definitions. */
class FunctionalTest {

    @Test
    void crossEntropyWithAndWithoutLabelSmoothing() {
        Tensor logits = Tensor.of(new float[] {2, 0, 0, 0, 0, 3}, 2, 3);
        Tensor target = Tensor.of(new long[] {0, 1}, 2);
        double lse0 = Math.log(Math.exp(2) + 2), lse1 = Math.log(2 + Math.exp(3));
        double nll = ((lse0 - 2) + (lse1 - 0)) / 2;
        assertEquals(nll, F.crossEntropy(logits, target).item(), 1e-6);
        // smoothing 0.1 over 3 classes: 0.9 * nll + 0.1 * mean_c(-log p_c)
        double smooth0 = (3 * lse0 - 2) / 3, smooth1 = (3 * lse1 - 3) / 3;
        double expected = 0.9 * nll + 0.1 * (smooth0 + smooth1) / 2;
        assertEquals(expected, F.crossEntropy(logits, target, 0.1, F.Reduction.MEAN).item(), 1e-6);
    }

    @Test
    void regressionAndBinaryLosses() {
        Tensor a = Tensor.of(new float[] {1, 2, 3}, 3), b = Tensor.of(new float[] {2, 2, 5}, 3);
        assertEquals(5.0 / 3, F.mseLoss(a, b, F.Reduction.MEAN).item(), 1e-6);
        assertEquals(3.0, F.l1Loss(a, b, F.Reduction.SUM).item(), 1e-6);
        Tensor p = Tensor.of(new float[] {0.9f, 0.2f}, 2), y = Tensor.of(new float[] {1, 0}, 2);
        double bce = -(Math.log(0.9) + Math.log(0.8)) / 2;
        assertEquals(bce, F.binaryCrossEntropy(p, y, F.Reduction.MEAN).item(), 1e-6);
        Tensor logits = Tensor.of(new float[] {2.1972246f, -1.3862944f}, 2);   // logit(0.9), logit(0.2)
        assertEquals(bce, F.binaryCrossEntropyWithLogits(logits, y, F.Reduction.MEAN).item(), 1e-5);
    }

    @Test
    void einsumCoversTheCommonPatterns() {
        Tensor a = Tensor.randn(new Generator(1), 2, 3, 4), b = Tensor.randn(new Generator(2), 2, 4, 5);
        assertArrayEquals(a.matmul(b).toFloatArray(), F.einsum("bij,bjk->bik", a, b).toFloatArray(), 1e-5f);
        assertArrayEquals(a.transpose(1, 2).toFloatArray(), F.einsum("bij->bji", a).toFloatArray());
        assertArrayEquals(a.sum(new int[] {2}, false).toFloatArray(), F.einsum("bij->bi", a).toFloatArray(), 1e-5f);
        Tensor u = Tensor.of(new float[] {1, 2}, 2), v = Tensor.of(new float[] {3, 4, 5}, 3);
        assertArrayEquals(new float[] {3, 4, 5, 6, 8, 10}, F.einsum("i,j->ij", u, v).toFloatArray());
        assertEquals(14.0, F.einsum("i,i->", Tensor.of(new float[] {1, 2, 3}, 3), Tensor.of(new float[] {1, 2, 3}, 3)).item(), 1e-6);
        assertThrows(UnsupportedOperationException.class, () -> F.einsum("ii->i", Tensor.zeros(2, 2)));
    }
}
