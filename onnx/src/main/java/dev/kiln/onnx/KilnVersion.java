package dev.kiln.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** Kiln's version, from the build-filtered {@code kiln-onnx.properties}, for ONNX's producer_version. */
final class KilnVersion {

    private static final String VERSION = load();

    private KilnVersion() {}

    static String get() { return VERSION; }

    private static String load() {
        try (InputStream in = KilnVersion.class.getResourceAsStream("kiln-onnx.properties")) {
            if (in == null) throw new IllegalStateException("kiln-onnx.properties is missing from the kiln-onnx jar");
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kiln-onnx.properties", e);
        }
    }
}
