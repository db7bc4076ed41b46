package dev.kiln.onnx.netdef;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.NetDef;
import dev.kiln.runtime.io.SafeFiles;
import dev.kiln.runtime.io.WriteTargetException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model in Caffe2's two-net form: {@code initNet} creates the weights (one fill op per weight),
 * {@code predictNet} runs the model on its external inputs. Each is stored as a binary .pb file.
 */
public record NetDefModel(NetDef initNet, NetDef predictNet) {

    public NetDefModel {
        if (initNet == null || predictNet == null) throw new IllegalArgumentException("NetDefModel needs both nets, got null");
    }

    /**
     * Writes the two nets as binary protobuf files (conventionally {@code init_net.pb} and {@code predict_net.pb}),
     * replacing existing regular files. Both go through {@link SafeFiles}: written to temporary files beside
     * their targets and renamed into place only when both are complete, never through a symbolic link (at a
     * target, or as a target's directory) and never outside the targets' directories.
     *
     * @throws NetDefException      if a target or its directory is a symbolic link, a target is not a regular
     *                              file, or a directory does not exist (nothing is written)
     * @throws UncheckedIOException if writing fails (no partial or temporary file is left)
     */
    public void save(Path initPb, Path predictPb) {
        try (SafeFiles.Batch batch = SafeFiles.batch()) {
            batch.check(initPb, "init_net file", true);
            batch.check(predictPb, "predict_net file", true);
            batch.stage(initPb, "init_net file", true, ch -> initNet.writeTo(Channels.newOutputStream(ch)));
            batch.stage(predictPb, "predict_net file", true, ch -> predictNet.writeTo(Channels.newOutputStream(ch)));
            batch.commit();
        } catch (WriteTargetException e) {
            throw new NetDefException("cannot save NetDef model: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save NetDef model to " + initPb + " and " + predictPb + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads the two nets from binary protobuf files.
     *
     * @throws NetDefException if a file is not a valid NetDef protobuf
     * @throws UncheckedIOException if a file cannot be read
     */
    public static NetDefModel load(Path initPb, Path predictPb) {
        return new NetDefModel(read(initPb, "init_net"), read(predictPb, "predict_net"));
    }

    /** Parses a NetDef from bytes; {@code what} names it in errors. */
    static NetDef parse(byte[] bytes, String what) {
        try {
            return NetDef.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new NetDefException(what + " is not a valid Caffe2 NetDef protobuf: " + e.getMessage(), e);
        }
    }

    private static NetDef read(Path file, String what) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + what + " from " + file + ": " + e.getMessage(), e);
        }
        return parse(bytes, what + " file " + file);
    }
}
