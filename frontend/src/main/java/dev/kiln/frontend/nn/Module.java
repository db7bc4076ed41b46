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
            if (v instanceof Module m) out.put(f.getName(), m);
            else if (v instanceof List<?> list) addAll(out, f.getName(), list);
            else if (v instanceof Module[] arr) addAll(out, f.getName(), List.of(arr));
        }
        return out;
    }

    /** This module's own parameters by field name (not its children's). */
    protected Map<String, Parameter> ownParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (Field f : instanceFields()) {
            if (read(f) instanceof Parameter p) out.put(f.getName(), p);
        }
        return out;
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
