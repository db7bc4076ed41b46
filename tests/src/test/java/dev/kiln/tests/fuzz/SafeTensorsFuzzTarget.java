package dev.kiln.tests.fuzz;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.io.SafeTensors;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.optim.Adam;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * safetensors files, seeded from files Kiln writes (a weights map of every dtype, {@code Module.saveWeights},
 * {@code Optimizer.save}, an empty file with metadata); mutated structurally in the JSON header (a number, a
 * dtype, a key or a whole entry changed, with the length prefix kept right or broken on purpose) or byte-wise;
 * loaded with {@link SafeTensors#load} and run: every tensor is summed through Kiln's tensor ops.
 */
final class SafeTensorsFuzzTarget implements FuzzTarget {

    private static final Pattern NUMBER = Pattern.compile("-?\\d+");
    private static final String[] DTYPES = {"F32", "F64", "F16", "BF16", "I8", "U8", "I16", "I32", "I64", "BOOL", "U16", "U32", "U64",
            "F8_E4M3", "F8_E5M2", "I4", "X", ""};

    private final List<byte[]> seeds = new ArrayList<>();

    SafeTensorsFuzzTarget() {
        try {
            Path dir = Files.createTempDirectory("kiln-fuzz-seeds");
            Map<String, Tensor> all = new LinkedHashMap<>();
            int i = 0;
            for (DType d : DType.values()) {
                NDArray a = NDArray.zeros(d, 2, i % 3 + 1);
                for (long k = 0; k < a.numel(); k++) a.setFlat(k, (k + i) % 3);
                Map<String, Tensor> one = Map.of("t" + i++ + "." + d.irName(), Tensor.wrap(a));
                try {
                    SafeTensors.save(one, dir.resolve("probe.safetensors"));     // the dtypes safetensors can store
                    all.putAll(one);
                } catch (IllegalArgumentException notStorable) {
                    // skipped: the format has no code for this dtype
                }
            }
            seed(dir, "all", f -> SafeTensors.save(all, Map.of("format", "pt"), f));
            seed(dir, "module", f -> new Linear(4, 3).saveWeights(f));
            Linear layer = new Linear(3, 2);
            Adam adam = new Adam(layer.parameters(), 0.1);
            layer.forward(Tensor.of(new float[] {1, 2, 3}, 1, 3)).sum().backward();
            adam.step();
            seed(dir, "adam", adam::save);
            seed(dir, "empty", f -> SafeTensors.save(Map.of(), Map.of("note", "no tensors"), f));
            seed(dir, "scalar", f -> SafeTensors.save(Map.of("s", Tensor.wrap(NDArray.of(new float[] {5})).reshape()), f));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the safetensors seeds: " + e, e);
        }
    }

    private interface Writer {
        void write(Path file) throws IOException;
    }

    private void seed(Path dir, String name, Writer w) throws IOException {
        Path f = dir.resolve(name + ".safetensors");
        w.write(f);
        seeds.add(Files.readAllBytes(f));
        Files.delete(f);
    }

    @Override public String name() { return "safetensors"; }

    @Override public String extension() { return "safetensors"; }

    @Override public List<byte[]> seeds() { return seeds; }

    @Override
    public byte[] mutate(byte[] seed, byte[] other, SplittableRandom r) {
        if (r.nextInt(10) < 6) {
            byte[] out = mutateHeader(seed, r);
            return r.nextInt(6) == 0 ? Mutations.bytes(out, other, r) : out;
        }
        return Mutations.bytes(seed, other, r);
    }

    /** One to three changes to the JSON header; the length prefix follows the new header unless broken on purpose. */
    private static byte[] mutateHeader(byte[] file, SplittableRandom r) {
        long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(file, 8 + (int) n, file.length);
        int rounds = 1 + r.nextInt(3);
        for (int i = 0; i < rounds; i++) header = mutateJson(header, r);
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        long prefix = h.length;
        if (r.nextInt(8) == 0) prefix = Mutations.interesting(r, prefix);
        if (r.nextInt(8) == 0) data = Arrays.copyOf(data, r.nextInt(data.length + 64));
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(prefix).put(h).put(data);
        return out.array();
    }

    private static String mutateJson(String json, SplittableRandom r) {
        switch (r.nextInt(6)) {
            case 0, 1 -> {      // a number (shape dims, data offsets)
                List<int[]> spans = spans(NUMBER.matcher(json));
                if (spans.isEmpty()) return json;
                int[] s = spans.get(r.nextInt(spans.size()));
                long v = Mutations.interesting(r, parse(json.substring(s[0], s[1])));
                return json.substring(0, s[0]) + v + json.substring(s[1]);
            }
            case 2 -> {         // a dtype
                Matcher m = Pattern.compile("\"dtype\":\"([^\"]*)\"").matcher(json);
                List<int[]> spans = new ArrayList<>();
                while (m.find()) spans.add(new int[] {m.start(1), m.end(1)});
                if (spans.isEmpty()) return json;
                int[] s = spans.get(r.nextInt(spans.size()));
                return json.substring(0, s[0]) + DTYPES[r.nextInt(DTYPES.length)] + json.substring(s[1]);
            }
            case 3 -> {         // duplicate or drop an array element / an entry
                Matcher m = Pattern.compile("\\[[^\\[\\]]*\\]").matcher(json);
                List<int[]> spans = spans(m);
                if (spans.isEmpty()) return json;
                int[] s = spans.get(r.nextInt(spans.size()));
                String inner = json.substring(s[0] + 1, s[1] - 1);
                String changed = r.nextBoolean() ? (inner.isEmpty() ? "1" : inner + "," + inner) : (inner.contains(",") ? inner.substring(inner.indexOf(',') + 1) : "");
                return json.substring(0, s[0] + 1) + changed + json.substring(s[1] - 1);
            }
            case 4 -> {         // structural characters
                String[] tokens = {"{", "}", "[", "]", ",", ":", "\"", "null", "true", "1e999", "-0", "\\u0000", "\"__metadata__\""};
                int at = r.nextInt(json.length() + 1);
                return json.substring(0, at) + tokens[r.nextInt(tokens.length)] + json.substring(at);
            }
            default -> {        // a key renamed to another key (duplicates)
                Matcher m = Pattern.compile("\"([^\"]*)\":").matcher(json);
                List<String> keys = new ArrayList<>();
                List<int[]> spans = new ArrayList<>();
                while (m.find()) {
                    keys.add(m.group(1));
                    spans.add(new int[] {m.start(1), m.end(1)});
                }
                if (spans.isEmpty()) return json;
                int[] s = spans.get(r.nextInt(spans.size()));
                return json.substring(0, s[0]) + keys.get(r.nextInt(keys.size())) + json.substring(s[1]);
            }
        }
    }

    private static List<int[]> spans(Matcher m) {
        List<int[]> out = new ArrayList<>();
        while (m.find()) out.add(new int[] {m.start(), m.end()});
        return out;
    }

    private static long parse(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public void execute(byte[] input, Path work) throws Exception {
        Path file = Files.write(work.resolve("case.safetensors"), input);
        SafeTensors.Loaded loaded = SafeTensors.load(file);
        for (Tensor t : loaded.tensors().values()) {
            if (t.dtype() == DType.BOOL || t.numel() == 0) {
                t.data().toDoubleArray();
            } else {
                t.sum().data().numel();
            }
        }
    }
}
