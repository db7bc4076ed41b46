package dev.kiln.frontend.data;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.ir.testing.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real MNIST t10k files from shared/data/mnist. */
class MnistTest {

    private static Mnist mnist;

    @BeforeAll
    static void load() throws IOException {
        Path images = SharedData.require("data/mnist/" + Mnist.IMAGES_FILE);
        SharedData.require("data/mnist/" + Mnist.LABELS_FILE);
        mnist = Mnist.load(images.getParent());
    }

    @Test
    void countsShapesAndRange() {
        assertArrayEquals(new long[] {10_000, 1, 28, 28}, mnist.images().shape());
        assertEquals(DType.F32, mnist.images().dtype());
        assertArrayEquals(new long[] {10_000}, mnist.labels().shape());
        float[] px = mnist.images().data().toFloatArray();
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        double sum = 0;
        for (float v : px) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
        }
        assertEquals(0f, min);
        assertEquals(1f, max);
        double mean = sum / px.length;
        assertTrue(mean > 0.10 && mean < 0.16, "mean pixel " + mean + " (MNIST's is about 0.13)");
    }

    @Test
    void everyDigitIsPresentInPlausibleNumbers() {
        long[] labels = mnist.labels().data().toLongArray();
        int[] histogram = new int[10];
        for (long l : labels) histogram[(int) l]++;
        for (int d = 0; d < 10; d++) {
            assertTrue(histogram[d] > 800 && histogram[d] < 1300, "digit " + d + " appears " + histogram[d] + " times");
        }
    }

    @Test
    void fixedTrainEvalSplit() {
        TensorDataset train = mnist.train(), eval = mnist.eval();
        assertEquals(8000, train.size());
        assertEquals(2000, eval.size());
        long[] labels = mnist.labels().data().toLongArray();
        assertEquals(labels[0], train.get(0)[1].data().getLong());
        assertEquals(labels[7999], train.get(7999)[1].data().getLong());
        assertEquals(labels[8000], eval.get(0)[1].data().getLong());
        assertEquals(labels[9999], eval.get(1999)[1].data().getLong());
        Tensor image = eval.get(5)[0];
        assertArrayEquals(new long[] {1, 28, 28}, image.shape());
        float[] all = mnist.images().data().toFloatArray();
        float[] one = image.data().toFloatArray();
        for (int i = 0; i < 784; i++) assertEquals(all[8005 * 784 + i], one[i]);
    }
}
