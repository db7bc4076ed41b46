package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.io.SafeTensors;
import dev.kiln.frontend.io.SafeTensorsFormatException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An {@link OptimizerState} as a safetensors file. Tensors: {@code state.<i>.<buffer>}. Metadata:
 * {@code kiln.optimizer} (name), {@code kiln.optimizer.format} ({@value #FORMAT}), {@code param_count},
 * {@code param.<i>.shape} (comma-separated), {@code state.<i>.step}, and {@code hp.<name>} per hyper-parameter
 * (Java's exact, round-tripping decimal form).
 */
final class OptimizerStateFile {

    static final String FORMAT = "1";
    private static final String NAME = "kiln.optimizer", VERSION = "kiln.optimizer.format", COUNT = "param_count";

    private OptimizerStateFile() {}

    static void save(OptimizerState s, Path file) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(NAME, s.optimizer());
        meta.put(VERSION, FORMAT);
        meta.put(COUNT, Integer.toString(s.params().size()));
        s.hyperParameters().forEach((k, v) -> meta.put("hp." + k, Double.toString(v)));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < s.params().size(); i++) {
            OptimizerState.ParamState p = s.params().get(i);
            StringBuilder shape = new StringBuilder();
            for (long d : p.shape()) shape.append(shape.isEmpty() ? "" : ",").append(d);
            meta.put("param." + i + ".shape", shape.toString());
            meta.put("state." + i + ".step", Long.toString(p.step()));
            for (Map.Entry<String, Tensor> b : p.buffers().entrySet()) tensors.put("state." + i + "." + b.getKey(), b.getValue());
        }
        SafeTensors.save(tensors, meta, file);
    }

    static OptimizerState load(Path file) throws IOException {
        SafeTensors.Loaded l = SafeTensors.load(file);
        Map<String, String> meta = l.metadata();
        String where = file + ": ";
        String name = meta.get(NAME);
        if (name == null) throw new SafeTensorsFormatException(where + "not an optimizer state file (no '" + NAME + "' metadata)");
        if (!FORMAT.equals(meta.get(VERSION))) {
            throw new SafeTensorsFormatException(where + "unsupported optimizer state format '" + meta.get(VERSION)
                    + "' (this version reads " + FORMAT + ")");
        }
        int count = (int) parseLong(meta, COUNT, where, Integer.MAX_VALUE);
        if (count > meta.size()) { // every parameter has metadata entries, so this bounds the count by the file
            throw new SafeTensorsFormatException(where + "metadata '" + COUNT + "' is " + count + " but the file describes"
                    + " fewer parameters");
        }
        Map<String, Double> hp = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : meta.entrySet()) {
            if (!e.getKey().startsWith("hp.")) continue;
            try {
                hp.put(e.getKey().substring(3), Double.parseDouble(e.getValue()));
            } catch (NumberFormatException bad) {
                throw new SafeTensorsFormatException(where + "metadata '" + e.getKey() + "' is not a number: '" + e.getValue() + "'");
            }
        }
        List<Map<String, Tensor>> buffers = new ArrayList<>();
        for (int i = 0; i < count; i++) buffers.add(new LinkedHashMap<>());
        for (Map.Entry<String, Tensor> e : l.tensors().entrySet()) {
            String key = e.getKey();
            int dot = key.indexOf('.', "state.".length());
            int index = -1;
            if (key.startsWith("state.") && dot > 0) {
                try {
                    index = Integer.parseInt(key.substring("state.".length(), dot));
                } catch (NumberFormatException ignored) {
                    // reported below
                }
            }
            if (index < 0 || index >= count || dot == key.length() - 1) {
                throw new SafeTensorsFormatException(where + "unexpected tensor '" + key + "' (expected state.<i>.<buffer>"
                        + " with i below " + count + ")");
            }
            buffers.get(index).put(key.substring(dot + 1), e.getValue());
        }
        List<OptimizerState.ParamState> params = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long step = parseLong(meta, "state." + i + ".step", where, Long.MAX_VALUE);
            params.add(new OptimizerState.ParamState(parseShape(meta, "param." + i + ".shape", where), step, buffers.get(i)));
        }
        return new OptimizerState(name, hp, params);
    }

    private static long parseLong(Map<String, String> meta, String key, String where, long max)
            throws SafeTensorsFormatException {
        String v = meta.get(key);
        if (v == null) throw new SafeTensorsFormatException(where + "missing metadata '" + key + "'");
        try {
            long n = Long.parseLong(v);
            if (n >= 0 && n <= max) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new SafeTensorsFormatException(where + "metadata '" + key + "' must be a non-negative integer, got '" + v + "'");
    }

    private static long[] parseShape(Map<String, String> meta, String key, String where) throws SafeTensorsFormatException {
        String v = meta.get(key);
        if (v == null) throw new SafeTensorsFormatException(where + "missing metadata '" + key + "'");
        if (v.isEmpty()) return new long[0];
        String[] parts = v.split(",", -1);
        long[] shape = new long[parts.length];
        for (int d = 0; d < parts.length; d++) {
            try {
                shape[d] = Long.parseLong(parts[d]);
            } catch (NumberFormatException e) {
                shape[d] = -1;
            }
            if (shape[d] < 0) {
                throw new SafeTensorsFormatException(where + "metadata '" + key + "' is not a shape: '" + v + "'");
            }
        }
        return shape;
    }
}
