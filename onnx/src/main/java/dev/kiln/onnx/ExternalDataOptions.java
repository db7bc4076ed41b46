package dev.kiln.onnx;

import java.util.Objects;

/**
 * How {@link OnnxFiles#save} writes a model: whether large tensors go to an external data file, which
 * ones, the data file's name, the alignment of their offsets, and whether existing files may be replaced.
 *
 * <p>Protobuf cannot serialize a message of 2 GiB or more, so models with more weights than that must
 * keep them in an external file. With {@link Mode#AUTO} (the default) that happens only when needed.
 *
 * @param mode          when tensors go external
 * @param sizeThreshold when tensors go external, those whose raw data has at least this many bytes do
 *                      (default {@value #DEFAULT_SIZE_THRESHOLD}, as in ONNX's own tools); smaller ones
 *                      and empty ones stay in the model
 * @param location      the data file's name, in the model's directory: a plain file name (no
 *                      separators, no {@code ..}), or null for the model's file name plus {@code .data}
 * @param alignment     each tensor starts at a multiple of this many bytes in the data file (a power of
 *                      two up to 1 MiB; default {@value #DEFAULT_ALIGNMENT}, a page, so tensors map
 *                      cleanly)
 * @param overwrite     whether an existing model or data file may be replaced (default false); a
 *                      symbolic link is never written through or replaced, whatever this says
 */
public record ExternalDataOptions(Mode mode, long sizeThreshold, String location, int alignment, boolean overwrite) {

    /** When tensors are moved to the external data file. */
    public enum Mode {
        /** Only if the model would otherwise reach protobuf's 2 GiB limit. */
        AUTO,
        /** Always (every tensor of at least {@code sizeThreshold} bytes). */
        ALWAYS,
        /** Never; saving a model over the limit is an error. */
        NEVER
    }

    public static final long DEFAULT_SIZE_THRESHOLD = 1024;
    public static final int DEFAULT_ALIGNMENT = 4096;
    private static final int MAX_ALIGNMENT = 1 << 20;

    public ExternalDataOptions {
        Objects.requireNonNull(mode, "mode");
        if (sizeThreshold < 0) throw new IllegalArgumentException("sizeThreshold must be >= 0, got " + sizeThreshold);
        if (location != null) checkFileName(location, "external data location");
        if (alignment < 1 || alignment > MAX_ALIGNMENT || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two from 1 to " + MAX_ALIGNMENT + ", got " + alignment);
        }
    }

    /** {@link Mode#AUTO}, threshold {@value #DEFAULT_SIZE_THRESHOLD} bytes, {@code <model>.data}, 4 KiB alignment, no overwrite. */
    public static ExternalDataOptions defaults() {
        return new ExternalDataOptions(Mode.AUTO, DEFAULT_SIZE_THRESHOLD, null, DEFAULT_ALIGNMENT, false);
    }

    /** Defaults, but every tensor of at least {@code sizeThreshold} bytes always goes external. */
    public static ExternalDataOptions always(long sizeThreshold) {
        return defaults().withMode(Mode.ALWAYS).withSizeThreshold(sizeThreshold);
    }

    /** Defaults, but everything stays in the model file (over 2 GiB is an error). */
    public static ExternalDataOptions never() { return defaults().withMode(Mode.NEVER); }

    public ExternalDataOptions withMode(Mode m) { return new ExternalDataOptions(m, sizeThreshold, location, alignment, overwrite); }

    public ExternalDataOptions withSizeThreshold(long bytes) { return new ExternalDataOptions(mode, bytes, location, alignment, overwrite); }

    /** These options with the data file named {@code fileName} (a plain file name in the model's directory). */
    public ExternalDataOptions withLocation(String fileName) { return new ExternalDataOptions(mode, sizeThreshold, fileName, alignment, overwrite); }

    public ExternalDataOptions withAlignment(int bytes) { return new ExternalDataOptions(mode, sizeThreshold, location, bytes, overwrite); }

    public ExternalDataOptions withOverwrite(boolean allow) { return new ExternalDataOptions(mode, sizeThreshold, location, alignment, allow); }

    /** The data file's name for a model saved as {@code modelFileName}. */
    String locationFor(String modelFileName) {
        String name = location != null ? location : modelFileName + ".data";
        checkFileName(name, "external data location");
        if (name.equals(modelFileName)) {
            throw new IllegalArgumentException("external data location '" + name + "' is the model file's own name; choose another");
        }
        return name;
    }

    /** A plain file name: the reader's location rules, one segment, not {@code .}. */
    static void checkFileName(String name, String what) {
        String problem = ExternalData.locationProblem(name);
        if (problem == null && (name.contains("/") || name.equals("."))) problem = "it must be a plain file name, without directories";
        if (problem != null) throw new IllegalArgumentException(what + " '" + name.replace("\0", "\\0") + "' is not allowed: " + problem);
    }
}
