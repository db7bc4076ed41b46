package dev.kiln.onnx;

import java.util.List;
import java.util.Objects;

/**
 * How {@link OnnxExporter} writes a model: the ONNX opset (which also fixes the IR version), the
 * names of the graph inputs and outputs, and the model's producer, doc string and graph name.
 *
 * <p>An empty {@code inputNames} keeps the graph's own input names (a repeated or missing one gets
 * a numbered name); an empty {@code outputNames} gives {@code output}, {@code output_1}, ..., skipping
 * names already in use. Names given here are used exactly, and a clash is an error. A null
 * {@code graphName} uses the Kiln graph's name.
 *
 * @param opset        default-domain opset version, {@value #MIN_OPSET} to {@value #MAX_OPSET}
 * @param inputNames   ONNX names of the graph inputs, in order, or empty for the graph's names
 * @param outputNames  ONNX names of the graph outputs, in order, or empty for the defaults
 * @param producerName written to {@code ModelProto.producer_name}
 * @param producerVersion written to {@code ModelProto.producer_version}
 * @param docString    written to the model and graph doc strings (empty writes none)
 * @param graphName    name of the ONNX graph, or null for the Kiln graph's name
 * @param modelVersion written to {@code ModelProto.model_version}
 */
public record ExportOptions(int opset, List<String> inputNames, List<String> outputNames, String producerName,
                            String producerVersion, String docString, String graphName, long modelVersion) {

    /** Oldest opset exported: Softmax/LogSoftmax semantics and ReduceSum's axes input date from 13. */
    public static final int MIN_OPSET = 13;
    /** Newest opset exported (the newest the ONNX 1.17 checker and ONNX Runtime 1.22 both know). */
    public static final int MAX_OPSET = 22;
    public static final int DEFAULT_OPSET = 17;

    public ExportOptions {
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new IllegalArgumentException("ONNX opset " + opset + " is not supported; choose one from "
                    + MIN_OPSET + " to " + MAX_OPSET + " (default " + DEFAULT_OPSET + ")");
        }
        inputNames = List.copyOf(inputNames);
        outputNames = List.copyOf(outputNames);
        for (String n : inputNames) requireName("input", n);
        for (String n : outputNames) requireName("output", n);
        Objects.requireNonNull(producerName, "producerName");
        Objects.requireNonNull(producerVersion, "producerVersion");
        Objects.requireNonNull(docString, "docString");
    }

    private static void requireName(String what, String n) {
        if (n == null || n.isEmpty()) throw new IllegalArgumentException(what + " names must be non-empty strings");
    }

    /** Opset {@value #DEFAULT_OPSET}, the graph's input names, outputs {@code output, output_1, ...}. */
    public static ExportOptions defaults() { return builder().build(); }

    public static Builder builder() { return new Builder(); }

    /** These options with another opset. */
    public ExportOptions withOpset(int newOpset) { return toBuilder().opset(newOpset).build(); }

    public Builder toBuilder() {
        return new Builder().opset(opset).inputNames(inputNames).outputNames(outputNames).producerName(producerName)
                .producerVersion(producerVersion).docString(docString).graphName(graphName).modelVersion(modelVersion);
    }

    /** The ONNX IR version that goes with the opset (the one the ONNX release introducing it wrote). */
    public long irVersion() {
        if (opset <= 14) return 7;
        if (opset <= 18) return 8;
        if (opset <= 20) return 9;
        return 10;
    }

    /** Builds {@link ExportOptions}; every setting has a default. */
    public static final class Builder {
        private int opset = DEFAULT_OPSET;
        private List<String> inputNames = List.of();
        private List<String> outputNames = List.of();
        private String producerName = "kiln";
        private String producerVersion = KilnVersion.get();
        private String docString = "";
        private String graphName;
        private long modelVersion;

        private Builder() {}

        public Builder opset(int v) { opset = v; return this; }

        public Builder inputNames(List<String> v) { inputNames = v; return this; }

        public Builder inputNames(String... v) { return inputNames(List.of(v)); }

        public Builder outputNames(List<String> v) { outputNames = v; return this; }

        public Builder outputNames(String... v) { return outputNames(List.of(v)); }

        public Builder producerName(String v) { producerName = v; return this; }

        public Builder producerVersion(String v) { producerVersion = v; return this; }

        public Builder docString(String v) { docString = v; return this; }

        public Builder graphName(String v) { graphName = v; return this; }

        public Builder modelVersion(long v) { modelVersion = v; return this; }

        public ExportOptions build() {
            return new ExportOptions(opset, inputNames, outputNames, producerName, producerVersion, docString,
                    graphName, modelVersion);
        }
    }
}
