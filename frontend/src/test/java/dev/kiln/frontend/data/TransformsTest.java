package dev.kiln.frontend.data;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransformsTest {

    @Test
    void normalizePerChannel() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 1, 2); // C=2, H=1, W=2
        Tensor y = new Normalize(new double[] {1, 2}, new double[] {2, 4}).apply(x);
        // channel 0: (1-1)/2 = 0, (2-1)/2 = 0.5; channel 1: (3-2)/4 = 0.25, (4-2)/4 = 0.5
        assertArrayEquals(new float[] {0, 0.5f, 0.25f, 0.5f}, y.data().toFloatArray());
        assertArrayEquals(new float[] {1, 2, 3, 4}, x.data().toFloatArray(), "input untouched");

        Tensor batch = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 1, 2); // [N, C, H, W]
        assertArrayEquals(new float[] {0, 0.5f, 0.25f, 0.5f, 2, 2.5f, 1.25f, 1.5f},
                new Normalize(new double[] {1, 2}, new double[] {2, 4}).apply(batch).data().toFloatArray());
    }

    @Test
    void normalizeScalarConvertsIntegersToFloat() {
        Tensor u8 = Tensor.wrap(NDArray.of(new int[] {0, 128, 255}).to(DType.U8));
        Tensor y = new Normalize(0.5 * 255, 0.5 * 255).apply(u8);
        assertEquals(DType.F32, y.dtype());
        assertArrayEquals(new float[] {-1, (128 - 127.5f) / 127.5f, 1}, y.data().toFloatArray(), 1e-6f);
        Tensor f64 = new Normalize(1, 2).apply(Tensor.of(new double[] {3}));
        assertEquals(DType.F64, f64.dtype());
        assertEquals(1.0, f64.data().getFlat(0));
    }

    @Test
    void normalizeRejectsBadArguments() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Normalize(new double[] {0, 0}, new double[] {1, 0}))
                .getMessage().contains("std[1] is 0.0"));
        assertThrows(IllegalArgumentException.class, () -> new Normalize(new double[] {0}, new double[] {1, 2}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Normalize(new double[] {0, 0, 0}, new double[] {1, 1, 1}).apply(Tensor.zeros(DType.F32, 1, 28, 28)));
        assertTrue(e.getMessage().contains("3 channel means need an image shaped [..., 3, H, W], got [1, 28, 28]"),
                e.getMessage());
    }

    @Test
    void randomCropPicksEveryPaddedWindow() {
        Tensor img = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 3, 3);
        float[][] padded = new float[5][5]; // zero padding of 1
        for (int r = 0; r < 3; r++) for (int c = 0; c < 3; c++) padded[r + 1][c + 1] = 3 * r + c + 1;
        List<float[]> windows = new ArrayList<>();
        for (int top = 0; top < 3; top++) {
            for (int left = 0; left < 3; left++) {
                float[] w = new float[9];
                for (int r = 0; r < 3; r++) for (int c = 0; c < 3; c++) w[3 * r + c] = padded[top + r][left + c];
                windows.add(w);
            }
        }
        RandomCrop crop = new RandomCrop(3, 1, new Generator(5));
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 300; i++) {
            Tensor out = crop.apply(img);
            assertArrayEquals(new long[] {1, 3, 3}, out.shape());
            float[] v = out.data().toFloatArray();
            int match = -1;
            for (int k = 0; k < windows.size(); k++) if (Arrays.equals(windows.get(k), v)) match = k;
            assertTrue(match >= 0, "output " + Arrays.toString(v) + " is a window of the padded image");
            seen.add(match);
        }
        assertEquals(9, seen.size(), "every position is drawn");
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, img.data().toFloatArray(), "input untouched");
    }

    @Test
    void randomCropIsReproducibleAndKeepsDtypeAndLeadingDims() {
        NDArray a = NDArray.zeros(DType.U8, 2, 3, 4);
        for (int i = 0; i < 24; i++) a.setFlat(i, i);
        Tensor x = Tensor.wrap(a);
        RandomCrop c1 = new RandomCrop(2, 3, 0, new Generator(9)), c2 = new RandomCrop(2, 3, 0, new Generator(9));
        for (int i = 0; i < 10; i++) {
            Tensor y1 = c1.apply(x), y2 = c2.apply(x);
            assertEquals(DType.U8, y1.dtype());
            assertArrayEquals(new long[] {2, 2, 3}, y1.shape());
            assertArrayEquals(y1.data().toLongArray(), y2.data().toLongArray());
            long[] v = y1.data().toLongArray();
            assertEquals(v[0] + 12, v[6], "both planes cropped at the same place");
            assertEquals(v[0] + 4, v[3], "rows stay rows");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RandomCrop(33, 2, new Generator(0)).apply(Tensor.zeros(DType.F32, 1, 28, 28)));
        assertTrue(e.getMessage().contains("crop 33x33 is larger than the padded input 32x32"), e.getMessage());
        assertArrayEquals(new long[] {1, 32, 32},
                new RandomCrop(32, 2, new Generator(0)).apply(Tensor.zeros(DType.F32, 1, 28, 28)).shape());
        e = assertThrows(IllegalArgumentException.class,
                () -> new RandomCrop(30, 0, new Generator(0)).apply(Tensor.zeros(DType.F32, 1, 28, 28)));
        assertTrue(e.getMessage().contains("crop 30x30 is larger than the padded input 28x28"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new RandomCrop(3, -1, new Generator(0)));
    }

    @Test
    void horizontalFlip() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 1, 2, 3);
        Tensor always = new RandomHorizontalFlip(1, new Generator(0)).apply(x);
        assertArrayEquals(new float[] {3, 2, 1, 6, 5, 4}, always.data().toFloatArray());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, x.data().toFloatArray(), "input untouched");
        assertSame(x, new RandomHorizontalFlip(0, new Generator(0)).apply(x));
        RandomHorizontalFlip half = new RandomHorizontalFlip(new Generator(1));
        int flipped = 0;
        for (int i = 0; i < 1000; i++) if (half.apply(x) != x) flipped++;
        assertTrue(flipped > 430 && flipped < 570, flipped + " of 1000 flipped at p = 0.5");
        assertThrows(IllegalArgumentException.class, () -> new RandomHorizontalFlip(1.5, new Generator(0)));
    }

    @Test
    void composeAndOnField() {
        Transform plusOne = t -> Tensor.wrap(NDArray.of(new float[] {t.data().toFloatArray()[0] + 1}));
        Transform timesTwo = t -> Tensor.wrap(NDArray.of(new float[] {t.data().toFloatArray()[0] * 2}));
        assertEquals(4f, Transform.compose(plusOne, timesTwo).apply(Tensor.of(new float[] {1})).data().getFloat(0));
        assertEquals(3f, plusOne.andThen(timesTwo).andThen(t -> t).apply(Tensor.of(new float[] {0.5f})).data().getFloat(0));
        Tensor[] sample = {Tensor.of(new float[] {1}), Tensor.of(new long[] {7})};
        Tensor[] out = plusOne.onField(0).apply(sample);
        assertEquals(2f, out[0].data().getFloat(0));
        assertSame(sample[1], out[1]);
        assertEquals(1f, sample[0].data().getFloat(0), "the original sample array is not modified");
        assertThrows(IllegalArgumentException.class, () -> plusOne.onField(2).apply(sample));
    }
}
