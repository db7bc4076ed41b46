package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Properties of the location rules and of the writer's layout, over random locations and models. */
class ExternalDataPropertiesTest {

    /** Every location the rules accept stays strictly inside the directory; every escaping form is refused. */
    @Property(tries = 2000)
    void acceptedLocationsNeverLeaveTheDirectory(@ForAll("locations") String location) {
        String problem = ExternalData.locationProblem(location);
        if (problem == null) {
            Path base = Path.of("/models/m");
            Path resolved = base.resolve(location).normalize();
            assertTrue(resolved.startsWith(base) && !resolved.equals(base), location + " resolves to " + resolved);
        }
        boolean escaping = location.isEmpty() || location.startsWith("/") || location.contains("\\") || location.contains(":")
                || location.contains("\0") || List.of(location.split("/", -1)).contains("..");
        if (escaping) assertNotNull(problem, "accepted " + location.replace("\0", "\\0"));
    }

    @Provide
    Arbitrary<String> locations() {
        Arbitrary<String> pieces = Arbitraries.of("a", "b.bin", ".", "..", "/", "\\", ":", "\0", "C:", "//", "...");
        return pieces.list().ofMaxSize(6).map(l -> String.join("", l));
    }

    /**
     * Saving with {@code always(threshold)} moves exactly the raw tensors of at least the threshold
     * (and at least a byte), at aligned, non-overlapping ranges inside the data file, and reading them
     * back restores the model.
     */
    @Property(tries = 25)
    void savedLayoutIsAlignedDisjointAndRoundTrips(@ForAll @Size(max = 6) List<@IntRange(max = 5000) Integer> sizes,
                                                   @ForAll @IntRange(max = 3000) int threshold,
                                                   @ForAll("alignments") int alignment) throws IOException {
        GraphProto.Builder g = GraphProto.newBuilder().setName("g");
        for (int i = 0; i < sizes.size(); i++) {
            g.addInitializer(TensorProto.newBuilder().setName("t" + i).setDataType(TensorProto.DataType.UINT8_VALUE)
                    .addDims(sizes.get(i)).setRawData(ByteString.copyFrom(ExternalDataTest.bytes(sizes.get(i), i))));
        }
        ModelProto m = ModelProto.newBuilder().setIrVersion(8).setGraph(g).build();
        Path dir = Files.createTempDirectory("kiln-external");
        try {
            Path file = dir.resolve("m.onnx");
            OnnxFiles.save(m, file, ExternalDataOptions.always(threshold).withAlignment(alignment));
            ModelProto saved = OnnxFiles.load(file);
            Path data = dir.resolve("m.onnx.data");
            long end = 0;
            for (int i = 0; i < sizes.size(); i++) {
                TensorProto t = saved.getGraph().getInitializer(i);
                boolean moved = sizes.get(i) >= Math.max(1, threshold);
                assertEquals(moved, ExternalData.isExternal(t), "tensor of " + sizes.get(i) + " bytes, threshold " + threshold);
                if (!moved) continue;
                long offset = Long.parseLong(t.getExternalData(1).getValue());
                assertEquals(0, offset % alignment, "offset " + offset);
                assertTrue(offset >= end, "ranges overlap");
                end = offset + Long.parseLong(t.getExternalData(2).getValue());
            }
            assertEquals(end, Files.exists(data) ? Files.size(data) : 0, "the data file ends with the last tensor");
            assertEquals(m, OnnxFiles.inlineExternalData(saved, dir));
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }

    @Provide
    Arbitrary<Integer> alignments() { return Arbitraries.of(1, 2, 64, 4096); }
}
