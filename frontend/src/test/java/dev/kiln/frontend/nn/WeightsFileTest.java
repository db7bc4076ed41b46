package dev.kiln.frontend.nn;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.io.SafeTensors;
import dev.kiln.frontend.io.SafeTensorsFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Module weights through safetensors files: a round trip is exact, and every broken file is reported. */
class WeightsFileTest {

    @TempDir
    Path dir;

    private static Module model() {
        return new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new ReLU(), new Flatten(), new Linear(2 * 4 * 4, 3));
    }

    @Test
    void saveThenLoadGivesIdenticalOutputs() throws Exception {
        Generator.manualSeed(1);
        Module a = model();
        a.forward(Tensor.randn(new Generator(2), 4, 1, 6, 6));   // moves BatchNorm's running statistics
        a.eval();
        Path file = dir.resolve("w.safetensors");
        a.saveWeights(file);
        Generator.manualSeed(99);
        Module b = model();
        b.eval();
        b.loadWeights(file);
        Tensor x = Tensor.randn(new Generator(3), 2, 1, 6, 6);
        assertArrayEquals(a.forward(x).toFloatArray(), b.forward(x).toFloatArray());
    }

    @Test
    void wrongShapeOrMissingKeyNamesTheKey() throws Exception {
        Generator.manualSeed(1);
        Module a = model();
        Path file = dir.resolve("bad.safetensors");
        Map<String, Tensor> state = new java.util.LinkedHashMap<>(a.stateDict());
        state.put("4.weight", Tensor.zeros(3, 5));
        state.remove("1.running_var");
        SafeTensors.save(state, file);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model().loadWeights(file));
        assertTrue(e.getMessage().contains("key '4.weight': expected f32[3, 32], got f32[3, 5]"), e.getMessage());
        assertTrue(e.getMessage().contains("missing key '1.running_var'"), e.getMessage());
    }

    @Test
    void truncatedFileAndBadHeaderAreReported() throws Exception {
        Generator.manualSeed(1);
        Path file = dir.resolve("w.safetensors");
        model().saveWeights(file);
        byte[] bytes = Files.readAllBytes(file);
        Path truncated = dir.resolve("truncated.safetensors");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 10));
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> model().loadWeights(truncated));
        assertTrue(e.getMessage().toLowerCase().contains("truncated") || e.getMessage().contains("bytes"), e.getMessage());
        Path badHeader = dir.resolve("header.safetensors");
        byte[] broken = bytes.clone();
        broken[8] = 'x';   // the JSON header starts at byte 8
        Files.write(badHeader, broken);
        e = assertThrows(SafeTensorsFormatException.class, () -> model().loadWeights(badHeader));
        assertTrue(e.getMessage().toLowerCase().contains("json") || e.getMessage().contains("header"), e.getMessage());
    }
}
