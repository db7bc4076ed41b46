package dev.kiln.frontend;

import dev.kiln.ir.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorTest {

    @Test
    void arithmeticBroadcastsLikeNumpy() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(new float[] {10, 20, 30}, 3);
        assertArrayEquals(new float[] {11, 22, 33, 14, 25, 36}, a.add(b).toFloatArray());
        assertArrayEquals(new float[] {1, 3, 5, 7, 9, 11}, a.mul(2).sub(1).toFloatArray());
    }

    @Test
    void shapeOpsFollowPyTorch() {
        Tensor a = Tensor.arange(0, 24, 1, DType.F32).reshape(2, 3, 4);
        assertArrayEquals(new long[] {4, 3, 2}, a.transpose(0, 2).shape());
        assertEquals(12f, a.transpose(0, 2).toFloatArray()[1]);
        assertArrayEquals(new long[] {2, 12}, a.flatten(1, 2).shape());
        assertArrayEquals(new long[] {4, 6}, a.reshape(-1, 6).shape());
        assertArrayEquals(new float[] {60, 92, 124}, a.sum(new int[] {0, 2}, true).toFloatArray());
        assertArrayEquals(new long[] {1, 3, 1}, a.sum(new int[] {0, 2}, true).shape());
        assertEquals(11.5, a.mean().item(), 1e-6);
    }

    @Test
    void softmaxRowsSumToOne() {
        Tensor p = Tensor.randn(new Generator(3), 4, 7).softmax(1);
        for (float s : p.sum(1, false).toFloatArray()) assertEquals(1.0, s, 1e-6);
    }

    @Test
    void seededGeneratorsRepeat() {
        assertArrayEquals(Tensor.randn(new Generator(5), 10).toFloatArray(), Tensor.randn(new Generator(5), 10).toFloatArray());
        assertFalse(java.util.Arrays.equals(Tensor.rand(new Generator(5), 10).toFloatArray(), Tensor.rand(new Generator(6), 10).toFloatArray()));
        for (float v : Tensor.rand(new Generator(1), 1000).toFloatArray()) assertTrue(v >= 0 && v < 1);
    }

    @Test
    void castConvertsDtype() {
        Tensor t = Tensor.of(new float[] {1.7f, -2.5f}, 2).to(DType.I64);
        assertEquals(DType.I64, t.dtype());
        assertArrayEquals(new long[] {1, -2}, t.toLongArray());
    }
}
