package dev.kiln.tests;

import dev.kiln.ir.testing.SharedData;
import dev.kiln.samples.MnistTraining;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** LeNet trained on a smaller budget than the sample's still clears 90% on the 2,000 held-out digits. */
class MnistTrainingTest {

    @Test
    void lenetReachesNinetyPercentOnASmallBudget() throws Exception {
        Path data = SharedData.require("data/mnist/t10k-images-idx3-ubyte.gz").getParent();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        MnistTraining.Result r = MnistTraining.train(new MnistTraining.Config(data, 2, 64, 2e-3, 42, null, 8000), new PrintStream(log));
        assertTrue(r.accuracy() >= 0.90, "accuracy " + r.accuracy() + "\n" + log);
        assertTrue(log.toString().contains("img/s"), "progress output: " + log);
    }
}
