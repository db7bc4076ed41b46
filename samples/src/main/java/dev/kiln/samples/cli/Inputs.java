package dev.kiln.samples.cli;

import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.runtime.NDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The inputs a command feeds a model: files given with {@code --input NAME=FILE} (.pb TensorProto or
 * .npy), and seeded random tensors for the rest, whose symbolic dims come from {@code --dim NAME=SIZE}
 * (default 1).
 */
final class Inputs {

    private Inputs() {}

    /**
     * A size for every symbolic dim of the graph's inputs: those given with {@code --dim NAME=SIZE},
     * 1 for the rest.
     */
    static Map<String, Long> bindings(String command, Graph graph, Map<String, String> dims) {
        Map<String, Long> bindings = new LinkedHashMap<>();
        dims.forEach((name, size) -> {
            try {
                long v = Long.parseLong(size);
                if (v < 0) throw new NumberFormatException();
                bindings.put(name, v);
            } catch (NumberFormatException e) {
                throw new CliException(command + ": --dim " + name + " needs a non-negative size, got '" + size + "'");
            }
        });
        for (Value input : graph.inputs()) {
            if (input.type() instanceof TensorType t) {
                for (int i = 0; i < t.shape().rank(); i++) {
                    if (t.shape().dim(i) instanceof Dim.Symbolic sym) bindings.putIfAbsent(sym.name(), 1L);
                }
            }
        }
        return bindings;
    }

    static List<NDArray> build(String command, Graph graph, Map<String, String> files, Map<String, Long> bindings, long seed)
            throws IOException {
        List<String> names = graph.inputs().stream().map(Value::name).toList();
        for (String given : files.keySet()) {
            if (!names.contains(given)) throw new CliException(command + ": --input " + given + ": the model has no input of that name; inputs are " + names);
        }
        SplittableRandom random = new SplittableRandom(seed);
        List<NDArray> out = new ArrayList<>();
        for (Value input : graph.inputs()) {
            if (!(input.type() instanceof TensorType type)) {
                throw new CliException(command + ": input " + input.name() + " has non-tensor type " + input.type());
            }
            String file = files.get(input.name());
            out.add(file != null ? load(command, input.name(), Path.of(file), type) : random(type, bindings, random));
        }
        return out;
    }

    private static NDArray load(String command, String name, Path file, TensorType type) throws IOException {
        if (!Files.isRegularFile(file)) throw new CliException(command + ": input file " + file + " does not exist");
        String lower = file.getFileName().toString().toLowerCase();
        NDArray array;
        if (lower.endsWith(".npy")) array = Npy.read(file);
        else if (lower.endsWith(".pb")) array = dev.kiln.onnx.OnnxTensors.read(file);
        else throw new CliException(command + ": input file " + file + " must be .pb (TensorProto) or .npy");
        if (array.dtype() != type.dtype()) {
            throw new CliException(command + ": input " + name + " from " + file + " is " + array.dtype() + ", the model wants " + type);
        }
        return array;
    }

    private static NDArray random(TensorType type, Map<String, Long> bindings, SplittableRandom random) {
        long[] shape = new long[type.shape().rank()];
        for (int i = 0; i < shape.length; i++) {
            Dim d = type.shape().dim(i);
            shape[i] = switch (d) {
                case Dim.Static s -> s.size();
                case Dim.Symbolic s -> bindings.getOrDefault(s.name(), 1L);
                default -> 1L;
            };
        }
        NDArray x = NDArray.zeros(type.dtype(), shape);
        DType dtype = type.dtype();
        for (long i = 0; i < x.numel(); i++) {
            double v = switch (dtype.kind()) {
                case FLOAT -> random.nextDouble(-1, 1);
                case INT -> random.nextInt(0, 10);
                case BOOL -> random.nextBoolean() ? 1 : 0;
            };
            x.setFlat(i, v);
        }
        return x;
    }

    /** One line per output: dtype, shape and min/max/mean plus the first values. */
    static String summary(String name, NDArray x) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("  %s  %s%s", name, x.dtype(), java.util.Arrays.toString(x.shape())));
        long n = x.numel();
        if (n == 0) return sb.append("  (empty)").toString();
        NDArray c = x.contiguous();
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0;
        for (long i = 0; i < n; i++) {
            double v = c.getFlat(i);
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
        }
        sb.append(String.format("  min %.6g  max %.6g  mean %.6g  first [", min, max, sum / n));
        for (long i = 0; i < Math.min(n, 6); i++) sb.append(i > 0 ? ", " : "").append(String.format("%.6g", c.getFlat(i)));
        return sb.append(n > 6 ? ", ...]" : "]").toString();
    }
}
