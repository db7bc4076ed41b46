package dev.kiln.onnx;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Message;
import dev.kiln.onnx.proto.OnnxProtos;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.kiln.ir.testing.SharedData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kiln's onnx.proto against the ONNX 1.22 wire-format table in shared/ (every message, enum,
 * value, field, label, type, number and reserved range, both ways), and against real models: the
 * ONNX backend-test models parse with no unknown field and re-serialise to the same bytes.
 */
class SchemaTest {

    private static final FileDescriptor FILE = OnnxProtos.getDescriptor();

    private static Path shared(String relative) { return SharedData.require(relative); }

    @Test
    void protoMatchesTheWireFormatTable() throws IOException {
        List<String> lines = Files.readAllLines(shared("onnx/schema/onnx-1.22-fields.tsv"));
        Set<String> tableFields = new TreeSet<>(), tableTypes = new TreeSet<>();
        Map<String, Set<String>> reserved = new HashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] c = (line + "\t").split("\t", -1);
            String scope = c[0], kind = c[1], label = c[2], type = c[3], name = c[4], number = c[5];
            switch (kind) {
                case "syntax" -> assertEquals("proto2", FILE.toProto().getSyntax().isEmpty() ? "proto2" : FILE.toProto().getSyntax());
                case "package" -> assertEquals(name, FILE.getPackage());
                case "message" -> { assertNotNull(message(scope), scope); tableTypes.add(scope); }
                case "enum" -> { assertNotNull(enumType(scope), scope); tableTypes.add(scope); }
                case "enum-value" -> {
                    var v = enumType(scope).findValueByName(name);
                    assertNotNull(v, scope + "." + name);
                    assertEquals(Long.decode(number).intValue(), v.getNumber(), scope + "." + name);
                }
                case "field" -> { checkField(scope, label, type, name, number); tableFields.add(scope + "." + name); }
                case "reserved" -> {
                    for (String part : name.split(",")) reserved.computeIfAbsent(scope, k -> new TreeSet<>()).add(part.trim());
                }
                default -> throw new AssertionError("unknown row kind '" + kind + "' in: " + line);
            }
        }
        Set<String> protoFields = new TreeSet<>(), protoTypes = new TreeSet<>();
        for (Descriptor d : FILE.getMessageTypes()) collect(d, protoFields, protoTypes);
        FILE.getEnumTypes().forEach(en -> protoTypes.add(en.getName()));
        assertEquals(tableTypes, protoTypes, "messages and enums");
        assertEquals(tableFields, protoFields, "fields");
        for (Descriptor d : allMessages()) {
            DescriptorProto p = d.toProto();
            Set<String> mine = new TreeSet<>();
            p.getReservedRangeList().forEach(r -> mine.add(r.getEnd() - 1 == r.getStart() ? "" + r.getStart() : r.getStart() + " to " + (r.getEnd() - 1)));
            p.getReservedNameList().forEach(n -> mine.add("\"" + n + "\""));
            String scope = d.getFullName().substring("onnx.".length());
            assertEquals(reserved.getOrDefault(scope, Set.of()), mine, "reserved in " + scope);
        }
    }

    private static void checkField(String scope, String label, String type, String name, String number) {
        FieldDescriptor f = message(scope).findFieldByName(name);
        String where = scope + "." + name;
        assertNotNull(f, where);
        assertEquals(Integer.parseInt(number.split(" ")[0]), f.getNumber(), where + " number");
        assertEquals(number.contains("packed = true"), f.toProto().getOptions().getPacked(), where + " packed");
        switch (label) {
            case "repeated" -> assertTrue(f.isRepeated(), where + " repeated");
            case "optional" -> assertTrue(!f.isRepeated() && f.getRealContainingOneof() == null, where + " optional");
            default -> {
                assertTrue(label.startsWith("oneof:"), where + " label " + label);
                assertNotNull(f.getRealContainingOneof(), where + " in a oneof");
                assertEquals(label.substring(6), f.getRealContainingOneof().getName(), where + " oneof");
            }
        }
        String actual = switch (f.getType()) {
            case MESSAGE -> f.getMessageType().getName();
            case ENUM -> f.getEnumType().getName();
            default -> f.getType().name().toLowerCase(java.util.Locale.ROOT);
        };
        assertEquals(type, actual, where + " type");
    }

    private static Descriptor message(String scope) {
        String[] parts = scope.split("\\.");
        Descriptor d = FILE.findMessageTypeByName(parts[0]);
        for (int i = 1; i < parts.length && d != null; i++) d = d.findNestedTypeByName(parts[i]);
        return d;
    }

    private static EnumDescriptor enumType(String scope) {
        int dot = scope.lastIndexOf('.');
        return dot < 0 ? FILE.findEnumTypeByName(scope) : message(scope.substring(0, dot)).findEnumTypeByName(scope.substring(dot + 1));
    }

    private static void collect(Descriptor d, Set<String> fields, Set<String> types) {
        String scope = d.getFullName().substring("onnx.".length());
        types.add(scope);
        d.getFields().forEach(f -> fields.add(scope + "." + f.getName()));
        d.getEnumTypes().forEach(en -> types.add(scope + "." + en.getName()));
        d.getNestedTypes().forEach(n -> collect(n, fields, types));
    }

    private static List<Descriptor> allMessages() {
        List<Descriptor> out = new ArrayList<>();
        for (Descriptor d : FILE.getMessageTypes()) addAll(d, out);
        return out;
    }

    private static void addAll(Descriptor d, List<Descriptor> out) {
        out.add(d);
        d.getNestedTypes().forEach(n -> addAll(n, out));
    }

    @Test
    void backendTestModelsParseWithoutUnknownFieldsAndRoundTrip() throws IOException {
        Path root = shared("onnx/backend-tests");
        List<Path> models;
        try (Stream<Path> s = Files.walk(root)) {
            models = s.filter(p -> p.getFileName().toString().equals("model.onnx")).sorted().toList();
        }
        assertTrue(models.size() > 1000, "found only " + models.size() + " models under " + root);
        for (Path p : models) {
            byte[] bytes = Files.readAllBytes(p);
            ModelProto m = ModelProto.parseFrom(bytes);
            assertNoUnknownFields(m, root.relativize(p).toString());
            assertArrayEquals(bytes, m.toByteArray(), "re-serialised " + root.relativize(p));
        }
    }

    private static void assertNoUnknownFields(Message m, String where) {
        assertTrue(m.getUnknownFields().asMap().isEmpty(),
                where + ": unknown fields " + m.getUnknownFields().asMap().keySet() + " in " + m.getDescriptorForType().getName());
        for (var e : m.getAllFields().entrySet()) {
            if (e.getKey().getJavaType() != FieldDescriptor.JavaType.MESSAGE) continue;
            if (e.getKey().isRepeated()) {
                for (Object o : (List<?>) e.getValue()) assertNoUnknownFields((Message) o, where);
            } else {
                assertNoUnknownFields((Message) e.getValue(), where);
            }
        }
    }
}
