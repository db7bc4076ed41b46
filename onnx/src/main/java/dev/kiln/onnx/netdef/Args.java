package dev.kiln.onnx.netdef;

import com.google.protobuf.ByteString;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.Argument;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.OperatorDef;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Caffe2 operator arguments: builders for the exporter, and a reader for the importer that checks
 * each argument has the field its type needs and reports problems with the op's position.
 */
final class Args {

    private Args() {}

    static Argument i(String name, long v) { return Argument.newBuilder().setName(name).setI(v).build(); }

    static Argument f(String name, double v) { return Argument.newBuilder().setName(name).setF((float) v).build(); }

    static Argument s(String name, String v) { return Argument.newBuilder().setName(name).setS(ByteString.copyFromUtf8(v)).build(); }

    static Argument ints(String name, long... v) {
        Argument.Builder a = Argument.newBuilder().setName(name);
        for (long x : v) a.addInts(x);
        return a.build();
    }

    /**
     * The arguments of one operator by name, read with the types Caffe2's ArgumentHelper expects.
     * {@code where} names the op in messages ({@code predict_net op #3 (Conv -> 'y')}).
     */
    static final class Reader {

        private final Map<String, Argument> args = new LinkedHashMap<>();
        private final String where;

        Reader(OperatorDef op, String where) {
            this.where = where;
            for (Argument a : op.getArgList()) {
                if (args.put(a.getName(), a) != null) throw error("argument '" + a.getName() + "' is given twice");
            }
        }

        boolean has(String name) { return args.containsKey(name); }

        /** An int argument ({@code i} field), or {@code fallback} when absent. */
        long i(String name, long fallback) {
            Argument a = args.get(name);
            if (a == null) return fallback;
            if (!a.hasI()) throw error("argument '" + name + "' must be an int (field i), got " + describe(a));
            return a.getI();
        }

        /** A float argument ({@code f} field; an int is accepted too), or {@code fallback} when absent. */
        double f(String name, double fallback) {
            Argument a = args.get(name);
            if (a == null) return fallback;
            if (a.hasF()) return a.getF();
            if (a.hasI()) return a.getI();
            throw error("argument '" + name + "' must be a float (field f), got " + describe(a));
        }

        /** A string argument ({@code s} field), or {@code fallback} when absent. */
        String s(String name, String fallback) {
            Argument a = args.get(name);
            if (a == null) return fallback;
            if (!a.hasS()) throw error("argument '" + name + "' must be a string (field s), got " + describe(a));
            return a.getS().toString(StandardCharsets.UTF_8);
        }

        /** An int-list argument ({@code ints} field), or null when absent. */
        long[] ints(String name) {
            Argument a = args.get(name);
            if (a == null) return null;
            if (a.hasI() || a.hasF() || a.hasS() || a.getFloatsCount() > 0 || a.getStringsCount() > 0) {
                throw error("argument '" + name + "' must be a list of ints (field ints), got " + describe(a));
            }
            return a.getIntsList().stream().mapToLong(Long::longValue).toArray();
        }

        /** The argument itself, or null. */
        Argument raw(String name) { return args.get(name); }

        NetDefException error(String message) { return new NetDefException(where + ": " + message); }

        private static String describe(Argument a) {
            if (a.hasI()) return "int " + a.getI();
            if (a.hasF()) return "float " + a.getF();
            if (a.hasS()) return "string '" + a.getS().toStringUtf8() + "'";
            if (a.getIntsCount() > 0) return "ints " + a.getIntsList();
            if (a.getFloatsCount() > 0) return "floats " + a.getFloatsList();
            if (a.getStringsCount() > 0) return a.getStringsCount() + " strings";
            List<String> other = a.getAllFields().keySet().stream().map(d -> d.getName()).filter(n -> !n.equals("name")).toList();
            return other.isEmpty() ? "no value" : "fields " + other;
        }
    }
}
