package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.StringStringEntryProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import dev.kiln.runtime.io.SafeFiles;
import dev.kiln.runtime.io.WriteTargetException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * ONNX model files, with weights in an external data file when the model is too large for one
 * protobuf message (2 GiB) or when asked.
 *
 * <p>Saving goes through {@link SafeFiles}: everything is written to new temporary files in the model's
 * directory and renamed into place at the end (the data file first), so a failure leaves no half-written
 * model. It never follows or replaces a symbolic link, refuses a model directory that is a link, never
 * writes outside the model's directory, and replaces existing files only when
 * {@link ExternalDataOptions#overwrite()} allows. Loading leaves external tensors external; read them
 * with {@link ExternalData#read} or {@link #inlineExternalData}, which check them.
 */
public final class OnnxFiles {

    /** The largest message protobuf can serialize or parse. */
    static final long PROTOBUF_LIMIT = Integer.MAX_VALUE;
    private static final int CHUNK = 1 << 20;

    private OnnxFiles() {}

    /**
     * Writes {@code model} to {@code file}, moving large tensors' raw data into an external data file
     * beside it as {@code options} say (by default only if the model would exceed 2 GiB).
     *
     * @throws OnnxExportException      if a target exists and overwriting is not allowed, is a symbolic
     *                                  link or not a regular file; if the directory does not exist or is
     *                                  a symbolic link; if the model already refers to
     *                                  external data; or if it is too large for the options
     * @throws IllegalArgumentException if the data file name is not a plain file name
     * @throws UncheckedIOException     if writing fails (no partial files are left)
     */
    public static void save(ModelProto model, Path file, ExternalDataOptions options) {
        save(model, file, options, PROTOBUF_LIMIT);
    }

    /** {@link #save(ModelProto, Path, ExternalDataOptions)} with another limit than protobuf's, for tests. */
    static void save(ModelProto model, Path file, ExternalDataOptions options, long limit) {
        Path target = file.toAbsolutePath();
        if (target.getParent() == null || target.getFileName() == null) throw new IllegalArgumentException("cannot save an ONNX model to " + file + ": not a file path");
        String modelName = target.getFileName().toString();
        try (SafeFiles.Batch batch = SafeFiles.batch()) {
            batch.check(target, "model file", options.overwrite());
            rejectExternalTensors(model);
            long size = serializedSize(model);
            boolean external = switch (options.mode()) {
                case ALWAYS -> true;
                case AUTO -> size > limit;
                case NEVER -> false;
            };
            ModelProto out = model;
            if (external) {
                String location = options.locationFor(modelName);
                Path dataFile = target.resolveSibling(location);
                batch.check(dataFile, "external data file", options.overwrite());
                ExternalLayout layout = layOut(model, location, options);
                if (!layout.pieces().isEmpty()) {     // something was large enough to move
                    batch.stage(dataFile, "external data file", options.overwrite(), layout::writeTo);
                    out = layout.model();
                }
                size = serializedSize(out);
            }
            if (size > limit) {
                String advice = external
                        ? ", even with tensors of at least " + options.sizeThreshold() + " bytes in external data; lower the size threshold"
                        : "; save with ExternalDataOptions.defaults() or always(threshold) to move weights to external data";
                throw new OnnxExportException("cannot save ONNX model to " + file + ": it is " + (size > PROTOBUF_LIMIT ? "at least " : "")
                        + size + " bytes, over the " + limit + "-byte protobuf limit" + advice);
            }
            ModelProto bytes = out;
            batch.stage(target, "model file", options.overwrite(), ch -> bytes.writeTo(new ChannelOutput(ch)));
            batch.commit();     // the data file first, so the model never refers to missing data
        } catch (WriteTargetException e) {
            String advice = e.reason() == WriteTargetException.Reason.TARGET_EXISTS
                    ? "; allow replacing it with ExternalDataOptions.withOverwrite(true)" : "";
            throw new OnnxExportException("cannot save ONNX model: " + e.getMessage() + advice, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save ONNX model to " + file + ": " + e, e);
        }
    }

    /**
     * Reads an ONNX model file (up to protobuf's 2 GiB limit). External tensors stay external: pass
     * the file's directory to {@link ExternalData#read} or {@link #inlineExternalData}.
     *
     * @throws OnnxImportException if the file is missing, unreadable, too large or not a valid ModelProto
     */
    public static ModelProto load(Path file) {
        try {
            long size = Files.size(file);
            if (size > PROTOBUF_LIMIT) {
                throw new OnnxImportException("ONNX model file " + file + " is " + size + " bytes; protobuf cannot parse more than "
                        + PROTOBUF_LIMIT + " (models this large keep their weights in external data files)");
            }
            try (InputStream in = Files.newInputStream(file)) {
                CodedInputStream cis = CodedInputStream.newInstance(in, 1 << 16);
                cis.setSizeLimit(Integer.MAX_VALUE);
                return ModelProto.parseFrom(cis);
            }
        } catch (InvalidProtocolBufferException e) {
            throw new OnnxImportException("ONNX model file " + file + " is not a valid ModelProto: " + e.getMessage(), e);
        } catch (NoSuchFileException e) {
            throw new OnnxImportException("ONNX model file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new OnnxImportException("cannot read ONNX model file " + file + ": " + e, e);
        }
    }

    /**
     * {@code model} with every external tensor's data read (through {@link ExternalData#read}, with all
     * its checks) from files under {@code baseDir} and stored as raw data.
     *
     * @throws OnnxImportException if a tensor's external data breaks a rule, or one tensor is too large
     *                             for a protobuf field (2 GiB)
     */
    public static ModelProto inlineExternalData(ModelProto model, Path baseDir) {
        return ModelTensors.map(model, t -> {
            if (!ExternalData.isExternal(t)) return t;
            long bytes = ExternalData.byteSize(t);
            if (bytes > PROTOBUF_LIMIT) {
                throw new OnnxImportException("tensor '" + t.getName() + "' has " + bytes + " bytes, too many to hold in a protobuf"
                        + " message; read it with ExternalData.read instead");
            }
            MemorySegment data = ExternalData.read(t, baseDir, bytes);
            return t.toBuilder().clearExternalData().clearDataLocation().setRawData(ByteString.copyFrom(data.asByteBuffer())).build();
        });
    }

    /**
     * The serialized size of {@code m}: exact up to 2 GiB and somewhat beyond; for larger models, where
     * protobuf's own int size overflows, a lower bound (the raw data, counted apart, plus the rest).
     */
    static long serializedSize(ModelProto m) {
        long[] raw = {0};
        ModelProto stripped = ModelTensors.map(m, t -> {
            if (!t.hasRawData()) return t;
            raw[0] += t.getRawData().size();
            return t.toBuilder().clearRawData().build();
        });
        int rest = stripped.getSerializedSize();
        if (rest < 0) return Long.MAX_VALUE;
        long lowerBound = rest + raw[0];
        if (lowerBound > PROTOBUF_LIMIT) return lowerBound;
        // Below 2^31 without the raw fields' tags and length prefixes, so the true size is below 2^32:
        // protobuf's int is exact or has wrapped once.
        int exact = m.getSerializedSize();
        return exact >= 0 ? exact : exact + (1L << 32);
    }

    /** Where each moved tensor's bytes go in the external data file, and the model referring to them. */
    private record ExternalLayout(ModelProto model, List<ByteString> pieces, List<Long> offsets) {
        void writeTo(FileChannel ch) throws IOException {
            for (int i = 0; i < pieces.size(); i++) writeFully(ch, pieces.get(i).asReadOnlyByteBuffer(), offsets.get(i));
        }
    }

    /** Lays out every large enough raw-data tensor in a data file named {@code location} (nothing is written yet). */
    private static ExternalLayout layOut(ModelProto model, String location, ExternalDataOptions options) {
        long threshold = Math.max(1, options.sizeThreshold());
        long[] end = {0};
        List<ByteString> pieces = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        ModelProto out = ModelTensors.map(model, t -> {
            if (!t.hasRawData() || t.getRawData().size() < threshold) return t;
            long offset = Math.ceilDiv(end[0], options.alignment()) * options.alignment();
            long length = t.getRawData().size();
            pieces.add(t.getRawData());
            offsets.add(offset);
            end[0] = offset + length;
            return t.toBuilder().clearRawData().clearExternalData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(entry("location", location))
                    .addExternalData(entry("offset", Long.toString(offset)))
                    .addExternalData(entry("length", Long.toString(length))).build();
        });
        return new ExternalLayout(out, pieces, offsets);
    }

    /**
     * Writes {@code data} at {@code pos} in pieces of at most {@value #CHUNK} bytes, so that heap data
     * never makes the JDK allocate (and cache) a temporary direct buffer as large as a whole tensor.
     */
    private static void writeFully(FileChannel ch, ByteBuffer data, long pos) throws IOException {
        while (data.hasRemaining()) {
            ByteBuffer part = data.slice(data.position(), Math.min(CHUNK, data.remaining()));
            while (part.hasRemaining()) pos += ch.write(part, pos);
            data.position(data.position() + part.position());
        }
    }

    /** The model's bytes, appended to a channel through {@link #writeFully}. */
    private static final class ChannelOutput extends OutputStream {
        private final FileChannel ch;
        private long pos;

        ChannelOutput(FileChannel ch) { this.ch = ch; }

        @Override
        public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            writeFully(ch, ByteBuffer.wrap(b, off, len), pos);
            pos += len;
        }
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** A model whose tensors already point to external data would point to the wrong files once saved elsewhere. */
    private static void rejectExternalTensors(ModelProto model) {
        ModelTensors.map(model, t -> {
            if (ExternalData.isExternal(t)) {
                throw new OnnxExportException("tensor '" + t.getName() + "' refers to external data that is not in memory;"
                        + " inline it first with OnnxFiles.inlineExternalData(model, modelDirectory)");
            }
            return t;
        });
    }
}
