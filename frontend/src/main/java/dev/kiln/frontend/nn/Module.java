package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Base class of layers and models, as {@code torch.nn.Module}. Parameters and submodules are found
 * automatically in instance fields (of type {@link Parameter}, {@code Module}, or a {@code List} or
 * array of modules), in declaration order, superclass fields first.
 */
public abstract class Module {

    private boolean training = true;
    private final Map<String, Parameter> registeredParameters = new LinkedHashMap<>();
    private final Map<String, Buffer> registeredBuffers = new LinkedHashMap<>();
    private final Map<String, Module> registeredModules = new LinkedHashMap<>();

    /**
     * Registers a parameter under an explicit name, for layers whose parameter names are computed
     * (LSTM's {@code weight_ih_l0}) or must match PyTorch's ({@code in_proj_weight}); returns it.
     */
    protected Parameter registerParameter(String name, Parameter p) { return register(registeredParameters, name, p); }

    protected Buffer registerBuffer(String name, Buffer b) { return register(registeredBuffers, name, b); }

    protected <M extends Module> M registerModule(String name, M m) {
        register(registeredModules, name, (Module) m);
        return m;
    }

    /** Whether {@code value} was registered by name; its field then adds nothing (the registered name wins). */
    private boolean isRegistered(Object value) {
        for (Map<String, ?> m : List.of(registeredParameters, registeredBuffers, registeredModules)) {
            for (Object v : m.values()) if (v == value) return true;
        }
        return false;
    }

