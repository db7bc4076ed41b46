package dev.kiln.frontend.autograd;

import dev.kiln.frontend.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Autograd behaviour that PyTorch users rely on, checked against values worked out by hand. */
class AutogradSemanticsTest {

    private static Tensor leaf(float... v) { return Tensor.of(v, v.length).setRequiresGrad(true); }

    @Test
    void gradientsAccumulateAcrossBackwardCalls() {
        Tensor x = leaf(1, 2, 3);
        x.mul(x).sum().backward();          // d/dx sum(x^2) = 2x
        x.mul(3.0).sum().backward();        // + 3
        assertArrayEquals(new float[] {5, 7, 9}, x.grad().toFloatArray());
    }

    @Test
    void aSharedInputSumsItsGradientsFromEveryUse() {
        Tensor x = leaf(2);
        Tensor y = x.mul(x).add(x);         // y = x^2 + x, dy/dx = 2x + 1 = 5
        y.sum().backward();
        assertArrayEquals(new float[] {5}, x.grad().toFloatArray());
    }

    @Test
    void nonScalarBackwardNeedsAnExplicitGradient() {
        Tensor x = leaf(1, 2);
        Tensor y = x.mul(2.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, y::backward);
        assertTrue(e.getMessage().contains("one-element output"), e.getMessage());
        y.backward(Tensor.of(new float[] {10, 100}, 2));
        assertArrayEquals(new float[] {20, 200}, x.grad().toFloatArray());
    }

    @Test
    void secondBackwardNeedsRetainGraph() {
        Tensor x = leaf(3);
        Tensor loss = x.mul(x).sum();
        loss.backward(null, true);
        loss.backward();                    // allowed: the first pass retained the graph
        assertArrayEquals(new float[] {12}, x.grad().toFloatArray());
        IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(e.getMessage().contains("second time"), e.getMessage());
    }

    @Test
    void detachAndNoGradStopRecording() {
        Tensor x = leaf(1, 2);
        assertFalse(x.detach().mul(2.0).requiresGrad());
        try (var _ = Autograd.noGrad()) {
            assertFalse(x.mul(2.0).requiresGrad());
        }
        assertTrue(x.mul(2.0).requiresGrad());
    }

    @Test
    void inPlaceChangeOfASavedTensorIsDetected() {
        Tensor x = leaf(1, 2);
        Tensor y = x.mul(2.0);              // y does not need saving for mul's x-gradient...
        Tensor z = y.mul(y);                // ...but z = y*y saves y
        y.add_(1.0);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> z.sum().backward());
        assertTrue(e.getMessage().contains("modified by an in-place operation"), e.getMessage());
        assertTrue(e.getMessage().contains("'mul'"), e.getMessage());
    }

    @Test
    void inPlaceOnANonLeafKeepsGradientsRight() {
        Tensor x = leaf(1, 2);
        Tensor y = x.mul(3.0);
        y.add_(1.0);                        // y = 3x + 1, recorded on y's history
        y.mul(y).sum().backward();          // d/dx (3x+1)^2 = 6 (3x+1)
        assertArrayEquals(new float[] {24, 42}, x.grad().toFloatArray());
    }

    @Test
    void inPlaceOnALeafThatRequiresGradIsRefused() {
        Tensor x = leaf(1);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> x.add_(1.0));
        assertTrue(e.getMessage().contains("leaf"), e.getMessage());
        try (var _ = Autograd.noGrad()) {
            x.add_(1.0);                    // allowed without recording, as optimisers do
        }
        assertArrayEquals(new float[] {2}, x.toFloatArray());
    }

    @Test
    void onlyFloatingTensorsRequireGrad() {
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(new long[] {1}, 1).setRequiresGrad(true));
        Tensor x = leaf(1, 2);
        assertNull(x.grad());
        assertFalse(x.gt(Tensor.zeros(2)).requiresGrad());   // comparisons carry no gradient
        assertFalse(x.to(dev.kiln.ir.DType.BOOL).requiresGrad());
        assertFalse(x.argmax().requiresGrad());
    }
}
