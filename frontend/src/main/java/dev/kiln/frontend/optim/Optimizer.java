package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Base of the optimisers, as {@code torch.optim.Optimizer}: holds the parameters, the learning rate and each
 * parameter's state, and updates the parameters in place from their gradients on {@link #step()}. Updates are
 * made directly on the parameters' memory, so they are never recorded by autograd or the tracer (PyTorch's
 * {@code no_grad} in {@code step}); each updated parameter's version counter is bumped. Parameters whose
 * {@link Tensor#grad()} is null are skipped. State buffers match the parameter's dtype (f64 for f64 parameters,
 * f32 otherwise) and are allocated outside any {@link dev.kiln.runtime.MemoryScope}, so they outlive the scopes
 * that training steps run in. The optimisers of this package ({@link SGD}, {@link Adam}, {@link AdamW},
 * {@link RMSprop}, {@link Adagrad}) are its only subclasses.
 */
public abstract class Optimizer {

    /** Hyper-parameters other than the learning rate; an optimizer's immutable, validated configuration. */
    interface Config {
        /** The values by PyTorch name (booleans as 0/1), without {@code lr}. */
        Map<String, Double> toMap();

        /** The state buffer names a parameter may have under this configuration. */
        Set<String> bufferNames();
    }

    /** One parameter's state: its step count and named buffers, created on first use. */
    static final class Slot {
        private final long[] shape;
        private final DType dtype;
        private long step;
        private final Map<String, NDArray> buffers = new LinkedHashMap<>();

        private Slot(long[] shape, DType dtype) {
            this.shape = shape;
            this.dtype = dtype;
        }

        /** Number of updates so far, including the one in progress during {@code update}. */
        long step() { return step; }

        /** The buffer {@code name}, or null if it does not exist yet. */
        NDArray buffer(String name) { return buffers.get(name); }

        /** The buffer {@code name}, created filled with {@code init} on first use. */
        NDArray buffer(String name, double init) {
            return buffers.computeIfAbsent(name, n -> filled(dtype, shape, init));
        }
    }

    private final List<Tensor> params;
    private Slot[] slots;
    private double lr;

    /**
     * @param params the tensors to optimise (usually {@code module.parameters()}); floating-point, no duplicates
     * @param lr     the learning rate, {@code >= 0}
     */
    Optimizer(Iterable<? extends Tensor> params, double lr) {
        Objects.requireNonNull(params, "params");
        List<Tensor> list = new ArrayList<>();
        Map<Tensor, Integer> seen = new IdentityHashMap<>();
        for (Tensor p : params) {
            int i = list.size();
            if (p == null) throw new IllegalArgumentException(name() + ": parameter " + i + " is null");
            if (!p.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException(name() + ": parameter " + i + " is " + p.dtype()
                        + "; only floating-point parameters can be optimised");
            }
            Integer before = seen.put(p, i);
            if (before != null) {
                throw new IllegalArgumentException(name() + ": parameter " + i + " is the same tensor as parameter " + before
                        + "; pass each parameter once");
            }
            list.add(p);
        }
        if (list.isEmpty()) throw new IllegalArgumentException(name() + ": got an empty parameter list");
        this.params = Collections.unmodifiableList(list);
        this.slots = freshSlots();
        this.lr = checkLr(lr);
    }

    /** The optimizer's name as stored in states, e.g. {@code Adam}. */
    public String name() { return getClass().getSimpleName(); }

    /** The parameters, in order. */
    public List<Tensor> parameters() { return params; }

    /** The current learning rate. */
    public double lr() { return lr; }

    /** Sets the learning rate for the next steps (schedulers call this). */
    public void setLr(double lr) { this.lr = checkLr(lr); }

    private double checkLr(double value) { return HyperParameters.atLeast(name(), "lr", value, 0); }

    /**
     * Updates every parameter that has a gradient, in place. All gradients are checked against their parameters
     * first, so a bad gradient fails the step before any parameter changes.
     */
    public void step() {
        NDArray[] grads = new NDArray[params.size()];
        for (int i = 0; i < grads.length; i++) {
            Tensor p = params.get(i), g = p.grad();
            if (g == null) continue;
            if (!Arrays.equals(g.shape(), p.shape()) || !g.dtype().isFloatingPoint()) {
                throw new IllegalStateException(name() + ".step: parameter " + i + " is " + p.dtype()
                        + Arrays.toString(p.shape()) + " but its grad is " + g.dtype() + Arrays.toString(g.shape()));
            }
            grads[i] = g.data();
        }
        Config config = config();
        for (int i = 0; i < grads.length; i++) {
            if (grads[i] == null) continue;
            Tensor p = params.get(i);
            Slot s = slots[i];
            s.step++;
            update(s, FlatAccess.of(p.data()), FlatAccess.of(grads[i]), p.numel(), lr, config);
            p.bumpVersion();
        }
    }

    /** Clears every parameter's gradient (sets it to null), as PyTorch's default {@code zero_grad()}. */
    public void zeroGrad() {
        for (Tensor p : params) p.setGrad(null);
    }

    /**
     * One parameter's update. {@code slot.step()} already counts this update; {@code param} and {@code grad} are
     * read and written by flat index in {@code [0, numel)}.
     */
    abstract void update(Slot slot, FlatAccess param, FlatAccess grad, long numel, double lr, Config config);

    /** The current hyper-parameters other than the learning rate. */
    abstract Config config();

    /** Validates {@code values} (all hyper-parameters but {@code lr}) into a configuration, or throws. */
    abstract Config parseConfig(Map<String, Double> values);

    /** Replaces the hyper-parameters (already validated by {@link #parseConfig}). */
    abstract void setConfig(Config config);

