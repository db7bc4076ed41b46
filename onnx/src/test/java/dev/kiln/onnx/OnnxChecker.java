package dev.kiln.onnx;

import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.onnx.global.onnx;

import java.nio.file.Path;

/**
 * The official ONNX checker (ONNX 1.17 through its JavaCPP preset) with full_check: structure,
 * operator schemas for the model's opset, and strict shape/type inference. Throws on any failure.
 */
public final class OnnxChecker {

    private OnnxChecker() {}

    /** Checks the model's serialized bytes, as parsed by ONNX's own C++ protobuf classes. */
    public static void check(ModelProto model) {
        byte[] bytes = model.toByteArray();
        try (BytePointer data = new BytePointer(bytes);
             org.bytedeco.onnx.ModelProto parsed = new org.bytedeco.onnx.ModelProto()) {
            if (!parsed.ParseFromArray(data, bytes.length)) {
                throw new IllegalStateException("ONNX could not parse the model's " + bytes.length + " bytes");
            }
            onnx.check_model(parsed, true, false, false);
        }
    }

    /** Checks a model file by path, as ONNX's {@code check_model(path, full_check=True)} does. */
    public static void check(Path file) {
        onnx.check_model(file.toString(), true, false, false);
    }
}
