package dev.kiln.samples;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Module;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.samples.models.LeNet;
import dev.kiln.samples.models.Mlp;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the sample models (the 784-512-10 MLP and LeNet-5, seeded weights, batch dim {@code N}
 * dynamic) as {@code mlp.onnx} and {@code lenet.onnx} into a directory (default {@code models}), for
 * trying the {@code kiln} command on.
 */
public final class ExportSamples {

    private ExportSamples() {}

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "models");
        Files.createDirectories(dir);
        export(new Mlp(), Tensor.randn(new Generator(1), 2, 784), "mlp", dir);
        export(new LeNet(), Tensor.randn(new Generator(2), 2, 1, 28, 28), "lenet", dir);
    }

    static void export(Module model, Tensor example, String name, Path dir) {
        model.eval();
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().named(name).dynamic(0, 0, "N"), example);
        Path file = dir.resolve(name + ".onnx");
        OnnxExporter.save(OnnxExporter.export(traced.graph(), traced.weightBuffers(), ExportOptions.defaults()), file);
        System.out.println("wrote " + file);
    }
}
