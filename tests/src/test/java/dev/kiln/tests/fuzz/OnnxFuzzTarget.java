package dev.kiln.tests.fuzz;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.ImportedModel;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.ir.KilnException;
import dev.kiln.onnx.OnnxImporter;
import dev.kiln.onnx.OnnxTensors;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.runtime.NDArray;
import dev.kiln.tracer.Weights;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * ONNX models: seeded from the sample models exported by Kiln and every {@code model.onnx} of
 * {@code ../shared/onnx/backend-tests}; mutated structurally (any ModelProto field, names and op types from the
 * corpus) or byte-wise; imported with {@link OnnxImporter#load} from a file beside a small decoy data file (so
 * mutated external data references have something to find) and run as generated code, on the backend case's own
 * input data where an input's name, dtype and shape match one (test_data_set_0), on made-up inputs otherwise.
 */
final class OnnxFuzzTarget implements FuzzTarget {

    private final List<byte[]> seeds = new ArrayList<>();
    private final AtomicLong notRun = new AtomicLong();
    private final List<ModelProto> parsed = new ArrayList<>();
    private final List<String> words;
    private final Map<String, NDArray> knownInputs = new HashMap<>();
    /** Backend input files that failed to read with something other than a Kiln error (reported by the campaign). */
    final List<String> unreadableInputs = new ArrayList<>();

    /** @param backendTests the backend-tests folder, or null for the sample models only */
    OnnxFuzzTarget(Path backendTests) {
        for (SampleGraphs.Sample s : SampleGraphs.all()) {
            add(OnnxExporter.export(s.graph(), Weights.asBuffers(s.weights()), ExportOptions.defaults()).toByteArray());
        }
        if (backendTests != null && Files.isDirectory(backendTests)) {
            try (Stream<Path> files = Files.walk(backendTests)) {
                for (Path p : files.filter(f -> f.getFileName().toString().equals("model.onnx")).sorted().toList()) {
                    add(Files.readAllBytes(p));
                    addTestInputs(parsed.getLast(), p.resolveSibling("test_data_set_0"));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the ONNX seeds under " + backendTests + ": " + e, e);
            }
        }
        Set<String> w = new LinkedHashSet<>();
        for (ModelProto m : parsed) Mutations.collectStrings(m, w, 20_000);
        words = List.copyOf(w);
    }

    /** The backend case's inputs, keyed by graph input name, dtype and shape, for cases whose inputs match. */
    private void addTestInputs(ModelProto m, Path dataSet) {
        Set<String> initializers = new java.util.HashSet<>();
        m.getGraph().getInitializerList().forEach(t -> initializers.add(t.getName()));
        List<String> names = m.getGraph().getInputList().stream().map(v -> v.getName()).filter(n -> !initializers.contains(n)).toList();
        for (int k = 0; k < names.size(); k++) {
            Path pb = dataSet.resolve("input_" + k + ".pb");
            if (!Files.isRegularFile(pb)) continue;
            try {
                NDArray a = OnnxTensors.read(pb);
                knownInputs.putIfAbsent(SampleGraphs.key(names.get(k), a.dtype(), a.shape()), a);
            } catch (KilnException unsupported) {
                // a dtype Kiln does not read (strings, ...): such inputs are made up
            } catch (RuntimeException bug) {
                // not the fuzz run's business (the conformance tests read these files); such inputs are made up
                unreadableInputs.add(pb + ": " + bug);
            }
        }
    }

    private void add(byte[] bytes) {
        try {
            parsed.add(ModelProto.parseFrom(bytes));
            seeds.add(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("a seed model does not parse: " + e, e);
        }
    }

    @Override public String name() { return "onnx"; }

    @Override public String extension() { return "onnx"; }

    @Override public List<byte[]> seeds() { return seeds; }

    @Override public long notRun() { return notRun.get(); }

    @Override
    public byte[] mutate(byte[] seed, byte[] other, SplittableRandom r) {
        int kind = r.nextInt(10);
        if (kind < 7) {
            ModelProto m = parsed.get(indexOf(seed));
            byte[] out = Mutations.proto(m, words, r).toByteArray();
            return kind == 6 ? Mutations.bytes(out, other, r) : out;
        }
        return Mutations.bytes(seed, other, r);
    }

    private int indexOf(byte[] seed) {
        for (int i = 0; i < seeds.size(); i++) if (seeds.get(i) == seed) return i;
        throw new IllegalArgumentException("not a seed of this corpus");
    }

    @Override
    public void execute(byte[] input, Path work) throws Exception {
        Path file = work.resolve("model.onnx");
        Files.write(file, input);
        Path decoy = work.resolve("data.bin");
        if (!Files.exists(decoy)) Files.write(decoy, new byte[4096]);
        ImportedModel m = OnnxImporter.load(file);
        List<NDArray> inputs = SampleGraphs.inputs(m.info().inputNames(), SampleGraphs.inputTypes(m.graph()), knownInputs,
                Arrays.hashCode(input));
        if (inputs == null) {
            notRun.incrementAndGet();
            return;
        }
        for (NDArray out : m.run(inputs)) out.numel();
    }
}
