package dev.kiln.samples;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.OnnxExporter;
import dev.kiln.samples.models.LeNet;
import dev.kiln.tracer.Kiln;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;

import java.nio.file.Path;

/**
 * The main demo: LeNet-5 runs eagerly, is traced to IR with a dynamic batch dim and run by the
 * interpreter and as generated code, then exported to {@code lenet.onnx} and run in ONNX Runtime; each stage is compared
 * with the eager output.
 */
public final class LeNetDemo {

    public static void main(String[] args) throws Exception {
        Path onnxFile = Path.of(args.length > 0 ? args[0] : "lenet.onnx");
        Generator.manualSeed(42);
        LeNet model = new LeNet();
        model.eval();
        System.out.println("== 1. Eager");
        System.out.println(model);
        System.out.println("parameters: " + model.parameterCount());
        Tensor batch = Tensor.randn(new Generator(7), 4, 1, 28, 28);
        Tensor eager = model.forward(batch);
        System.out.println("eager output " + eager);

        System.out.println("\n== 2. Trace (batch dim N dynamic), interpret and run compiled");
        TracedFunction traced = Kiln.trace(model, TraceOptions.defaults().named("lenet").dynamic(0, 0, "N"), batch);
        System.out.println(traced);
        Tensor interpreted = traced.interpret(batch);
        System.out.printf("interpreter vs eager: max |diff| = %.3g%n",
                OrtReference.maxAbsDiff(interpreted.toFloatArray(), eager.toFloatArray()));
        Tensor compiled = traced.call(batch);
        System.out.printf("compiled vs eager: max |diff| = %.3g%n",
                OrtReference.maxAbsDiff(compiled.toFloatArray(), eager.toFloatArray()));
        System.out.println(traced.compiled().explain());

        System.out.println("\n== 3. Export to ONNX and run in ONNX Runtime");
        OnnxExporter.save(OnnxExporter.export(traced.graph(), traced.weightBuffers(), ExportOptions.defaults()), onnxFile);
        System.out.println("wrote " + onnxFile.toAbsolutePath());
        try (OrtReference ort = new OrtReference(onnxFile)) {
            for (long n : new long[] {4, 1, 32}) {
                Tensor input = n == 4 ? batch : Tensor.randn(new Generator(n), n, 1, 28, 28);
                float[] expected = model.forward(input).toFloatArray();
                float[] actual = ort.run(input).get(0);
                System.out.printf("ONNX Runtime vs eager at batch %d: max |diff| = %.3g%n", n, OrtReference.maxAbsDiff(actual, expected));
            }
        }
    }
}
