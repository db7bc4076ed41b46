package dev.kiln.tests.fuzz;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.NetDef;
import dev.kiln.onnx.netdef.ImportedNet;
import dev.kiln.onnx.netdef.NetDefExporter;
import dev.kiln.onnx.netdef.NetDefImporter;
import dev.kiln.onnx.netdef.NetDefModel;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import dev.kiln.tracer.Weights;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Caffe2 NetDef model pairs with their input types (NetDef has none), seeded from the sample models exported by
 * Kiln; the init and predict nets are mutated structurally or byte-wise, the input types' dims now and then.
 * A case is saved as one file: {@code KFZN1}, the two nets (each a 4-byte length and the bytes), then one line
 * per input ({@code name dtype dim,dim,...}). Imported through {@link NetDefModel#load} and
 * {@link NetDefImporter}, then run on the reference interpreter (NetDef's run path) on made-up inputs.
 */
final class NetDefFuzzTarget implements FuzzTarget {

    private static final byte[] MAGIC = "KFZN1".getBytes(StandardCharsets.US_ASCII);

    /** One case: both nets' bytes and the input types. */
    record Case(byte[] init, byte[] predict, Map<String, TensorType> inputs) {}

    private final List<byte[]> seeds = new ArrayList<>();
    private final AtomicLong notRun = new AtomicLong();
    private final List<String> words;

    NetDefFuzzTarget() {
        Set<String> w = new LinkedHashSet<>();
        for (SampleGraphs.Sample s : SampleGraphs.all()) {
            NetDefModel m = NetDefExporter.export(s.graph(), Weights.asBuffers(s.weights()));
            Map<String, TensorType> types = new LinkedHashMap<>();
            Graph g = s.graph();
            for (int i = 0; i < g.inputs().size(); i++) types.put(m.predictNet().getExternalInput(i), g.inputs().get(i).tensorType());
            seeds.add(encode(new Case(m.initNet().toByteArray(), m.predictNet().toByteArray(), types)));
            Mutations.collectStrings(m.initNet(), w, 5000);
            Mutations.collectStrings(m.predictNet(), w, 5000);
        }
        words = List.copyOf(w);
    }

    @Override public String name() { return "netdef"; }

    @Override public String extension() { return "kfzn"; }

    @Override public List<byte[]> seeds() { return seeds; }

    @Override public long notRun() { return notRun.get(); }

    @Override
    public byte[] mutate(byte[] seed, byte[] other, SplittableRandom r) {
        Case c = decode(seed);
        Case o = decode(other);
        byte[] init = c.init(), predict = c.predict();
        Map<String, TensorType> inputs = c.inputs();
        int parts = 1 + r.nextInt(3);      // 1: init, 2: predict, 3: both
        if ((parts & 1) != 0) init = mutateNet(init, o.init(), r);
        if ((parts & 2) != 0) predict = mutateNet(predict, o.predict(), r);
        if (r.nextInt(8) == 0) inputs = mutateTypes(inputs, r);
        return encode(new Case(init, predict, inputs));
    }

    private byte[] mutateNet(byte[] net, byte[] other, SplittableRandom r) {
        if (r.nextInt(10) < 7) {
            try {
                byte[] out = Mutations.proto(NetDef.parseFrom(net), words, r).toByteArray();
                return r.nextInt(7) == 0 ? Mutations.bytes(out, other, r) : out;
            } catch (InvalidProtocolBufferException e) {
                // an earlier byte mutation: mutate bytes again
            }
        }
        return Mutations.bytes(net, other, r);
    }

    private static Map<String, TensorType> mutateTypes(Map<String, TensorType> inputs, SplittableRandom r) {
        if (inputs.isEmpty()) return inputs;
        List<String> names = new ArrayList<>(inputs.keySet());
        String name = names.get(r.nextInt(names.size()));
        TensorType t = inputs.get(name);
        List<Dim> dims = new ArrayList<>(t.shape().dims());
        switch (r.nextInt(3)) {
            case 0 -> { if (!dims.isEmpty()) dims.remove(r.nextInt(dims.size())); }
            case 1 -> dims.add(r.nextInt(dims.size() + 1), Dim.of(r.nextInt(0, 4)));
            default -> { if (!dims.isEmpty()) dims.set(r.nextInt(dims.size()), Dim.of(new long[] {0, 1, 3, 7, 1L << 31, 1L << 40}[r.nextInt(6)])); }
        }
        Map<String, TensorType> out = new LinkedHashMap<>(inputs);
        out.put(name, TensorType.of(t.dtype(), dims.toArray(Dim[]::new)));
        return out;
    }

    @Override
    public void execute(byte[] input, Path work) throws Exception {
        Case c = decode(input);
        Path init = Files.write(work.resolve("init_net.pb"), c.init());
        Path predict = Files.write(work.resolve("predict_net.pb"), c.predict());
        ImportedNet net = NetDefImporter.importNet(NetDefModel.load(init, predict), c.inputs());
        List<NDArray> inputs = SampleGraphs.inputs(SampleGraphs.inputTypes(net.graph()), Arrays.hashCode(input));
        if (inputs == null) {
            notRun.incrementAndGet();
            return;
        }
        Map<String, NDArray> weights = new LinkedHashMap<>();
        for (Map.Entry<String, ByteBuffer> w : net.weights().entrySet()) {
            byte[] bytes = new byte[w.getValue().remaining()];
            w.getValue().duplicate().get(bytes);
            weights.put(w.getKey(), Interpreter.fromBytes(net.graph().weights().get(w.getKey()).tensorType(), bytes));
        }
        for (NDArray out : Interpreter.runTensors(net.graph(), inputs, weights)) out.numel();
    }

    static byte[] encode(Case c) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.write(MAGIC);
            out.writeInt(c.init().length);
            out.write(c.init());
            out.writeInt(c.predict().length);
            out.write(c.predict());
            StringBuilder types = new StringBuilder();
            c.inputs().forEach((name, t) -> {
                StringBuilder dims = new StringBuilder();
                for (Dim d : t.shape().dims()) dims.append(dims.isEmpty() ? "" : ",").append(d.isStatic() ? Long.toString(d.size()) : d.toString());
                types.append(name).append(' ').append(t.dtype().irName()).append(' ').append(dims).append('\n');
            });
            out.write(types.toString().getBytes(StandardCharsets.UTF_8));
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Case decode(byte[] file) {
        try {
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(file));
            if (!Arrays.equals(in.readNBytes(MAGIC.length), MAGIC)) throw new IllegalArgumentException("not a NetDef fuzz case (no KFZN1 header)");
            byte[] init = in.readNBytes(in.readInt());
            byte[] predict = in.readNBytes(in.readInt());
            Map<String, TensorType> inputs = new LinkedHashMap<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isEmpty()) continue;
                String[] f = line.split(" ", -1);
                List<Dim> dims = new ArrayList<>();
                if (!f[2].isEmpty()) {
                    for (String d : f[2].split(",")) dims.add(d.chars().allMatch(Character::isDigit) ? Dim.of(Long.parseLong(d)) : Dim.sym(d));
                }
                inputs.put(f[0], TensorType.of(DType.fromIrName(f[1]), dims.toArray(Dim[]::new)));
            }
            return new Case(init, predict, inputs);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