    private <T> T register(Map<String, T> map, String name, T value) {
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) throw new IllegalArgumentException("invalid name '" + name + "'");
        if (map.putIfAbsent(name, value) != null) throw new IllegalArgumentException(getClass().getSimpleName() + ": '" + name + "' registered twice");
        return value;
    }

    /**
     * Runs the module. The default passes a single input to {@link #forward(Tensor)}; modules with
     * several inputs or outputs override this instead.
     */
    public Object call(Tensor... inputs) {
        if (inputs.length != 1) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " takes 1 input, got " + inputs.length
                    + "; override call(Tensor...) for other arities");
        }
        return forward(inputs[0]);
    }

    /** The computation of a single-input module. */
    public Tensor forward(Tensor input) {
        throw new UnsupportedOperationException(getClass().getName() + " overrides neither forward(Tensor) nor call(Tensor...)");
    }

    /** Direct submodules by field name (list elements as {@code name.0}, {@code name.1}, ...). */
    public Map<String, Module> namedChildren() {
        Map<String, Module> out = new LinkedHashMap<>();
        for (Field f : instanceFields()) {
            Object v = read(f);
            if (isRegistered(v)) continue;
            if (v instanceof Module m) out.put(f.getName(), m);
            else if (v instanceof List<?> list) addAll(out, f.getName(), list);
            else if (v instanceof Module[] arr) addAll(out, f.getName(), List.of(arr));
        }
        out.putAll(registeredModules);
        return out;
    }

    /** This module's own parameters by field name (not its children's). */
    protected Map<String, Parameter> ownParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (Field f : instanceFields()) {
            if (read(f) instanceof Parameter p && !isRegistered(p)) out.put(f.getName(), p);
        }
        out.putAll(registeredParameters);
        return out;
    }

    /** This module's own buffers by field or registered name. */
    protected Map<String, Buffer> ownBuffers() {
        Map<String, Buffer> out = new LinkedHashMap<>();
        for (Field f : instanceFields()) {
            if (read(f) instanceof Buffer b && !isRegistered(b)) out.put(f.getName(), b);
        }
        out.putAll(registeredBuffers);
        return out;
    }

    /** All buffers, recursively, by dotted path. */
    public Map<String, Buffer> namedBuffers() {
        Map<String, Buffer> out = new LinkedHashMap<>(ownBuffers());
        namedChildren().forEach((name, child) -> child.namedBuffers().forEach((b, v) -> out.put(name + "." + b, v)));
        return out;
    }

    /** Parameters and buffers by dotted path: the module's whole state, as PyTorch's state_dict. */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>(namedParameters());
        out.putAll(namedBuffers());
        return out;
    }

    /**
     * Copies {@code state} into this module's parameters and buffers. Every key must be known and
     * present, with the right shape and dtype; all of that is checked before anything is written, so
     * a failed load changes nothing.
     */
    public void loadStateDict(Map<String, ? extends Tensor> state) {
        Map<String, Tensor> mine = stateDict();
        List<String> problems = new ArrayList<>();
        for (String key : mine.keySet()) if (!state.containsKey(key)) problems.add("missing key '" + key + "'");
        for (String key : state.keySet()) if (!mine.containsKey(key)) problems.add("unexpected key '" + key + "'");
        mine.forEach((key, t) -> {
            Tensor v = state.get(key);
            if (v != null && (!java.util.Arrays.equals(v.shape(), t.shape()) || v.dtype() != t.dtype())) {
                problems.add("key '" + key + "': expected " + t.dtype() + java.util.Arrays.toString(t.shape()) + ", got "
                        + v.dtype() + java.util.Arrays.toString(v.shape()));
            }
        });
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".loadStateDict: " + String.join("; ", problems));
        }
        try (var _ = dev.kiln.frontend.autograd.Autograd.noGrad()) {
            mine.forEach((key, t) -> {
                t.data().assign(state.get(key).data());
                t.bumpVersion();
            });
        }
    }

    /**
     * Saves {@link #stateDict()} to a safetensors file (readable by other tools), atomically and never through a
     * symbolic link, as {@link dev.kiln.frontend.io.SafeTensors#save(java.util.Map, java.nio.file.Path)} does.
     */
    public void saveWeights(java.nio.file.Path file) throws java.io.IOException {
        dev.kiln.frontend.io.SafeTensors.save(stateDict(), file);
    }

    /**
     * Loads weights saved by {@link #saveWeights} (or any safetensors file with this module's keys);
     * a malformed file or mismatched keys or shapes fail with nothing changed.
     */
    public void loadWeights(java.nio.file.Path file) throws java.io.IOException {
        loadStateDict(dev.kiln.frontend.io.SafeTensors.load(file).tensors());
    }

    /** Clears every parameter's gradient (PyTorch's zero_grad with set_to_none=True). */
    public void zeroGrad() { parameters().forEach(p -> p.setGrad(null)); }

    /** Calls {@code fn} on every submodule (depth first, children before parents) and on this one; returns this. */
    public Module apply(java.util.function.Consumer<Module> fn) {
        namedChildren().values().forEach(c -> c.apply(fn));
        fn.accept(this);
        return this;
    }

    /** All parameters, recursively, by dotted path such as {@code features.0.weight}. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>(ownParameters());
        namedChildren().forEach((name, child) -> child.namedParameters().forEach((p, v) -> out.put(name + "." + p, v)));
        return out;
    }

    public List<Parameter> parameters() { return new ArrayList<>(namedParameters().values()); }

    /** Total number of parameter elements. */
    public long parameterCount() {
        return namedParameters().values().stream().mapToLong(Tensor::numel).sum();
    }

    /** Sets training mode on this module and all submodules; returns this. */
    public Module train(boolean mode) {
        training = mode;
        namedChildren().values().forEach(c -> c.train(mode));
        return this;
    }

    public Module train() { return train(true); }

    public Module eval() { return train(false); }

    public boolean isTraining() { return training; }

    /** The configuration shown in the summary, e.g. {@code in_features=784, out_features=512}. */
    protected String extraRepr() { return ""; }

    /** A PyTorch-style summary: the module tree with each layer's configuration. */
    @Override
    public String toString() {
        Map<String, Module> children = namedChildren();
        String head = getClass().getSimpleName() + "(" + extraRepr();
        if (children.isEmpty()) return head + ")";
        StringBuilder sb = new StringBuilder(head).append('\n');
        children.forEach((name, child) -> sb.append("  (").append(name).append("): ")
                .append(child.toString().replace("\n", "\n  ")).append('\n'));
        return sb.append(')').toString();
    }

    private List<Field> instanceFields() {
        List<Class<?>> chain = new ArrayList<>();
        for (Class<?> c = getClass(); c != Module.class; c = c.getSuperclass()) chain.add(c);
        Collections.reverse(chain);
        List<Field> fields = new ArrayList<>();
        for (Class<?> c : chain) {
            for (Field f : c.getDeclaredFields()) {
                if (!Modifier.isStatic(f.getModifiers()) && !f.isSynthetic()) fields.add(f);
            }
        }
        return fields;
    }

    private Object read(Field f) {
        try {
            f.setAccessible(true);
            return f.get(this);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot read field " + f.getDeclaringClass().getName() + "." + f.getName()
                    + " to find parameters: " + e.getMessage(), e);
        }
    }

    private static void addAll(Map<String, Module> out, String name, List<?> items) {
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i) instanceof Module m) out.put(name + "." + i, m);
        }
    }
}
