package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.StringStringEntryProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * ONNX model files, with weights in an external data file when the model is too large for one
 * protobuf message (2 GiB) or when asked.
 *
 * <p>Saving writes everything to new temporary files in the model's directory and renames them into
 * place at the end, so a failure leaves no half-written model. It never follows or replaces a symbolic
 * link, never writes outside the model's directory, and replaces existing files only when
 * {@link ExternalDataOptions#overwrite()} allows. Loading leaves external tensors external; read them
 * with {@link ExternalData#read} or {@link #inlineExternalData}, which check them.
 */
public final class OnnxFiles {

    /** The largest message protobuf can serialize or parse. */
    static final long PROTOBUF_LIMIT = Integer.MAX_VALUE;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int CHUNK = 1 << 20;

    private OnnxFiles() {}

    /**
     * Writes {@code model} to {@code file}, moving large tensors' raw data into an external data file
     * beside it as {@code options} say (by default only if the model would exceed 2 GiB).
     *
     * @throws OnnxExportException      if a target exists and overwriting is not allowed, is a symbolic
     *                                  link or not a regular file; if the model already refers to
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
        Path dir = target.getParent();
        if (dir == null || target.getFileName() == null) throw new IllegalArgumentException("cannot save an ONNX model to " + file + ": not a file path");
        String modelName = target.getFileName().toString();
        if (!Files.isDirectory(dir)) throw new OnnxExportException("cannot save ONNX model to " + file + ": directory " + dir + " does not exist");
        checkTarget(target, "model file", options.overwrite());
        rejectExternalTensors(model);

        long size = serializedSize(model);
        boolean external = switch (options.mode()) {
            case ALWAYS -> true;
            case AUTO -> size > limit;
            case NEVER -> false;
        };
        Path dataFile = null;
        String location = null;
        if (external) {
            location = options.locationFor(modelName);
            dataFile = dir.resolve(location);
            checkTarget(dataFile, "external data file", options.overwrite());
        }

        List<Path> temps = new ArrayList<>();
        try {
            ModelProto out = model;
            Path dataTemp = null;
            if (external) {
                dataTemp = newTemp(dir, temps);
                out = writeExternal(model, dataTemp, location, options);
                if (out == model) {     // nothing was large enough to move
                    Files.delete(dataTemp);
                    temps.remove(dataTemp);
                    dataTemp = null;
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
            Path modelTemp = newTemp(dir, temps);
            try (FileChannel ch = FileChannel.open(modelTemp, StandardOpenOption.WRITE)) {
                out.writeTo(new ChannelOutput(ch));
                ch.force(true);
            }
            if (dataTemp != null) moveInto(dataTemp, dataFile, "external data file", options.overwrite(), temps);
            moveInto(modelTemp, target, "model file", options.overwrite(), temps);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save ONNX model to " + file + ": " + e, e);
        } finally {
            for (Path t : temps) {
                try {
                    Files.deleteIfExists(t);
                } catch (IOException ignored) {
                    // best effort: the temporary file's name starts with a dot and says it is Kiln's
                }
            }
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

    /** Writes every large enough raw-data tensor into {@code dataFile}; returns the model referring to it. */
    private static ModelProto writeExternal(ModelProto model, Path dataFile, String location, ExternalDataOptions options) throws IOException {
        long threshold = Math.max(1, options.sizeThreshold());
        long[] end = {0};
        boolean[] moved = {false};
        ModelProto out;
        try (FileChannel ch = FileChannel.open(dataFile, StandardOpenOption.WRITE)) {
            out = ModelTensors.map(model, t -> {
                if (!t.hasRawData() || t.getRawData().size() < threshold) return t;
                long offset = Math.ceilDiv(end[0], options.alignment()) * options.alignment();
                long length = t.getRawData().size();
                try {
                    writeFully(ch, t.getRawData().asReadOnlyByteBuffer(), offset);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                end[0] = offset + length;
                moved[0] = true;
                return t.toBuilder().clearRawData().clearExternalData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(entry("location", location))
                        .addExternalData(entry("offset", Long.toString(offset)))
                        .addExternalData(entry("length", Long.toString(length))).build();
            });
            ch.force(true);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return moved[0] ? out : model;
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

    /** Fails if {@code p} is a link, not a regular file, or exists and may not be replaced. */
    private static void checkTarget(Path p, String what, boolean overwrite) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save ONNX model: cannot examine the " + what + " " + p + ": " + e, e);
        }
        if (a.isSymbolicLink()) {
            throw new OnnxExportException("cannot save ONNX model: the " + what + " " + p + " is a symbolic link; Kiln never"
                    + " writes through or replaces links, even with overwrite allowed (remove the link first)");
        }
        if (!a.isRegularFile()) throw new OnnxExportException("cannot save ONNX model: the " + what + " " + p + " exists and is not a regular file");
        if (!overwrite) {
            throw new OnnxExportException("cannot save ONNX model: the " + what + " " + p + " already exists; allow replacing it"
                    + " with ExternalDataOptions.withOverwrite(true)");
        }
    }

    /** A new empty file with a fresh name in {@code dir} (never an existing file or link), recorded in {@code temps}. */
    private static Path newTemp(Path dir, List<Path> temps) throws IOException {
        byte[] id = new byte[8];
        RANDOM.nextBytes(id);
        Path p = dir.resolve(".kiln-save-" + HexFormat.of().formatHex(id) + ".tmp");
        Files.newByteChannel(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        temps.add(p);
        return p;
    }

    /**
     * Renames {@code temp} to {@code target} in the same directory: a rename replaces a directory entry
     * and never writes through a link, and the target is checked again just before.
     */
    private static void moveInto(Path temp, Path target, String what, boolean overwrite, List<Path> temps) throws IOException {
        checkTarget(target, what, overwrite);
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } else {
            Files.move(temp, target);   // fails rather than replaces if the target appeared meanwhile
        }
        temps.remove(temp);
    }
}
