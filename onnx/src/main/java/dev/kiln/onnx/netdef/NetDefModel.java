package dev.kiln.onnx.netdef;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.NetDef;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
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

    /** Writes the two nets as binary protobuf files (conventionally {@code init_net.pb} and {@code predict_net.pb}). */
    public void save(Path initPb, Path predictPb) {
        write(initNet, initPb);
        write(predictNet, predictPb);
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

    private static void write(NetDef net, Path file) {
        try (OutputStream out = Files.newOutputStream(file)) {
            net.writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write NetDef '" + net.getName() + "' to " + file + ": " + e.getMessage(), e);
        }
    }
}