    /** All hyper-parameters by PyTorch name, {@code lr} first (booleans as 0/1). */
    public Map<String, Double> hyperParameters() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("lr", lr);
        m.putAll(config().toMap());
        return m;
    }

    // ---------------------------------------------------------------- state

    /** A snapshot (deep copy) of the hyper-parameters and every parameter's state. */
    public OptimizerState state() {
        List<OptimizerState.ParamState> out = new ArrayList<>();
        for (Slot s : slots) {
            Map<String, Tensor> buffers = new LinkedHashMap<>();
            s.buffers.forEach((name, b) -> buffers.put(name, Tensor.wrap(copy(b, s.dtype))));
            out.add(new OptimizerState.ParamState(s.shape, s.step, buffers));
        }
        return new OptimizerState(name(), hyperParameters(), out);
    }

    /**
     * Restores a snapshot taken from an optimizer of the same kind over parameters of the same shapes: its
     * hyper-parameters (including {@code lr}), step counts and buffers (copied). Everything is checked first; on
     * any mismatch this throws an {@link IllegalArgumentException} naming it and the optimizer is unchanged.
     */
    public void loadState(OptimizerState state) {
        Objects.requireNonNull(state, "state");
        String me = name() + ".loadState";
        if (!state.optimizer().equals(name())) {
            throw new IllegalArgumentException(me + ": the state is for " + state.optimizer() + ", not " + name());
        }
        Map<String, Double> hp = new LinkedHashMap<>(state.hyperParameters());
        Double newLr = hp.remove("lr");
        if (newLr == null) throw new IllegalArgumentException(me + ": the state has no 'lr'");
        checkLr(newLr);
        Config config;
        try {
            config = parseConfig(hp);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(me + ": " + e.getMessage(), e);
        }
        if (state.params().size() != params.size()) {
            throw new IllegalArgumentException(me + ": the state has " + state.params().size()
                    + " parameters but this optimizer has " + params.size());
        }
        Slot[] fresh = freshSlots();
        for (int i = 0; i < fresh.length; i++) {
            OptimizerState.ParamState ps = state.params().get(i);
            String where = me + ": parameter " + i;
            if (!Arrays.equals(ps.shape(), fresh[i].shape)) {
                throw new IllegalArgumentException(where + " has shape " + Arrays.toString(fresh[i].shape)
                        + " here but " + Arrays.toString(ps.shape()) + " in the state");
            }
            if (ps.step() < 0) throw new IllegalArgumentException(where + ": negative step count " + ps.step());
            fresh[i].step = ps.step();
            for (Map.Entry<String, Tensor> b : ps.buffers().entrySet()) {
                if (!config.bufferNames().contains(b.getKey())) {
                    throw new IllegalArgumentException(where + ": unexpected state buffer '" + b.getKey() + "' for "
                            + name() + " with these hyper-parameters (expected some of " + config.bufferNames() + ")");
                }
                NDArray data = b.getValue().data();
                if (!Arrays.equals(data.shape(), fresh[i].shape) || !data.dtype().isFloatingPoint()) {
                    throw new IllegalArgumentException(where + ": state buffer '" + b.getKey() + "' is " + data.dtype()
                            + Arrays.toString(data.shape()) + " but must be floating-point of the parameter's shape "
                            + Arrays.toString(fresh[i].shape));
                }
                fresh[i].buffers.put(b.getKey(), copy(data, fresh[i].dtype));
            }
        }
        // All checked: apply at once.
        setConfig(config);
        this.lr = newLr;
        this.slots = fresh;
    }

    /**
     * Writes {@link #state()} to a safetensors file: buffers as {@code state.<i>.<name>}, and the optimizer
     * name, hyper-parameters, step counts and parameter shapes in the metadata. The write is atomic and never goes
     * through a symbolic link (see {@link dev.kiln.frontend.io.SafeTensors#save(java.util.Map, java.util.Map, Path)}).
     */
    public void save(Path file) throws IOException {
        OptimizerStateFile.save(state(), file);
    }

    /**
     * Reads a file written by {@link #save} and {@link #loadState loads} it. A malformed file is an
     * {@link IOException}; a state that does not fit this optimizer is an {@link IllegalArgumentException}
     * naming the file. Either way the optimizer is unchanged.
     */
    public void load(Path file) throws IOException {
        OptimizerState s = OptimizerStateFile.load(file);
        try {
            loadState(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- helpers

    private Slot[] freshSlots() {
        Slot[] out = new Slot[params.size()];
        for (int i = 0; i < out.length; i++) {
            Tensor p = params.get(i);
            out[i] = new Slot(p.shape(), p.dtype() == DType.F64 ? DType.F64 : DType.F32);
        }
        return out;
    }

    /** A contiguous array in GC-managed memory (never in a scope), filled with {@code value}. */
    private static NDArray filled(DType dtype, long[] shape, double value) {
        NDArray a = allocate(dtype, shape);
        if (value != 0) {
            FlatAccess f = FlatAccess.of(a);
            for (long i = 0; i < a.numel(); i++) f.set(i, value);
        }
        return a;
    }

    private static NDArray copy(NDArray src, DType dtype) {
        NDArray a = allocate(dtype, src.shape());
        FlatAccess from = FlatAccess.of(src), to = FlatAccess.of(a);
        for (long i = 0; i < a.numel(); i++) to.set(i, from.get(i));
        return a;
    }

    private static NDArray allocate(DType dtype, long[] shape) {
        long n = 1;
        long[] strides = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            strides[d] = n;
            n = Math.multiplyExact(n, shape[d]);
        }
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, n * dtype.byteSize()), 64);
        return NDArray.wrap(seg, dtype, shape, strides, 0);
    }
}
