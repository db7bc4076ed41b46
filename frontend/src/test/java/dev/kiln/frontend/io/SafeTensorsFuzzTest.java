package dev.kiln.frontend.io;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Properties: random tensors round-trip; damaged files either load or fail with a format error, nothing else. */
class SafeTensorsFuzzTest {

    @Property(tries = 40)
    void randomTensorsRoundTrip(@ForAll @Size(min = 0, max = 4) List<@IntRange(min = 0, max = 5) Integer> dims,
                                @ForAll @IntRange(min = 0, max = 12) int dtypeIndex,
                                @ForAll long seed) throws IOException {
        DType dtype = DType.values()[dtypeIndex];
        long[] shape = dims.stream().mapToLong(Integer::longValue).toArray();
        NDArray a = NDArray.zeros(dtype, shape);
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (long i = 0; i < a.numel(); i++) a.setFlat(i, dtype.isFloatingPoint() ? r.nextInt(-64, 64) / 4.0 : r.nextInt(0, 100));
        Path f = Files.createTempFile("fuzz", ".safetensors");
        try {
            SafeTensors.save(Map.of("t", Tensor.wrap(a)), Map.of("seed", Long.toString(seed)), f);
            SafeTensors.Loaded l = SafeTensors.load(f);
            NDArray b = l.tensors().get("t").data();
            assertEquals(dtype, b.dtype());
            assertArrayEquals(shape, b.shape());
            assertArrayEquals(a.toDoubleArray(), b.toDoubleArray());
            assertEquals(Long.toString(seed), l.metadata().get("seed"));
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Property(tries = 200)
    void damagedFilesFailCleanly(@ForAll @IntRange(min = 0, max = 400) int position,
                                 @ForAll byte value,
                                 @ForAll @IntRange(min = 0, max = 2) int mode) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("fc1.weight", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        t.put("fc1.bias", Tensor.of(new long[] {7, 8}));
        Path f = Files.createTempFile("damaged", ".safetensors");
        try {
            SafeTensors.save(t, Map.of("k", "v"), f);
            byte[] bytes = Files.readAllBytes(f);
            int at = position % bytes.length;
            byte[] damaged = switch (mode) {
                case 0 -> { // overwrite one byte
                    byte[] c = bytes.clone();
                    c[at] = value;
                    yield c;
                }
                case 1 -> java.util.Arrays.copyOf(bytes, at); // truncate
                default -> { // insert one byte
                    byte[] c = new byte[bytes.length + 1];
                    System.arraycopy(bytes, 0, c, 0, at);
                    c[at] = value;
                    System.arraycopy(bytes, at, c, at + 1, bytes.length - at);
                    yield c;
                }
            };
            Files.write(f, damaged);
            try {
                SafeTensors.load(f);
            } catch (SafeTensorsFormatException expected) {
                // a clean, explained failure
            } catch (Exception other) {
                fail("damaged file gave " + other + " instead of a SafeTensorsFormatException", other);
            }
        } finally {
            Files.deleteIfExists(f);
        }
    }
}
