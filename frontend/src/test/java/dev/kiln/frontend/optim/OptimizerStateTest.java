package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.io.SafeTensors;
import dev.kiln.frontend.io.SafeTensorsFormatException;
import dev.kiln.frontend.nn.Parameter;
import dev.kiln.ir.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OptimizerStateTest {

    @TempDir
    Path dir;

    /** Each optimiser with every state buffer in use. */
    static Stream<Arguments> optimizers() {
        Map<String, Function<List<Parameter>, Optimizer>> m = new LinkedHashMap<>();
        m.put("SGD", ps -> SGD.builder(ps, 0.05).momentum(0.9).nesterov(true).weightDecay(0.01).build());
        m.put("Adam", ps -> Adam.builder(ps).lr(0.01).amsgrad(true).weightDecay(0.01).build());
        m.put("AdamW", ps -> AdamW.builder(ps).lr(0.01).betas(0.8, 0.99).amsgrad(true).build());
        m.put("RMSprop", ps -> RMSprop.builder(ps).lr(0.01).momentum(0.5).centered(true).build());
        m.put("Adagrad", ps -> Adagrad.builder(ps).lr(0.1).lrDecay(0.1).initialAccumulatorValue(0.2).build());
        return m.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    /** A f32 [2, 3] weight and a f64 [3] bias. */
    static List<Parameter> params() {
        return List.of(new Parameter(Tensor.of(new float[] {1, -1, 0.5f, 2, 0, -3}, 2, 3)),
                new Parameter(Tensor.of(new double[] {0.1, 0.2, 0.3})));
    }

    static List<Parameter> copies(List<Parameter> ps) {
        return ps.stream().map(p -> new Parameter(Tensor.wrap(p.data().copy()))).toList();
    }

    /** Deterministic gradients for step k. */
    static void setGrads(List<Parameter> ps, int k) {
        for (int j = 0; j < ps.size(); j++) {
            Parameter p = ps.get(j);
            double[] g = new double[(int) p.numel()];
            for (int i = 0; i < g.length; i++) g[i] = Math.sin(k * 1.3 + i * 0.7 + j);
            p.setGrad(Tensor.of(g, p.shape()).to(p.dtype()));
        }
    }

    static void steps(Optimizer opt, List<Parameter> ps, int from, int to) {
        for (int k = from; k < to; k++) {
            setGrads(ps, k);
            opt.step();
        }
    }

    static void assertSameValues(List<Parameter> a, List<Parameter> b) {
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).data().toDoubleArray(), b.get(i).data().toDoubleArray(), "parameter " + i);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void savedStateResumesIdentically(String name, Function<List<Parameter>, Optimizer> make) throws IOException {
        List<Parameter> ps = params();
        Optimizer original = make.apply(ps);
        steps(original, ps, 0, 3);
        Path file = dir.resolve(name + ".safetensors");
        original.save(file);
        OptimizerState memory = original.state();

        List<Parameter> fromFile = copies(ps), fromMemory = copies(ps);
        Optimizer loadedFile = make.apply(fromFile);
        loadedFile.setLr(123); // overwritten by the load
        loadedFile.load(file);
        Optimizer loadedMemory = make.apply(fromMemory);
        loadedMemory.loadState(memory);
        assertEquals(original.hyperParameters(), loadedFile.hyperParameters());

        steps(original, ps, 3, 5);
        steps(loadedFile, fromFile, 3, 5);
        steps(loadedMemory, fromMemory, 3, 5);
        assertSameValues(ps, fromFile);
        assertSameValues(ps, fromMemory);
        assertEquals(5, loadedFile.state().params().get(0).step());
    }

    @Test
    void theFileNamesBuffersAndMetadataAsDocumented() throws IOException {
        List<Parameter> ps = params();
        Adam opt = Adam.builder(ps).lr(0.01).build();
        steps(opt, ps, 0, 2);
        Path file = dir.resolve("adam.safetensors");
        opt.save(file);
        SafeTensors.Loaded l = SafeTensors.load(file);
        assertEquals(List.of("state.0.exp_avg", "state.0.exp_avg_sq", "state.1.exp_avg", "state.1.exp_avg_sq"),
                List.copyOf(l.tensors().keySet()));
        assertEquals(DType.F32, l.tensors().get("state.0.exp_avg").dtype());
        assertEquals(DType.F64, l.tensors().get("state.1.exp_avg").dtype());
        assertEquals("Adam", l.metadata().get("kiln.optimizer"));
        assertEquals("2", l.metadata().get("state.1.step"));
        assertEquals("2,3", l.metadata().get("param.0.shape"));
        assertEquals("0.01", l.metadata().get("hp.lr"));
        assertEquals("0.999", l.metadata().get("hp.beta2"));
    }

    @Test
    void aSnapshotDoesNotChangeWithLaterSteps() {
        List<Parameter> ps = params();
        Adam opt = new Adam(ps, 0.1);
        steps(opt, ps, 0, 1);
        OptimizerState s = opt.state();
        double[] before = s.params().get(0).buffers().get("exp_avg").data().toDoubleArray();
        steps(opt, ps, 1, 3);
        assertArrayEquals(before, s.params().get(0).buffers().get("exp_avg").data().toDoubleArray());
        assertEquals(1, s.params().get(0).step());
    }

    // ---------------------------------------------------------------- mismatches leave the optimizer unchanged

    @Test
    void mismatchedStatesFailCleanly() {
        List<Parameter> ps = params();
        Adam source = Adam.builder(ps).lr(0.01).amsgrad(true).build();
        steps(source, ps, 0, 2);
        OptimizerState good = source.state();

        // fewer parameters
        List<Parameter> one = List.of(params().get(0));
        Adam small = new Adam(one, 0.5);
        expectUnchanged(small, one, () -> small.loadState(good), "the state has 2 parameters but this optimizer has 1");

        // another shape
        List<Parameter> transposed = List.of(new Parameter(Tensor.zeros(DType.F32, 3, 2)), params().get(1));
        Adam other = new Adam(transposed, 0.5);
        expectUnchanged(other, transposed, () -> other.loadState(good), "parameter 0 has shape [3, 2] here but [2, 3] in the state");

        // another optimizer
        List<Parameter> sgdParams = params();
        SGD sgd = SGD.builder(sgdParams, 0.1).momentum(0.9).build();
        expectUnchanged(sgd, sgdParams, () -> sgd.loadState(good), "the state is for Adam, not SGD");

        // invalid hyper-parameter inside the state
        Map<String, Double> hp = new LinkedHashMap<>(good.hyperParameters());
        hp.put("beta1", 1.5);
        List<Parameter> mine = params();
        Adam target = new Adam(mine, 0.5);
        steps(target, mine, 0, 1);
        expectUnchanged(target, mine, () -> target.loadState(new OptimizerState("Adam", hp, good.params())),
                "beta1 must be in [0, 1), got 1.5");
        Map<String, Double> missing = new LinkedHashMap<>(good.hyperParameters());
        missing.remove("eps");
        expectUnchanged(target, mine, () -> target.loadState(new OptimizerState("Adam", missing, good.params())),
                "missing [eps]");

        // unexpected or misshapen buffers, in the second parameter so the first would already have been read
        OptimizerState.ParamState p1 = good.params().get(1);
        Map<String, Tensor> extra = new LinkedHashMap<>(p1.buffers());
        extra.put("momentum_buffer", Tensor.zeros(DType.F64, 3));
        expectUnchanged(target, mine, () -> target.loadState(new OptimizerState("Adam", good.hyperParameters(),
                List.of(good.params().get(0), new OptimizerState.ParamState(p1.shape(), 2, extra)))),
                "parameter 1: unexpected state buffer 'momentum_buffer'");
        Map<String, Tensor> wrongShape = new LinkedHashMap<>(p1.buffers());
        wrongShape.put("exp_avg", Tensor.zeros(DType.F64, 4));
        expectUnchanged(target, mine, () -> target.loadState(new OptimizerState("Adam", good.hyperParameters(),
                List.of(good.params().get(0), new OptimizerState.ParamState(p1.shape(), 2, wrongShape)))),
                "parameter 1: state buffer 'exp_avg' is f64[4] but must be floating-point of the parameter's shape [3]");
        expectUnchanged(target, mine, () -> target.loadState(new OptimizerState("Adam", good.hyperParameters(),
                List.of(good.params().get(0), new OptimizerState.ParamState(p1.shape(), -1, p1.buffers())))),
                "negative step count -1");
    }

    @Test
    void mismatchedOrMalformedFilesFailCleanly() throws IOException {
        List<Parameter> ps = params();
        Adam source = new Adam(ps, 0.01);
        steps(source, ps, 0, 2);
        Path file = dir.resolve("adam.safetensors");
        source.save(file);

        List<Parameter> one = List.of(params().get(0));
        Adam small = new Adam(one, 0.5);
        IllegalArgumentException e = expectUnchanged(small, one, () -> small.load(file), "the state has 2 parameters");
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());

        Path plain = dir.resolve("weights.safetensors");
        SafeTensors.save(Map.of("w", Tensor.zeros(DType.F32, 2)), plain);
        SafeTensorsFormatException f = assertThrows(SafeTensorsFormatException.class, () -> small.load(plain));
        assertTrue(f.getMessage().contains("not an optimizer state file"), f.getMessage());

        byte[] bytes = Files.readAllBytes(file);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 3));
        assertThrows(SafeTensorsFormatException.class, () -> small.load(cut));

        Map<String, String> meta = new LinkedHashMap<>(SafeTensors.load(file).metadata());
        meta.put("state.1.step", "many");
        Path badMeta = dir.resolve("bad-meta.safetensors");
        SafeTensors.save(SafeTensors.load(file).tensors(), meta, badMeta);
        f = assertThrows(SafeTensorsFormatException.class, () -> small.load(badMeta));
        assertTrue(f.getMessage().contains("metadata 'state.1.step' must be a non-negative integer, got 'many'"), f.getMessage());

        Map<String, Tensor> tensors = new LinkedHashMap<>(SafeTensors.load(file).tensors());
        tensors.put("state.7.exp_avg", Tensor.zeros(DType.F32, 1));
        Path badKey = dir.resolve("bad-key.safetensors");
        SafeTensors.save(tensors, SafeTensors.load(file).metadata(), badKey);
        f = assertThrows(SafeTensorsFormatException.class, () -> small.load(badKey));
        assertTrue(f.getMessage().contains("unexpected tensor 'state.7.exp_avg'"), f.getMessage());
    }

    /** Runs {@code load}, which must fail naming {@code message}; the optimizer must then behave exactly as before. */
    static IllegalArgumentException expectUnchanged(Optimizer opt, List<Parameter> ps,
                                                    org.junit.jupiter.api.function.Executable load, String message) {
        OptimizerState before = opt.state();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, load);
        assertTrue(e.getMessage().contains(message), "message: " + e.getMessage() + "\nexpected: " + message);
        OptimizerState after = opt.state();
        assertEquals(before.hyperParameters(), after.hyperParameters());
        for (int i = 0; i < before.params().size(); i++) {
            OptimizerState.ParamState b = before.params().get(i), a = after.params().get(i);
            assertEquals(b.step(), a.step());
            assertEquals(b.buffers().keySet(), a.buffers().keySet());
            for (String k : b.buffers().keySet()) {
                assertArrayEquals(b.buffers().get(k).data().toDoubleArray(), a.buffers().get(k).data().toDoubleArray());
            }
        }
        // and it still steps like an optimizer that never saw the failed load
        List<Parameter> twinParams = copies(ps);
        Optimizer twin = opt instanceof SGD ? SGD.builder(twinParams, opt.lr()).momentum(0.9).build() : new Adam(twinParams, opt.lr());
        twin.loadState(before);
        steps(opt, ps, 10, 11);
        steps(twin, twinParams, 10, 11);
        assertSameValues(ps, twinParams);
        return e;
    }
}
